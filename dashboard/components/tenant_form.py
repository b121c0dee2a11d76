"""The *New tenant* dialog: the REST API's rules (`TenantCreate`), each error shown under its field;
it creates as the signed-in user read again at that moment, while still support or admin."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pycountry
from nicegui import run, ui
from pydantic import ValidationError

from dashboard.components.form_fields import clear_error_on_change, whole_number
from dashboard.components.notify import notify
from dashboard.session import SUPPORT_PLUS, acting
from engine.services import tenants
from engine.validation import (
    ERPNEXT_COUNTRY_NAMES,
    Conflict,
    InvalidInput,
    ServiceError,
    TenantCreate,
    describe_errors,
)
from storage.db import Database
from storage.tables import Engine, EngineHealth, Tenant

COUNTRIES = sorted({ERPNEXT_COUNTRY_NAMES.get(c.alpha_2, c.name) for c in pycountry.countries})
CURRENCIES = sorted(c.alpha_3 for c in pycountry.currencies)


class TenantForm:
    """A dialog that creates a tenant through the tenants service; `open()` shows it."""

    def __init__(self, db: Database, *, engines: list[Engine],
                 on_created: Callable[[Tenant], Awaitable[None]]) -> None:
        self.db, self.on_created = db, on_created
        with ui.dialog() as self.dialog, ui.card().classes('w-[32rem] max-w-full'):
            ui.label('New tenant').classes('text-lg font-semibold')
            self.fields: dict[str, Any] = {
                'name': ui.input('Name', placeholder='Acme Retail').mark('tenant-name'),
                'country': ui.input('Country', placeholder='United States', autocomplete=COUNTRIES)
                .mark('tenant-country'),
                'currency': ui.input('Currency', placeholder='USD', autocomplete=CURRENCIES)
                .mark('tenant-currency'),
                'admin_email': ui.input('Admin e-mail', placeholder='ops@acme.com')
                .mark('tenant-admin-email'),
                # No min/max: ui.number would clamp 200 to 20 without a word; the model's error says why.
                'stores': ui.number('Stores (POS outlets, 1–20)', value=1)
                .mark('tenant-stores'),
                'engine': ui.select({e.id: e.name for e in engines}, label='Engine',
                                    value=default_engine(engines)).mark('tenant-engine'),
            }
            for key, element in self.fields.items():
                element.classes('w-full').props('error=false')  # keeps room for the message under the field
                clear_error_on_change(element)
                if key != 'engine':  # Enter in the select picks an option
                    element.on('keydown.enter', self.submit)
            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=self.dialog.close).props('flat')
                self.submit_button = ui.button('Create tenant', on_click=self.submit).mark('tenant-create')

    def open(self) -> None:
        self.dialog.open()

    async def submit(self) -> None:
        if not self.submit_button.enabled:  # Enter pressed again while the first one is being saved
            return
        data = self._validated()
        if data is None:
            return
        self.submit_button.disable()
        try:
            if (user := await acting(SUPPORT_PLUS)) is None:  # as POST /api/v1/tenants
                self.dialog.close()
                return
            tenant = await run.io_bound(tenants.create_tenant, self.db, data, actor=user.username)
        except (InvalidInput, Conflict) as exc:
            self._show_service_error(exc)
            return
        except ServiceError as exc:
            notify(exc.message, type='negative')
            return
        finally:
            self.submit_button.enable()
        if tenant is None:  # the app is shutting down
            return
        notify(f"Tenant '{tenant.name}' created.", type='positive')
        self.dialog.close()
        self._reset()
        await self.on_created(tenant)

    # ---- helpers --------------------------------------------------------------------------------

    def _validated(self) -> TenantCreate | None:
        """The form as a TenantCreate, or None after showing every error next to its field."""
        values = {key: element.value for key, element in self.fields.items()}
        try:
            return TenantCreate.model_validate({**values, 'stores': whole_number(values['stores'])})
        except ValidationError as exc:
            for field, message in describe_errors(exc):
                element = self.fields.get(field.split('.')[0])
                if element is None:
                    notify(f'{field}: {message}', type='negative')
                else:
                    element.error = _required(field, values.get(field.split('.')[0])) or message
            return None

    def _show_service_error(self, exc: InvalidInput | Conflict) -> None:
        field = exc.field if isinstance(exc, InvalidInput) else 'name'
        message = exc.message.removeprefix(f'{field}: ')
        if field in self.fields:
            self.fields[field].error = message
        else:
            notify(exc.message, type='negative')

    def _reset(self) -> None:
        for key in ('name', 'admin_email'):
            self.fields[key].value = ''
        for element in self.fields.values():
            element.error = None


def default_engine(engines: list[Engine]) -> int | None:
    """The engine a new tenant starts with: the first online one (often the only one), else the first."""
    online = [engine for engine in engines if engine.health == EngineHealth.ONLINE]
    chosen = (online or engines)[:1]
    return chosen[0].id if chosen else None


def _required(field: str, value: Any) -> str | None:
    """The message for a field left empty (the model's own words are about a bad value)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 'choose an engine' if field == 'engine' else 'required'
    return None
