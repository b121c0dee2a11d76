"""Tenants: search, filter and page through them (server-side); support staff create, import and
provision. The view lives in the URL (`?status=&engine=&q=&page=&size=&drifted=&warnings=`), so links and
reloads keep it. Each action acts as the signed-in user read again at that moment, while still support
or admin (session.acting)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from nicegui import app, events, run, ui

from dashboard import session, state
from dashboard.components import tenant_rows
from dashboard.components.confirm import confirm
from dashboard.components.csv_import import CsvImport
from dashboard.components.notify import notify
from dashboard.components.status import run_style, style_of
from dashboard.components.tenant_form import TenantForm
from dashboard.session import ANY_ROLE, SUPPORT_PLUS, acting, guarded_page, may
from engine.services import engines as engine_service
from engine.services import runs, tenants
from engine.services.tenants import TenantListing
from engine.validation import Conflict, ServiceError
from storage.tables import ACTIVE_RUN_STATUSES, Engine, TenantStatus, User

PAGE_SIZES = (25, 50, 100)
REFRESH_S = 3.0
PAGER_BUTTONS = 7
ALL = ''


@guarded_page('/tenants', title='Tenants', roles=ANY_ROLE)
async def tenants_page(user: User, status: str = '', engine: str = '', q: str = '', page: str = '1',
                       size: str = '25', drifted: str = '', warnings: str = '') -> None:
    engines = await run.io_bound(engine_service.list_engines, session.database()) or []
    chosen = await run.io_bound(engine_service.engine_by_ref, session.database(), engine)
    view, problems = View.from_query(status=status, engine=engine, q=q, page=page, size=size, chosen=chosen,
                                     drifted=drifted, warnings=warnings)
    await TenantList(user, engines, view, problems).load(fresh=True)


@dataclass(frozen=True)
class View:
    """What the list shows: the filters, the search text and the page."""

    status: str = ALL
    engine_id: int = 0  # 0: every engine
    q: str = ''
    page: int = 1
    size: int = PAGE_SIZES[0]
    drifted: bool = False  # only tenants whose drift check found a difference
    warnings: bool = False  # only tenants whose current run succeeded with warnings

    @classmethod
    def from_query(cls, *, status: str, engine: str, q: str, page: str, size: str,
                   chosen: Engine | None, drifted: str = '', warnings: str = '') -> tuple[View, list[str]]:
        """The view a URL asks for (`chosen`: the engine `engine` names, see engines.engine_by_ref); parts that
        make no sense are dropped and named in `problems`."""
        problems = []
        if status and status not in set(TenantStatus):
            problems.append(f"unknown status '{status}'")
            status = ALL
        engine_id = chosen.id if chosen is not None else 0
        if engine and engine_id == 0:
            problems.append(f"unknown engine '{engine}'")
        size_number = int(size) if size.isdecimal() and int(size) in PAGE_SIZES else PAGE_SIZES[0]
        page_number = int(page) if page.isdecimal() and 0 < len(page) < 10 and int(page) > 0 else 1
        view = cls(status=status, engine_id=engine_id, q=q.strip(), page=page_number, size=size_number,
                   drifted=drifted in ('1', 'true'), warnings=warnings in ('1', 'true'))
        return view, problems

    def url(self) -> str:
        query = {'status': self.status, 'engine': self.engine_id or '', 'q': self.q,
                 'page': self.page if self.page > 1 else '',
                 'size': self.size if self.size != PAGE_SIZES[0] else '', 'drifted': 1 if self.drifted else '',
                 'warnings': 1 if self.warnings else ''}
        text = urlencode({key: value for key, value in query.items() if value})
        return f'/tenants?{text}' if text else '/tenants'


class TenantList:
    """The toolbar, the table and the pager of one browser tab, re-read every few seconds."""

    def __init__(self, user: User, engines: list[Engine], view: View, problems: list[str]) -> None:
        self.db = session.database()
        self.view, self.can_act = view, may(user, SUPPORT_PLUS)
        self.engine_names = {engine.id: engine.name for engine in engines}
        if self.can_act:
            self.form = TenantForm(self.db, engines=engines, on_created=self._created)
            self.importer = CsvImport(self.db, engines=engines, on_imported=self.load)
        self._toolbar(engines)
        self.problem = ui.label('; '.join(problems)).classes('text-orange-800').mark('tenants-problem')
        self.table = self._table()
        with ui.row().classes('w-full items-center gap-4'):
            self.range = ui.label('').mark('tenants-range')
            ui.space()
            ui.select(list(PAGE_SIZES), value=view.size, label='Per page',
                      on_change=lambda e: self.change(size=e.value, page=1)) \
                .classes('w-24').mark('tenants-size')
            # At most PAGER_BUTTONS page numbers, the first and last always among them (400 pages of
            # 10,000 tenants would otherwise be 400 buttons).
            self.pager = ui.pagination(1, 1, direction_links=True, value=view.page, on_change=self._page_changed) \
                .props(f'max-pages={PAGER_BUTTONS} boundary-numbers ellipses').mark('tenants-pager')
        ui.timer(REFRESH_S, self.load)

    async def change(self, **changes: Any) -> None:
        """Open another view (filters, search or page) by its URL: a new history entry, so the
        browser's Back and Forward step through the views the user chose."""
        view = replace(self.view, **changes)
        if view != self.view:
            ui.navigate.to(view.url())

    async def _correct(self, **changes: Any) -> None:
        """Show a view the page chose itself (e.g. the last page when the list shrank) in place of
        the current one: the URL is replaced, not added to the history."""
        self.view = replace(self.view, **changes)
        ui.navigate.history.replace(self.view.url())
        await self.load(fresh=True)

    async def load(self, *, fresh: bool = False) -> None:
        """Re-read the page of the current view (the selection survives unless the view changed)."""
        view = self.view
        try:
            listing = await run.io_bound(tenants.list_tenants_with_runs, self.db, status=view.status or None,
                                         q=view.q, engine_id=view.engine_id or None,
                                         drifted=True if view.drifted else None,
                                         warnings=True if view.warnings else None, limit=view.size,
                                         offset=(view.page - 1) * view.size)
        except ServiceError as exc:
            self.problem.set_text(exc.message)
            self._show([], 0, fresh=True)
            return
        if listing is None or view != self.view:  # shutting down, or the view changed meanwhile
            return
        last_page = max(1, math.ceil(listing.total / view.size))
        if view.page > last_page:
            await self._correct(page=last_page)
            return
        self._show([self._row(item) for item in listing.items], listing.total, fresh=fresh)

    # ---- building -------------------------------------------------------------------------------

    def _toolbar(self, engines: list[Engine]) -> None:
        with ui.row().classes('w-full items-end gap-4'):
            search = ui.input('Search name, company or admin e-mail', value=self.view.q) \
                .props('clearable').classes('w-96 max-w-full').mark('tenants-search')

            async def run_search() -> None:
                await self.change(q=(search.value or '').strip(), page=1)

            search.on('keydown.enter', run_search)
            search.on('clear', lambda: self.change(q='', page=1))
            with search.add_slot('append'):  # inside the field: never on a row of its own on a phone
                ui.button(icon='search', on_click=run_search) \
                    .props('flat round dense').mark('tenants-search-button')
            statuses = {ALL: 'All statuses', **{s.value: s.value for s in TenantStatus}}
            ui.select(statuses, value=self.view.status, label='Status',
                      on_change=lambda e: self.change(status=e.value or ALL, page=1)) \
                .classes('w-44').mark('tenants-status')
            ui.select({0: 'All engines', **self.engine_names}, value=self.view.engine_id, label='Engine',
                      on_change=lambda e: self.change(engine_id=e.value or 0, page=1)) \
                .classes('w-44').mark('tenants-engine')
            ui.checkbox('Drifted only', value=self.view.drifted,
                        on_change=lambda e: self.change(drifted=bool(e.value), page=1)).mark('tenants-drifted')
            ui.checkbox('Succeeded with warnings', value=self.view.warnings,
                        on_change=lambda e: self.change(warnings=bool(e.value), page=1)).mark('tenants-warnings') \
                .tooltip('Only tenants whose current run succeeded with at least one warning')
            ui.space()
            if self.can_act:
                ui.button('New tenant', icon='add', on_click=self.form.open).mark('tenants-new')
                ui.button('Import CSV', icon='upload_file', on_click=self.importer.open).props('outline') \
                    .mark('tenants-import')
                ui.button('Provision selected', icon='playlist_play', on_click=self.provision_selected) \
                    .props('outline').mark('tenants-provision-selected')

    def _table(self) -> ui.table:
        # Name, company and abbreviation share one column, the action is an icon and the run's kind a
        # second line: the table fits a 1366 px window. Status comes right after the name: on a phone
        # it is in view without scrolling the table sideways. Rows are data drawn by one template.
        table = ui.table(rows=[], columns=tenant_rows.columns(actions=self.can_act), row_key='id',
                         selection='multiple' if self.can_act else None) \
            .classes('w-full').props('flat bordered dense').mark('tenants-table')
        table.add_slot('body', tenant_rows.row_template(selectable=self.can_act, actions=self.can_act))
        table.add_slot('no-data', '''<div class="full-width row items-center no-wrap q-gutter-sm text-grey-8">
            <q-icon name="info" size="sm" /><span>{{ props.message }}</span></div>''')
        if self.can_act:
            table.on('provision', self.provision_one)
        return table

    def _show(self, rows: list[dict[str, Any]], total: int, *, fresh: bool) -> None:
        self.table.props(f'no-data-label="{self._empty_text(total)}"')
        if rows != self.table.rows or fresh:
            self.table.update_rows(rows, clear_selection=fresh)
        first = (self.view.page - 1) * self.view.size + 1
        shown = f'{first}–{first + len(rows) - 1}' if rows else '0'
        self.range.set_text(f'{shown} of {total} tenants')
        self.pager.max = max(1, math.ceil(total / self.view.size))
        if self.pager.value != self.view.page:
            self.pager.set_value(self.view.page)

    def _empty_text(self, total: int) -> str:
        """Why the table is empty, and what to do about it (no quotes: it goes into a prop)."""
        view = self.view
        if view.q or view.status or view.engine_id or view.drifted or view.warnings:
            return 'No tenant matches this search or these filters: clear them to see every tenant.'
        if total == 0 and self.can_act:
            return 'No tenants yet: add one with New tenant, or several at once with Import CSV.'
        return 'No tenants yet: support staff add them.' if total == 0 else 'Nothing on this page.'

    def _row(self, item: TenantListing) -> dict[str, Any]:
        tenant, run_ = item.tenant, item.latest_run  # the current run: never a plan
        outcome, colour = run_style(run_.status, run_.warnings) if run_ else ('', '')
        deprovision = bool(run_ and run_.mode == 'deprovision')
        last_run = f'#{run_.id} {outcome}' + (' (deprovision)' if deprovision else '') if run_ else ''
        return {'id': tenant.id, 'name': tenant.name, 'company_name': tenant.company_name,
                'abbr': tenant.abbr or '',
                'engine': self.engine_names.get(tenant.engine_id, f'#{tenant.engine_id}'),
                'stores': tenant.stores, 'status': tenant.status, 'status_color': style_of(tenant.status)[0],
                'drifted': tenant.drifted, 'waiting_for': item.waiting_for_engine or '',
                'last_error': tenant.last_error or '', 'last_run': last_run, 'last_run_color': colour,
                'last_run_outcome': f'#{run_.id} {outcome}' if run_ else '',
                'last_run_kind': 'deprovision' if deprovision else '',
                'updated': f'{tenant.updated_at:%Y-%m-%d %H:%M}',
                'active': bool(run_ and run_.status in ACTIVE_RUN_STATUSES)}

    # ---- actions (support and admin) ------------------------------------------------------------

    async def provision_one(self, event: events.GenericEventArguments) -> None:
        row = event.args if isinstance(event.args, dict) else {}
        tenant_id = row.get('id')
        if not isinstance(tenant_id, int) or (user := await acting(SUPPORT_PLUS)) is None:
            return
        try:
            await run.io_bound(runs.request_provision, self.db, tenant_id, actor=user.username)
        except Conflict as exc:
            notify(exc.message, type='warning')
        except ServiceError as exc:
            notify(exc.message, type='negative')
        else:
            notify(f"Provisioning of '{row.get('name', tenant_id)}' queued.", type='positive')
            await state.wake_dispatcher(app)
        await self.load()

    async def provision_selected(self) -> None:
        ids = [row['id'] for row in self.table.selected]
        if not ids:
            notify('Select tenants first (tick their boxes).', type='warning')
            return
        count = f"{len(ids)} tenant{'' if len(ids) == 1 else 's'}"
        answer = await confirm(f'Provision {count}?', f'Queue a provisioning run of all 11 steps for each of the '
                               f'{count} ticked. Tenants with a run already queued or running are skipped.',
                               confirm_label=f'Provision {count}')
        if answer is None or (user := await acting(SUPPORT_PLUS)) is None:
            return
        try:
            result = await run.io_bound(runs.bulk_provision, self.db, ids, actor=user.username)
        except ServiceError as exc:
            notify(exc.message, type='negative')
            return
        if result is None:  # the app is shutting down
            return
        refused = '; '.join(result.refused.values())  # each reason names its tenant
        outcome = f', {len(result.refused)} refused ({refused})' if refused else '.'
        notify(f'{len(result.queued)} queued{outcome}',
               type='positive' if not refused else 'warning', multi_line=True)
        if result.queued:
            await state.wake_dispatcher(app)
        await self.load(fresh=True)

    async def _created(self, _tenant: Any) -> None:
        await self.load()

    async def _page_changed(self, event: events.ValueChangeEventArguments) -> None:
        if isinstance(event.value, int) and event.value != self.view.page:
            await self.change(page=event.value)
