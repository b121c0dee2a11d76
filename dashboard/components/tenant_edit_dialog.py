"""The tenant page's *Edit* and *Delete* actions, through the services only.

*Edit* opens a dialog with the tenant's values. A field that may no longer change (ERPNext holds
something made from it: engine/services/tenant_edit.py) is shown disabled, its reason above the
fields; saving sends only what changed, with the same rules as PATCH /api/v1/tenants/{id}, and shows
each error under its field. *Delete* asks first, then deletes through engine/services/tenant_removal.py.
Both act as the signed-in user read again at that moment, with the role of their REST route (support
or admin to edit, admin to delete: session.acting).

    if await edit_tenant(db, tenant_id): ...   # saved: re-read the page
    if await delete_tenant(db, tenant_id, 'Acme'): ...   # deleted: leave the page
"""

from __future__ import annotations

from typing import Any

from nicegui import run, ui
from pydantic import ValidationError

from dashboard.components.confirm import confirm
from dashboard.components.form_fields import clear_error_on_change, whole_number
from dashboard.components.notify import notify
from dashboard.components.tenant_form import COUNTRIES, CURRENCIES
from dashboard.session import ADMIN_ONLY, SUPPORT_PLUS, acting
from engine.services import engines, tenant_edit, tenant_removal
from engine.services.tenant_edit import EditRules
from engine.validation import Conflict, InvalidInput, ServiceError, TenantUpdate, describe_errors
from storage.db import Database
from storage.tables import Engine, Tenant, TenantStatus

TAKEN = {'name': 'a tenant named ', 'company_name': 'company_name: '}  # Conflicts shown under a field
LABELS = {'name': 'Name', 'company_name': 'Company name', 'country': 'Country', 'currency': 'Currency',
          'admin_email': 'Admin e-mail', 'engine': 'Engine', 'stores': 'Stores'}


async def edit_tenant(db: Database, tenant_id: int) -> bool:
    """Show the Edit dialog; True once a change was saved."""
    try:
        rules = await run.io_bound(tenant_edit.edit_rules, db, tenant_id)
        choices = await run.io_bound(engines.list_engines, db)
    except ServiceError as exc:
        notify(exc.message, type='negative', multi_line=True)
        return False
    if rules is None or choices is None:  # the app is shutting down
        return False
    if rules.blocked:
        notify(rules.blocked, type='warning', multi_line=True)
        return False
    dialog = TenantEditDialog(db, rules, choices)
    try:
        return bool(await dialog)
    finally:
        if not dialog.is_deleted:
            dialog.delete()


async def delete_tenant(db: Database, tenant_id: int, name: str) -> bool:
    """Ask, then delete the tenant with its runs; True once it is gone."""
    answer = await confirm('Delete tenant', f"Delete tenant '{name}' and its run history? Nothing of it is in "
                           'ERPNext. The audit log keeps its events. This cannot be undone.',
                           confirm_label='Delete', cancel_label='Keep it', danger=True)
    if answer is None or (admin := await acting(ADMIN_ONLY)) is None:
        return False
    try:
        await run.io_bound(tenant_removal.delete_tenant, db, tenant_id, actor=admin.username)
    except ServiceError as exc:
        notify(exc.message, type='negative', multi_line=True)
        return False
    notify(f"Tenant '{name}' deleted.", type='positive')
    return True


class TenantEditDialog(ui.dialog):
    """The tenant's fields, the locked ones disabled with their reasons; answers True once saved."""

    def __init__(self, db: Database, rules: EditRules, choices: list[Engine]) -> None:
        super().__init__()
        self.db, self.rules = db, rules
        tenant = rules.tenant
        self.current: dict[str, Any] = {'name': tenant.name, 'company_name': tenant.company_name,
                                        'country': tenant.country, 'currency': tenant.currency,
                                        'admin_email': tenant.admin_email, 'engine': tenant.engine_id,
                                        'stores': tenant.stores}
        self.props('persistent')
        self.mark('edit-dialog')
        with self, ui.card().classes('w-[32rem] max-w-full'):
            ui.label(f"Edit tenant '{tenant.name}'").classes('text-lg font-semibold')
            self._reasons()
            self.fields = self._fields(choices)
            with ui.row().classes('w-full justify-end gap-2'):
                ui.button('Cancel', on_click=lambda: self.submit(False)).props('flat').mark('edit-cancel')
                self.save_button = ui.button('Save', on_click=self.save).mark('edit-save')

    def _reasons(self) -> None:
        """Why fields are locked: one line per reason, naming its fields."""
        by_reason: dict[str, list[str]] = {}
        for key, reason in self.rules.locked.items():
            by_reason.setdefault(reason, []).append(LABELS[key])
        if self.rules.min_stores_reason:
            by_reason.setdefault(f'at least {self.rules.min_stores}: {self.rules.min_stores_reason}', []) \
                .append(LABELS['stores'])
        for reason, labels in by_reason.items():
            ui.label(f"{', '.join(labels)}: {reason}.").classes('text-sm text-gray-700 wrap-anywhere') \
                .mark('edit-locked')

    def _fields(self, choices: list[Engine]) -> dict[str, Any]:
        values = self.current
        fields: dict[str, Any] = {
            'name': ui.input(LABELS['name'], value=values['name']),
            'company_name': ui.input(LABELS['company_name'], value=values['company_name']),
            'country': ui.input(LABELS['country'], value=values['country'], autocomplete=COUNTRIES),
            'currency': ui.input(LABELS['currency'], value=values['currency'], autocomplete=CURRENCIES),
            'admin_email': ui.input(LABELS['admin_email'], value=values['admin_email']),
            # No min/max (as on New tenant): ui.number would clamp 200 to 20, or 1 to the fewest stores
            # ERPNext holds, without a word; the model's or the service's error says why instead.
            'stores': ui.number(f"{LABELS['stores']} (POS outlets, {self.rules.min_stores}–20)", value=values['stores'],
                                precision=0),
            'engine': ui.select({engine.id: engine.name for engine in choices}, label=LABELS['engine'],
                                value=values['engine']),
        }
        for key, element in fields.items():
            element.classes('w-full').props('error=false').mark(f'edit-{key.replace("_", "-")}')
            clear_error_on_change(element)
            if key in self.rules.locked:
                element.disable()
        return fields

    async def save(self) -> None:
        changes = self._changes()
        if changes is None:
            return
        if not changes:
            self.submit(False)
            return
        self.save_button.disable()
        try:
            if (user := await acting(SUPPORT_PLUS)) is None:
                self.submit(False)
                return
            tenant = await run.io_bound(tenant_edit.update_tenant, self.db, self.rules.tenant.id, changes,
                                        actor=user.username)
        except InvalidInput as exc:
            self._show_error(exc.field, exc.message.removeprefix(f'{exc.field}: '))
            return
        except Conflict as exc:  # a taken name belongs under its field; other refusals name their fields
            field = next((key for key, start in TAKEN.items() if exc.message.startswith(start)), None)
            too_few = exc.message.removeprefix(f"{_refused(self.rules.tenant)}stores: ")
            if field is not None:
                self._show_error(field, exc.message.removeprefix('company_name: '))
            elif too_few != exc.message and '; ' not in too_few:  # fewer stores than ERPNext holds, alone
                self._show_error('stores', too_few)
            else:
                notify(exc.message, type='negative', multi_line=True)
            return
        except ServiceError as exc:
            notify(exc.message, type='negative', multi_line=True)
            return
        finally:
            self.save_button.enable()
        if tenant is None:  # the app is shutting down
            return
        notify(_saved(self.rules.tenant, tenant), type='positive', multi_line=True)
        self.submit(True)

    def _changes(self) -> TenantUpdate | None:
        """The fields that differ from the tenant's, checked; None after showing every error by its field."""
        values = {key: element.value for key, element in self.fields.items()}
        values['stores'] = whole_number(values['stores'])
        changed = {key: value for key, value in values.items()
                   if key not in self.rules.locked and _differs(value, self.current[key])}
        try:
            return TenantUpdate.model_validate(changed)
        except ValidationError as exc:
            for field, message in describe_errors(exc):
                self._show_error(field.split('.')[0], message)
            return None

    def _show_error(self, field: str, message: str) -> None:
        element = self.fields.get(field)
        if element is None:
            notify(f'{field}: {message}', type='negative', multi_line=True)
        else:
            element.error = message


def _saved(before: Tenant, after: Tenant) -> str:
    """'Saved: …' naming what changed, and what to do next when ERPNext already holds some of the tenant."""
    fields = [key for key in LABELS if getattr(before, _column(key)) != getattr(after, _column(key))]
    if not fields:
        return 'Nothing changed.'
    words = f"Saved: {', '.join(LABELS[key].lower() for key in fields)}."
    in_erpnext = before.status not in (TenantStatus.NOT_STARTED, TenantStatus.DEPROVISIONED)
    if in_erpnext and 'stores' in fields and after.stores > before.stores:
        words += ' Provision again to make the new stores (their warehouses and POS profiles).'
    if in_erpnext and 'admin_email' in fields:
        words += " Retry the step 'Invite tenant admin' (or provision again) to invite the new address."
    return words


def _refused(tenant: Tenant) -> str:
    """How the service's refusal of locked fields (or of too few stores) begins."""
    # NOTE: the words of engine/services/tenant_edit.py `_refuse_locked`.
    return f"Tenant '{tenant.name}' cannot be changed so: "


def _column(key: str) -> str:
    return 'engine_id' if key == 'engine' else key


def _differs(value: Any, current: Any) -> bool:
    if isinstance(value, str) and isinstance(current, str):
        return value.strip() != current
    return value != current
