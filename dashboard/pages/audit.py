"""Audit log (admins): who did what, newest first, filtered by action, actor, tenant and correlation id
(the events of one run or one CSV import; each event's id links to that filter) and paged on the server.
Read-only: nothing here changes or deletes an event. The filters live in the URL
(`?action=&actor=&tenant=&correlation_id=&page=`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from nicegui import run, ui

from dashboard import session
from dashboard.components.audit_words import details_words
from dashboard.components.formatting import step_title
from dashboard.session import ADMIN_ONLY, guarded_page
from engine.services import audit, names
from engine.validation import MAX_ID, ServiceError
from storage.tables import AuditEvent, User

PAGE_SIZE = 25


@guarded_page('/audit', title='Audit log', roles=ADMIN_ONLY)
async def audit_page(user: User, action: str = '', actor: str = '', tenant: str = '',
                     correlation_id: str = '', page: str = '1') -> None:
    view = Filters(action=action.strip(), actor=actor.strip(), tenant=tenant.strip(),
                   correlation_id=correlation_id.strip(),
                   page=int(page) if page.isdecimal() and 0 < len(page) < 10 and int(page) > 0 else 1)
    log = AuditLog(view)
    await log.load_actions()
    await log.load()


@dataclass(frozen=True)
class Filters:
    action: str = ''
    actor: str = ''
    tenant: str = ''
    correlation_id: str = ''
    page: int = 1

    def url(self) -> str:
        query = {'action': self.action, 'actor': self.actor, 'tenant': self.tenant,
                 'correlation_id': self.correlation_id, 'page': self.page if self.page > 1 else ''}
        text = urlencode({key: value for key, value in query.items() if value})
        return f'/audit?{text}' if text else '/audit'


class AuditLog:
    """Filter inputs, one page of events and the pager, for one browser tab."""

    def __init__(self, view: Filters) -> None:
        self.db, self.view = session.database(), view
        self.names: tuple[dict[int, str], dict[int, str]] = ({}, {})  # tenant and engine names
        with ui.row().classes('w-full items-end gap-4'):
            self.inputs = {
                # pick a key, a group (`run.` = every run action) or type the start of one
                'action': ui.select({view.action: view.action} if view.action else {}, label='Action',
                                    value=view.action or None, with_input=True, new_value_mode='add-unique',
                                    on_change=self.apply).classes('w-64').mark('audit-action'),
                'actor': ui.input('Actor', value=view.actor, placeholder='username (any case)')
                .mark('audit-actor'),
                'tenant': ui.input('Tenant (name or id)', value=view.tenant).classes('w-56')
                .mark('audit-tenant'),
                # exactly: one run's events, or one CSV import's (its tenant.imported and tenant.created)
                'correlation_id': ui.input('Correlation id', value=view.correlation_id).classes('w-80')
                .mark('audit-correlation'),
            }
            for key, element in self.inputs.items():
                element.props('clearable dense')
                if key != 'action':
                    element.on('keydown.enter', self.apply)
            ui.button('Filter', icon='filter_alt', on_click=self.apply).mark('audit-filter')
            ui.button('Clear', on_click=self.clear).props('flat').mark('audit-clear')
        self.problem = ui.label('').classes('text-orange-800').mark('audit-problem')
        self.events = ui.column().classes('w-full gap-2')
        with ui.row().classes('w-full items-center gap-4') as self.footer:
            self.range = ui.label('').mark('audit-range')
            ui.space()
            self.pager = ui.pagination(1, 1, direction_links=True, value=view.page,
                                       on_change=self._page_changed).mark('audit-pager')

    async def apply(self) -> None:
        values = {key: (element.value or '').strip() for key, element in self.inputs.items()}
        await self.show(replace(self.view, **values, page=1))

    async def clear(self) -> None:
        for element in self.inputs.values():
            element.value = None if element is self.inputs['action'] else ''
        await self.show(Filters())

    async def load_actions(self) -> None:
        """Offer the action keys in the log, each group first (`run.` for every run action)."""
        keys = await run.io_bound(audit.known_actions, self.db)
        if keys is None:  # the app is shutting down
            return
        select = self.inputs['action']
        select.set_options(_action_options(keys, select.value), value=select.value)

    async def show(self, view: Filters) -> None:
        self.view = view
        ui.navigate.history.replace(view.url())
        await self.load()

    async def load(self) -> None:
        view = self.view
        tenant_id = _tenant_id(view.tenant)
        if tenant_id is False:  # not an id: a name?
            tenant_id = await run.io_bound(names.tenant_id_named, self.db, view.tenant) or False
        if tenant_id is False:
            self._refuse(f"No tenant is named '{view.tenant[:80]}' (and it is no tenant id).")
            return
        try:
            page = await run.io_bound(audit.list_events, self.db, limit=PAGE_SIZE,
                                      offset=(view.page - 1) * PAGE_SIZE, action=view.action or None,
                                      actor=view.actor or None, tenant_id=tenant_id,
                                      correlation_id=view.correlation_id or None)
            if page is not None:
                self.names = await run.io_bound(_names_for, self.db, page.items) or ({}, {})
        except ServiceError as exc:
            self._refuse(exc.message)
            return
        if page is None:  # the app is shutting down
            return
        last_page = max(1, math.ceil(page.total / PAGE_SIZE))
        if view.page > last_page and page.total:
            await self.show(replace(view, page=last_page))
            return
        self._draw(page.items, page.total)

    def _refuse(self, message: str) -> None:
        """A filter that cannot be applied: only the reason shows (no empty list, no pager beneath it),
        and the inputs keep what was typed, to be corrected (QA pass 7, finding 10)."""
        self.problem.set_text(message)
        self.events.clear()
        self.footer.set_visibility(False)

    def _draw(self, items: list[AuditEvent], total: int) -> None:
        self.problem.set_text('')
        self.footer.set_visibility(True)
        self.events.clear()
        with self.events:
            if not items:
                ui.label('No events match.').classes('text-grey-7').mark('audit-empty')
            for event in items:
                _event(event, *self.names)
        first = (self.view.page - 1) * PAGE_SIZE
        self.range.set_text(f'{first + 1}–{first + len(items)} of {total}' if items else f'0 of {total}')
        self.pager.max = max(1, math.ceil(total / PAGE_SIZE))
        self.pager.set_value(self.view.page)

    async def _page_changed(self, event: Any) -> None:
        if event.value and event.value != self.view.page:
            await self.show(replace(self.view, page=int(event.value)))


def _event(event: AuditEvent, tenants: dict[int, str], engines: dict[int, str]) -> None:
    """One event: when, who, what, where (the tenant by name, linked), and its details as text."""
    with ui.card().classes('w-full py-2').mark(f'audit-event-{event.id}'):
        with ui.row().classes('w-full items-center gap-x-4 gap-y-0 text-sm'):
            ui.label(f'{event.at:%Y-%m-%d %H:%M:%S} UTC').classes('text-grey-7')
            ui.label(event.actor).classes('font-semibold')
            ui.label(event.action).classes('font-mono')
            if event.tenant_id is not None:
                name = tenants.get(event.tenant_id)
                if name is None:  # e.g. a tenant whose creation was refused
                    ui.label(f'tenant #{event.tenant_id}')
                else:
                    ui.link(name, f'/tenants/{event.tenant_id}').classes('break-all') \
                        .mark(f'audit-tenant-{event.id}')
            if event.run_id is not None:
                ui.label(f'run #{event.run_id}')
            if event.step_key:
                ui.label(f'step {step_title(event.step_key)}')
            ui.space()
            if event.correlation_id:  # every event of its run or CSV import
                ui.link(f'correlation id {event.correlation_id}', Filters(correlation_id=event.correlation_id).url()) \
                    .classes('font-mono text-xs break-all').mark(f'audit-correlation-{event.id}')
        details = names.with_engine_name(event.details, engines)
        if details:
            ui.label(details_words(details)).classes('text-xs text-grey-9 break-words') \
                .mark(f'audit-details-{event.id}')


def _names_for(db, items: list[AuditEvent]) -> tuple[dict[int, str], dict[int, str]]:
    tenant_ids = [event.tenant_id for event in items]
    engines = names.engine_names(db) if any('engine_id' in (event.details or {}) for event in items) else {}
    return names.tenant_names(db, tenant_ids), engines


def _tenant_id(text: str) -> int | None | bool:
    """None for no filter, the id, or False when the text is no usable id."""
    if not text:
        return None
    if text.isdecimal() and len(text) < 20 and 1 <= int(text) <= MAX_ID:
        return int(text)
    return False


def _action_options(keys: list[str], current: str | None) -> dict[str, str]:
    """`{value: label}`: each group (`run.`) followed by its keys, plus what the URL asked for."""
    options: dict[str, str] = {}
    for key in sorted(set(keys) | ({current} if current else set())):
        group = key.split('.', 1)[0] + '.' if '.' in key else None
        if group and group not in options and group != key:
            options[group] = f'{group} (every {group[:-1]} action)'
        options[key] = key
    return options

