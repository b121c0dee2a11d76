"""Engines (admins): the ERPNext sites runs go to, their health, and *Add*, *Edit*, *Test
connection* and *Delete* (after a confirmation; refused while a tenant uses the engine). The API
secret is write-only: the form never shows it, and an empty secret on edit keeps the stored one.
Each action acts as the signed-in user read again at that moment, with the role its REST route
requires (session.acting)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import app, run, ui
from pydantic import ValidationError

from dashboard import session, state
from dashboard.components.confirm import confirm
from dashboard.components.form_fields import clear_error_on_change, whole_number
from dashboard.components.notify import notify
from dashboard.components.status import status_badge
from dashboard.session import ADMIN_ONLY, SUPPORT_PLUS, acting, guarded_page
from engine.process import HEALTH_EVERY_SECONDS, OFFLINE_RECHECK_SECONDS
from engine.services import engines
from engine.services.engines import EngineCheck
from engine.validation import (
    DEFAULT_REQUESTS_PER_SECOND,
    MAX_REQUESTS_PER_SECOND,
    Conflict,
    EngineCreate,
    EngineUpdate,
    InvalidInput,
    ServiceError,
    describe_errors,
)
from storage.db import Database
from storage.tables import Engine, User

REFRESH_S = 10.0
HEALTH_TEXT = (f'ERPNext sites the runs provision into. Health is checked every {HEALTH_EVERY_SECONDS:g} seconds, '
               f'and every {OFFLINE_RECHECK_SECONDS:g} seconds while an engine is offline (its waiting runs '
               'start soon after it answers again).')


@guarded_page('/engines', title='Engines', roles=ADMIN_ONLY)
async def engines_page(user: User) -> None:
    await EngineList(user).load()


class EngineList:
    """The engine cards of one browser tab, re-read every few seconds (health checks run on their own)."""

    def __init__(self, user: User) -> None:
        self.db = session.database()
        self.results: dict[int, EngineCheck] = {}
        self.form = EngineForm(self.db, on_saved=self.load)
        with ui.row().classes('w-full items-center'):
            ui.label(HEALTH_TEXT).classes('text-grey-7').mark('engines-health-text')
            ui.space()
            ui.button('Add engine', icon='add', on_click=lambda: self.form.open(None)).mark('engine-add')
        self.list = ui.column().classes('w-full gap-3')
        self.shown: list[tuple] | None = None
        ui.timer(REFRESH_S, self.load)

    async def load(self) -> None:
        rows = await run.io_bound(engines.list_engines, self.db)
        snapshot = [_fingerprint(engine) for engine in rows]
        if snapshot == self.shown:
            return
        self.shown = snapshot
        self.list.clear()
        with self.list:
            if not rows:
                ui.label('No engine yet: add one.').mark('engines-empty')
            for engine in rows:
                self._card(engine)

    def _card(self, engine: Engine) -> None:
        with ui.card().classes('w-full').mark(f'engine-{engine.id}'):
            with ui.row().classes('w-full items-center gap-3'):
                ui.label(engine.name).classes('text-lg font-semibold')
                status_badge(engine.health).mark(f'engine-health-{engine.id}')
                ui.space()
                ui.button('Test connection', icon='network_check',
                          on_click=lambda e=engine: self.test(e)) \
                    .props('flat').mark(f'engine-test-{engine.id}')
                ui.button('Edit', icon='edit', on_click=lambda e=engine: self.form.open(e)) \
                    .props('flat').mark(f'engine-edit-{engine.id}')
                ui.button('Delete', icon='delete', on_click=lambda e=engine: self.delete(e)) \
                    .props('flat color=negative').mark(f'engine-delete-{engine.id}')
            with ui.grid(columns='max-content minmax(0, 1fr)').classes('w-full gap-x-6 gap-y-1 text-sm'):
                for label, value in _facts(engine):
                    ui.label(label).classes('text-grey-7')
                    ui.label(value).classes('break-all').mark(f"engine-{label.lower().replace(' ', '-')}-{engine.id}")
            if engine.last_error:
                ui.label(f'Last error: {engine.last_error}').classes('text-sm text-red-8') \
                    .mark(f'engine-error-{engine.id}')
            result = self.results.get(engine.id)
            if result is not None:
                ui.label(_check_text(engine.name, result)).classes('text-sm') \
                    .mark(f'engine-check-{engine.id}')

    async def test(self, engine: Engine) -> None:
        """Call ERPNext now, as the periodic check does, and show what it answered."""
        if (user := await acting(SUPPORT_PLUS)) is None:  # as POST /engines/{id}/check
            return
        transport = state.erpnext_transport(app)
        secrets = app.state.secrets
        notify(f"Checking '{engine.name}'…")
        try:
            result = await engines.check_engine(self.db, secrets, engine.id, transport=transport,
                                                actor=user.username)
        except ServiceError as exc:
            notify(exc.message, type='negative')
            return
        self.results[engine.id] = result
        notify(_check_text(engine.name, result), type='positive' if result.error is None else 'negative')
        self.shown = None
        await self.load()


    async def delete(self, engine: Engine) -> None:
        """Remove an engine no tenant uses (the service refuses otherwise, saying how many do)."""
        answer = await confirm(f"Delete engine '{engine.name}'?",
                               f'{engine.base_url} is forgotten: its health checks stop and its open '
                               'alert is resolved. Only an engine no tenant uses can be deleted.',
                               confirm_label='Delete engine', cancel_label='Keep it', danger=True)
        if answer is None or (admin := await acting(ADMIN_ONLY)) is None:
            return
        try:
            await engines.delete_engine(self.db, engine.id, actor=admin.username, clients=state.process_clients(app))
        except ServiceError as exc:
            notify(exc.message, type='negative', multi_line=True)
            return
        self.results.pop(engine.id, None)
        notify(f"Engine '{engine.name}' deleted.", type='positive')
        await self.load()


class EngineForm:
    """The *Add engine* / *Edit engine* dialog, validated with EngineCreate / EngineUpdate."""

    def __init__(self, db: Database, *, on_saved: Callable[[], Awaitable[None]]) -> None:
        self.db, self.on_saved = db, on_saved
        self.engine: Engine | None = None
        with ui.dialog() as self.dialog, ui.card().classes('w-[32rem] max-w-full'):
            self.title = ui.label('').classes('text-lg font-semibold')
            self.fields: dict[str, Any] = {
                'name': ui.input('Name', placeholder='Main ERP').mark('engine-name'),
                'base_url': ui.input('Base URL', placeholder='https://erp.example.com').mark('engine-url'),
                'api_key': ui.input('API key').mark('engine-key'),
                'api_secret': ui.input('API secret', password=True, password_toggle_button=False)
                .props('autocomplete=new-password').mark('engine-secret'),
                # No min/max: ui.number would clamp 100000 to 64 without a word; the model's error says why.
                'max_concurrent_runs': ui.number('Max concurrent runs (1–64)', value=4).mark('engine-max-runs'),
                'requests_per_second': ui.number(f'Requests per second (1–{MAX_REQUESTS_PER_SECOND})',
                                                 value=DEFAULT_REQUESTS_PER_SECOND)
                .tooltip('Outbound ERPNext requests a second from each Provisioner process '
                         "(ERPNext's own 429 Retry-After pauses the engine on top)")
                .mark('engine-rps'),
            }
            for element in self.fields.values():
                element.classes('w-full').props('error=false')
                clear_error_on_change(element)
            self.secret_hint = ui.label('Leave the secret empty to keep the stored one.') \
                .classes('text-xs text-grey-7')
            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=self.dialog.close).props('flat')
                self.save_button = ui.button('Save', on_click=self.save).mark('engine-save')

    def open(self, engine: Engine | None) -> None:
        self.engine = engine
        self.title.set_text(f"Edit engine '{engine.name}'" if engine else 'Add engine')
        values = {'name': '', 'base_url': '', 'api_key': '', 'max_concurrent_runs': 4,
                  'requests_per_second': DEFAULT_REQUESTS_PER_SECOND}
        if engine is not None:
            values = {'name': engine.name, 'base_url': engine.base_url, 'api_key': engine.api_key,
                      'max_concurrent_runs': engine.max_concurrent_runs,
                      'requests_per_second': engine.requests_per_second}
        for key, element in self.fields.items():
            element.value = values.get(key, '')  # the secret field always starts empty
            element.error = None
        self.secret_hint.set_visibility(engine is not None)
        self.dialog.open()

    async def save(self) -> None:
        data = self._validated()
        if data is None:
            return
        if (admin := await acting(ADMIN_ONLY)) is None:
            self.dialog.close()
            return
        self.save_button.disable()
        try:
            secrets = app.state.secrets
            if self.engine is None:
                saved = await run.io_bound(engines.create_engine, self.db, secrets, data, actor=admin.username)
            else:
                saved = await engines.edit_engine(self.db, secrets, self.engine.id, data, actor=admin.username,
                                                  clients=state.process_clients(app))
        except (Conflict, InvalidInput) as exc:
            self._show_service_error(exc)
            return
        except ServiceError as exc:
            notify(exc.message, type='negative')
            return
        finally:
            self.save_button.enable()
        self.fields['api_secret'].value = ''
        self.dialog.close()
        notify(f"Engine '{saved.name}' {'added' if self.engine is None else 'updated'}.", type='positive')
        await self.on_saved()

    def _validated(self) -> EngineCreate | EngineUpdate | None:
        values = {key: element.value for key, element in self.fields.items()}
        for key in ('max_concurrent_runs', 'requests_per_second'):
            values[key] = whole_number(values[key])
        if self.engine is not None and not (values['api_secret'] or '').strip():
            values.pop('api_secret')  # empty on edit: keep the stored secret
        model = EngineCreate if self.engine is None else EngineUpdate
        try:
            return model.model_validate(values)
        except ValidationError as exc:
            for field, message in describe_errors(exc):
                element = self.fields.get(field.split('.')[0])
                if element is None:
                    notify(f'{field}: {message}', type='negative')
                else:
                    element.error = message
            return None

    def _show_service_error(self, exc: Conflict | InvalidInput) -> None:
        field = exc.field if isinstance(exc, InvalidInput) else 'name'
        if field in self.fields:
            self.fields[field].error = exc.message.removeprefix(f'{field}: ')
        else:
            notify(exc.message, type='negative')


# ---- helpers -----------------------------------------------------------------------------------

def _facts(engine: Engine) -> list[tuple[str, str]]:
    checked = f'{engine.last_checked_at:%Y-%m-%d %H:%M:%S} UTC' if engine.last_checked_at else 'never'
    return [('Base URL', engine.base_url), ('API key', engine.api_key), ('API secret', 'stored (write-only)'),
            ('Version', engine.version or 'unknown'), ('Last checked', checked),
            ('Max concurrent runs', str(engine.max_concurrent_runs)),
            ('Requests per second', str(engine.requests_per_second))]


def _fingerprint(engine: Engine) -> tuple:
    return (engine.id, engine.name, engine.base_url, engine.api_key, engine.health, engine.version,
            engine.last_checked_at, engine.last_error, engine.max_concurrent_runs, engine.requests_per_second)


def _check_text(name: str, result: EngineCheck) -> str:
    when = f'{result.checked_at:%H:%M:%S} UTC'
    if result.error is None:
        version = f', {result.version}' if result.version else ''
        return f"Connection to '{name}' works ({when}): logged in as {result.user}{version}."
    if not result.sent:
        return f"'{name}' was not checked ({when}): {result.error}"
    return f"Connection to '{name}' failed ({when}): {result.error}"
