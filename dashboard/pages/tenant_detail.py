"""Tenant page: who the tenant is, its current run as a live step timeline, the actions the viewer's
role allows, its newest plan (in a card of its own), the run history, the ERPNext documents its runs
created, and its audit trail.

The current run is the newest run that is not a plan: a plan only looks, so it never takes the run's
place (nor its Retry and step actions); its report shows in the "Plan (nothing written)" card while
it is newer than the current run. A timer re-reads the run on show every half second while it (or a
plan) is active or any of its steps is still running (a cancelled run's steps in flight finish after
it ended), and every five seconds otherwise; only what changed is redrawn. Actions go through a
confirmation, then the run services (which check and audit them), then wake the dispatcher so work
starts at once. The page shows the actions of the role it was built for, but each acts as the
signed-in user read again when it acts, with the role its REST route requires (session.acting).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nicegui import app, run, ui

from dashboard import state
from dashboard.components.audit_words import details_words
from dashboard.components.confirm import confirm
from dashboard.components.formatting import requester_text, step_title
from dashboard.components.notify import notify
from dashboard.components.status import run_badge, status_badge
from dashboard.components.tenant_edit_dialog import delete_tenant, edit_tenant
from dashboard.components.timeline import (
    RunPanel,
    StepAction,
    StepTimeline,
    fmt_seconds,
    fmt_time,
    plan_report,
)
from dashboard.session import ADMIN_ONLY, ANY_ROLE, SUPPORT_PLUS, acting, database, guarded_page, may
from engine.services import deprovision, drift_checks, runs, tenant_removal, tenant_view
from engine.validation import MAX_ID, NotFound, ServiceError
from storage.db import Database
from storage.tables import User

FAST_POLL_S = 0.5
SLOW_POLL_S = 5.0
HISTORY_PAGE = 10
AUDIT_PAGE = 10
ACTIVE = ('QUEUED', 'RUNNING')
RETRYABLE_RUN = ('FAILED', 'CANCELLED')


@guarded_page('/tenants/{tenant_id}', title='Tenant', roles=ANY_ROLE)
async def tenant_detail_page(user: User, tenant_id: str) -> None:
    number = int(tenant_id) if tenant_id.isascii() and tenant_id.isdigit() and len(tenant_id) <= 19 else None
    number = number if number and number <= MAX_ID else None
    header = None
    if number is not None:
        try:
            header = await _off_loop(tenant_view.tenant_header, database(), number)
        except NotFound:
            header = None
    if header is None:
        _no_such_tenant(tenant_id)
        return
    page = TenantPage(user, header)
    await page.build()


class TenantPage:
    """One viewer's tenant page: its state lives here, never in module globals."""

    def __init__(self, user: User, header: tenant_view.TenantHeader) -> None:
        self.user = user
        self.tenant_id = header.id
        self.header = header
        self.detail: dict[str, Any] | None = None  # the run on show (never a plan)
        self.plan: dict[str, Any] | None = None  # the newest plan (if newer than the run) or a chosen one
        self.current_id: int | None = None  # the current run's id (while following it)
        self.selected_run_id: int | None = None  # None: follow the current run
        self.selected_plan_id: int | None = None  # None: follow the newest plan
        self.history_offset = 0
        self.audit_offset = 0
        self._lock = asyncio.Lock()
        self._read_at = time.monotonic()

    async def build(self) -> None:
        read = await _off_loop(read_state, self._wanted())
        self.detail, self.plan = read.detail, read.plan
        self.current_id = self.detail['id'] if self.detail else None
        await self._load_sections()
        # Long names without spaces wrap anywhere instead of pushing the page sideways (inherited).
        self.root = ui.column().classes('w-full gap-4 min-w-0 wrap-anywhere').mark('tenant-page')
        with self.root:
            self.header_section = ui.refreshable(self._header)
            self.header_section()
            self.actions_section = ui.refreshable(self._actions)
            self.actions_section()
            self.plan_section = ui.refreshable(self._plan)
            self.plan_section()
            with ui.card().classes('w-full').mark('run-card'):
                self.run_title = ui.refreshable(self._run_title)
                self.run_title()
                self.panel = RunPanel()
                self.timeline = StepTimeline(self._step_actions)
            self.history_section = ui.refreshable(self._history)
            self.documents_section = ui.refreshable(self._documents)
            self.audit_section = ui.refreshable(self._audit)
            for section in (self.history_section, self.documents_section, self.audit_section):
                with ui.card().classes('w-full'):
                    section()
        self.panel.update(self.detail)
        self.timeline.update(self.detail)
        self.timer = ui.timer(FAST_POLL_S, self._tick, immediate=False)

    # -- reading and redrawing ---------------------------------------------------------------------

    async def _tick(self) -> None:
        """Every half second while something moves (a run or plan active, a step still running),
        every few seconds otherwise."""
        moving = _active(self.detail) or _active(self.plan) or _steps_running(self.detail)
        if moving or time.monotonic() - self._read_at >= SLOW_POLL_S:
            try:
                await self.refresh()
            except NotFound:  # an admin deleted the tenant meanwhile
                self._deleted()

    def _deleted(self) -> None:
        self.timer.cancel()
        self.root.clear()
        with self.root:
            _no_such_tenant(str(self.tenant_id), deleted=True)

    async def refresh(self, *, everything: bool = False) -> None:
        """Re-read the run and plan on show (small reads); redraw the rest only when they moved on.
        Holds `_lock`, as every handler that changes what is on show does: a click waits for the
        read in flight, and is never undone by it."""
        async with self._lock:
            self._read_at = time.monotonic()
            read = await _off_loop(read_state, self._wanted())
            detail, plan = read.detail, read.plan
            if read.run_gone:  # e.g. a backup was restored: follow the current run again
                self.selected_run_id = None
            if read.plan_gone:
                self.selected_plan_id = None
            before = (_milestone(self.detail), _milestone(self.plan))
            plan_before = _plan_signature(self.plan)
            ended_before = _steps_ended(self.detail)
            self.detail, self.plan = detail, plan
            if self.selected_run_id is None:
                self.current_id = detail['id'] if detail else None
            self.panel.update(detail)
            self.timeline.update(detail)
            if everything or (_milestone(detail), _milestone(plan)) != before:
                self.actions_section.refresh()  # at once, with the timeline; the rest after its reads
                await self._reload_sections()
                return
            if _plan_signature(plan) != plan_before:
                self.plan_section.refresh()
            if detail and _steps_ended(detail) != ended_before:  # e.g. the company step chose the abbreviation
                await self._reload_header()

    def _wanted(self) -> Wanted:
        """What to read, taken on the event loop (the worker thread only reads its copy)."""
        return Wanted(tenant_id=self.tenant_id, run_id=self.selected_run_id, plan_id=self.selected_plan_id,
                      shown_run=Shown.of(self.detail), shown_plan=Shown.of(self.plan),
                      stuck_after_minutes=_stuck_after())

    async def _load_sections(self) -> None:
        db = database()
        self.header = await _off_loop(tenant_view.tenant_header, db, self.tenant_id)
        self.history = await _off_loop(tenant_view.run_history, db, self.tenant_id, limit=HISTORY_PAGE,
                                          offset=self.history_offset)
        self.documents = await _off_loop(tenant_view.created_documents, db, self.tenant_id)
        self.trail = await _off_loop(tenant_view.audit_trail, db, self.tenant_id, limit=AUDIT_PAGE,
                                        offset=self.audit_offset)
        first = self.history if self.history_offset == 0 else await _off_loop(
            tenant_view.run_history, db, self.tenant_id, limit=1)
        self.newest = first.items[0] if first.items else None
        self.deletable = (may(self.user, ADMIN_ONLY) and self.header.status not in tenant_removal.NEVER_DELETABLE
                          and await _off_loop(tenant_removal.removal_refusal, db, self.tenant_id) is None)

    async def _reload_header(self) -> None:
        """A step of the live run ended: the header and the documents may have news."""
        db = database()
        self.header = await _off_loop(tenant_view.tenant_header, db, self.tenant_id)
        self.documents = await _off_loop(tenant_view.created_documents, db, self.tenant_id)
        self.header_section.refresh()
        self.documents_section.refresh()

    async def _reload_sections(self) -> None:
        await self._load_sections()
        for section in (self.header_section, self.actions_section, self.run_title, self.plan_section,
                        self.history_section, self.documents_section, self.audit_section):
            section.refresh()

    # -- sections ----------------------------------------------------------------------------------

    def _header(self) -> None:
        h = self.header
        with ui.card().classes('w-full').mark('tenant-header'):
            with ui.row().classes('items-center gap-3'):
                ui.label(h.name).classes('text-2xl font-semibold break-all').mark('tenant-name')
                status_badge(h.status).mark('tenant-status')
            facts = [('company', h.company_name), ('abbreviation', h.abbr or '— (set by the company step)'),
                     ('engine', h.engine_name), ('stores', h.stores), ('admin e-mail', h.admin_email),
                     ('country / currency', f'{h.country} / {h.currency}'),
                     ('created', f'{fmt_time(h.created_at)} by {h.created_by or "—"}')]
            with ui.row().classes('w-full gap-x-6 gap-y-0 text-sm').mark('tenant-facts'):
                for label, value in facts:
                    with ui.row().classes('gap-1 items-baseline min-w-0'):
                        ui.label(label).classes('text-gray-600')
                        ui.label(str(value)).classes('break-all').mark(f"header-{label.split(' ')[0]}")
            if h.last_error and not (self.detail and self.detail.get('error_message')):  # else shown below
                ui.label(f'Last error: {h.last_error}').classes('text-red-800 break-words') \
                    .mark('tenant-error')
            if h.drifted:
                with ui.row().classes('w-full items-center gap-2 bg-orange-100 text-orange-900 p-2 rounded'):
                    ui.icon('sync_problem')
                    ui.label(f'Drift found {fmt_time(h.drift_checked_at)}: {h.drift_detail}') \
                        .classes('break-words').mark('tenant-drift')

    def _actions(self) -> None:
        current = self.detail if self.selected_run_id is None else None
        planning = _active(self.plan)  # a plan is the tenant's one active run meanwhile
        active = (_active(current) if current else self._latest_active()) or planning
        with ui.row().classes('gap-2').mark('tenant-actions'):
            if may(self.user, SUPPORT_PLUS) and not active:
                ui.button('Provision', icon='play_arrow', on_click=self._provision).mark('action-provision')
                ui.button('Plan', icon='fact_check', on_click=self._plan_run).props('outline') \
                    .mark('action-plan')
            if may(self.user, SUPPORT_PLUS) and current and current['status'] in RETRYABLE_RUN and not planning:
                ui.button('Retry run', icon='replay',
                          on_click=functools.partial(self._retry_run, current['id'])).mark('action-retry-run')
            if may(self.user, ADMIN_ONLY) and current and _active(current):
                ui.button('Cancel', icon='cancel', color='negative',
                          on_click=functools.partial(self._cancel, current['id'])).mark('action-cancel')
            status = self.header.status
            if may(self.user, SUPPORT_PLUS) and not active and status == 'PROVISIONED':
                ui.button('Check drift', icon='rule', on_click=self._check_drift).props('outline') \
                    .mark('action-check-drift')
                if self.header.drifted:
                    ui.button('Repair', icon='build', on_click=self._repair).mark('action-repair')
            if may(self.user, ADMIN_ONLY) and not active and status in deprovision.DEPROVISIONABLE \
                    and not self.deletable:  # nothing of it in ERPNext: Delete instead
                ui.button('Deprovision', icon='delete_sweep', color='negative', on_click=self._deprovision) \
                    .props('outline').mark('action-deprovision')
            if may(self.user, SUPPORT_PLUS) and not active:
                ui.button('Edit', icon='edit', on_click=self._edit).props('outline').mark('action-edit')
            if self.deletable and not active:
                ui.button('Delete', icon='delete', color='negative', on_click=self._delete).props('outline') \
                    .mark('action-delete')

    def _run_title(self) -> None:
        if self.selected_run_id is None:
            return  # the newest run: its 'Run #n' line is the heading (the steps need the room)
        with ui.row().classes('w-full items-center gap-2'):
            ui.label(f'Run #{self.selected_run_id} (an earlier run)').classes('text-lg font-semibold')
            ui.button('Back to the newest run', on_click=lambda: self._select(None)).props('flat dense') \
                .mark('show-latest')

    def _plan(self) -> None:
        """The plan's report in a card of its own: what a provisioning run would do, nothing written."""
        plan = self.plan
        if not plan:
            return
        with ui.card().classes('w-full border-l-4 border-blue-300').mark('plan-card'):
            with ui.row().classes('w-full items-center gap-x-3 gap-y-0'):
                ui.label('Plan (nothing written)').classes('text-lg font-semibold').mark('plan-title')
                status_badge(plan['status']).mark('plan-status')
                ui.label(f"run #{plan['id']} · by {plan.get('requested_by') or '—'} · "
                         f"{fmt_time(plan.get('finished_at') or plan.get('queued_at'))}").classes('text-sm')
                if self.selected_plan_id is not None:
                    ui.button('Close', on_click=self._close_plan).props('flat dense no-caps') \
                        .mark('plan-close')
                if may(self.user, ADMIN_ONLY) and _active(plan):
                    ui.button('Cancel plan', on_click=functools.partial(self._cancel, plan['id'])) \
                        .props('flat dense no-caps').mark('action-cancel-plan')
            with ui.column().classes('w-full gap-2').mark('plan-report'):
                if _active(plan):
                    ui.label('The plan is looking ERPNext up…').classes('text-gray-600')
                    return
                if plan.get('error_message'):
                    ui.label(f"The plan stopped: {plan['error_message']}").classes('text-red-800') \
                        .mark('plan-error')
                plan_report(tenant_view.plan_report(plan))

    def _history(self) -> None:
        ui.label('Run history').classes('text-lg font-semibold')
        if not self.history.items:
            ui.label('No runs yet.').classes('text-gray-600')
            return
        # One wrapping row per run (fixed widths line them up on a wide screen; a phone stacks them).
        with ui.column().classes('w-full gap-1 text-sm').mark('run-history'):
            for item in self.history.items:
                with ui.row().classes('w-full items-center gap-x-3 gap-y-0 flex-wrap md:flex-nowrap'):
                    # The run number and status never shrink: a long error beside them once wrapped '#22' to '#/2/2'.
                    ui.button(f'#{item.id}', on_click=lambda _, i=item: self._select_history(i)) \
                        .props('flat dense no-caps').classes('min-w-14 shrink-0 whitespace-nowrap') \
                        .mark(f'history-run-{item.id}')
                    run_badge(item.status, item.warnings).classes('shrink-0 whitespace-nowrap') \
                        .mark(f'history-status-{item.id}')
                    who = requester_text(item.requested_by, item.retried_by)
                    ui.label(f'{item.kind} · {item.trigger} · attempt {item.attempt} · by {who}') \
                        .classes('md:w-64 shrink-0').mark(f'history-facts-{item.id}')
                    ui.label(f'started {fmt_time(item.started_at)} · took {fmt_seconds(item.duration_s)}') \
                        .classes('text-gray-600 md:w-80 shrink-0')
                    error = ui.label(item.error_message or '').classes('text-red-800 truncate min-w-0 grow')
                    if item.error_message:
                        error.tooltip(item.error_message)
        _pager(self.history_offset, HISTORY_PAGE, self.history.has_more, self._page_history, 'history')

    def _documents(self) -> None:
        ui.label('ERPNext documents').classes('text-lg font-semibold')
        if not self.documents:
            ui.label('No documents yet: they are listed once a provisioning run has created or found them.') \
                .classes('text-gray-600')
            return
        with ui.column().classes('w-full gap-1 text-sm').mark('documents'):
            for doc in self.documents:
                with ui.row().classes('w-full items-baseline gap-x-4 gap-y-0 flex-wrap md:flex-nowrap'):
                    ui.label(doc.doctype).classes('text-gray-600 w-32 shrink-0')
                    gone = (doc.fate or '').startswith('deleted')  # no desk page to open any more
                    name = ui.label(doc.name) if gone else ui.link(doc.name, doc.url, new_tab=True)
                    name.classes('break-all md:w-60 shrink-0' + (' line-through text-gray-500' if gone else '')) \
                        .mark(f'doc-{doc.doctype}')
                    ui.label(doc.note).classes('grow min-w-0')
                    origin = doc.fate or doc.pending or ('created by Provisioner' if doc.created else 'existing, used')
                    ui.label(origin).classes('text-gray-600 shrink-0').mark(f'doc-fate-{doc.doctype}')

    def _audit(self) -> None:
        ui.label('Audit trail').classes('text-lg font-semibold')
        if not self.trail.items:
            ui.label('No events yet.').classes('text-gray-600')
            return
        with ui.column().classes('w-full gap-0 divide-y divide-gray-200').mark('audit-trail'):
            for event in self.trail.items:
                with ui.row().classes('w-full items-start gap-x-3 gap-y-0 py-1 text-sm '
                                      'flex-wrap md:flex-nowrap'):
                    ui.label(fmt_time(event.at)).classes('text-gray-600 shrink-0')
                    ui.label(event.actor).classes('font-medium shrink-0')
                    ui.label(event.action).classes('shrink-0').mark('audit-action')
                    where = ' '.join(part for part in (f'run #{event.run_id}' if event.run_id else '',
                                                       step_title(event.step_key)) if part)
                    ui.label(where).classes('text-gray-600 shrink-0')
                    ui.label(details_words(event.details)).classes('break-words min-w-0')
        more = self.audit_offset + AUDIT_PAGE < self.trail.total
        _pager(self.audit_offset, AUDIT_PAGE, more, self._page_audit, 'audit', total=self.trail.total)

    # -- actions -----------------------------------------------------------------------------------

    def _step_actions(self, step: dict[str, Any]) -> list[StepAction]:
        detail = self.detail
        if (not may(self.user, ADMIN_ONLY) or not detail or self.selected_run_id is not None
                or _active(detail) or _active(self.plan)
                or detail.get('mode') not in ('provision', 'deprovision')):
            return []
        key, status = step['key'], step['status']
        offered = (('Retry step', 'replay', 'retry', ('FAILED', 'SKIPPED'), self._retry_step),
                   ('Skip step', 'redo', 'skip', ('FAILED', 'PENDING'), self._skip_step),
                   ('Mark succeeded', 'task_alt', 'mark', ('FAILED', 'PENDING', 'SKIPPED'), self._mark_step))
        return [StepAction(label, icon, f'{name}-step-{key}', functools.partial(handler, detail['id'], step))
                for label, icon, name, statuses, handler in offered if status in statuses]

    async def _provision(self) -> None:
        await self._act('Provision', f"Queue a provisioning run of all 11 steps for '{self.header.name}' on "
                        f"engine '{self.header.engine_name}'?", 'Provisioning run queued.',
                        lambda actor, _: runs.request_provision(database(), self.tenant_id, actor=actor))

    async def _plan_run(self) -> None:
        await self._act('Plan', 'Look ERPNext up and report, per step, what exists and what would be '
                        'created. Nothing is written.',
                        "Plan queued: its report appears in the card 'Plan (nothing written)'.",
                        lambda actor, _: runs.request_provision(database(), self.tenant_id, actor=actor, plan=True))

    async def _check_drift(self) -> None:
        """Look everything up in ERPNext again (no confirmation: it only reads)."""
        if (user := await acting(SUPPORT_PLUS)) is None:  # as POST /tenants/{id}/drift-check
            return
        try:
            async with state.engine_clients(app) as clients:
                result = await drift_checks.check_tenant(database(), clients, self.tenant_id, actor=user.username)
        except ServiceError as exc:
            notify(exc.message, type='negative')
            return
        if not result.checked:
            notify(f'ERPNext could not be asked: {result.detail or "no answer"}. Nothing was changed.',
                   type='warning', multi_line=True)
        elif result.drifted:
            notify('Drift found: see the tenant header; Repair recreates what is missing.', type='warning')
        else:
            notify('No drift: everything Provisioner created is still there.', type='positive')
        await self.refresh(everything=True)

    async def _repair(self) -> None:
        await self._act('Repair', f"Provision '{self.header.name}' again? Every step adopts what still exists "
                        'and recreates only what is missing.', 'Repair run queued.',
                        lambda actor, _: runs.request_provision(database(), self.tenant_id, actor=actor))

    async def _deprovision(self) -> None:
        if await acting(ADMIN_ONLY) is None:  # its plan too is for admins (POST .../deprovision)
            return
        try:
            planned = await _off_loop(deprovision.plan, database(), self.tenant_id)
        except ServiceError as exc:
            notify(exc.message, type='negative', multi_line=True)
            return
        lines = [f"delete {item['doctype']} {item['name']}" for item in planned['delete']]
        lines += [f"change {item['doctype']} {item['name']}: {item['change']}" for item in planned['change']]
        lines += [f"keep {item['doctype']} {item['name']}" + (f": {item['reason']}" if item.get('reason') else '')
                  for item in planned['kept']]
        listing = '\n'.join(f'• {line}' for line in lines) or '• nothing recorded: only the status changes'
        await self._act('Deprovision', f"Tear down '{self.header.name}' in ERPNext? This deletes exactly what "
                        f"Provisioner created for it, last the company:\n{listing}\n\n{planned['note']}",
                        'Deprovisioning run queued.',
                        lambda actor, _: deprovision.request(database(), self.tenant_id, actor=actor),
                        roles=ADMIN_ONLY, danger=True)

    async def _edit(self) -> None:
        with self.root:  # the button may be redrawn away meanwhile
            if await edit_tenant(database(), self.tenant_id):
                await self.refresh(everything=True)

    async def _delete(self) -> None:
        with self.root:
            if await delete_tenant(database(), self.tenant_id, self.header.name):
                self.timer.cancel()
                ui.navigate.to('/tenants')

    async def _retry_run(self, run_id: int) -> None:
        await self._act('Retry run', f'Queue run #{run_id} again? It resumes at its first unfinished step.',
                        f'Run #{run_id} queued again.',
                        lambda actor, _: runs.retry_run(database(), run_id, actor=actor))

    async def _cancel(self, run_id: int) -> None:
        await self._act('Cancel run', f'Cancel run #{run_id}? Steps in flight finish; nothing else starts.',
                        f'Run #{run_id} cancelled.', lambda actor, _: runs.cancel_run(database(), run_id, actor=actor),
                        roles=ADMIN_ONLY, danger=True, cancel_label='Keep running')

    async def _retry_step(self, run_id: int, step: dict[str, Any]) -> None:
        await self._act('Retry step', f"Run '{step['title']}' of run #{run_id} again (and every other step of "
                        'the run that has not succeeded)?', f"'{step['title']}' queued again.",
                        lambda actor, _: runs.retry_step(database(), run_id, step['key'], actor=actor),
                        roles=ADMIN_ONLY)

    async def _skip_step(self, run_id: int, step: dict[str, Any]) -> None:
        await self._act('Skip step', f"Skip '{step['title']}' in run #{run_id}? The run goes on without it; "
                        'steps that need its output will fail saying so.', f"'{step['title']}' skipped.",
                        lambda actor, reason: runs.skip_step(database(), run_id, step['key'], actor=actor,
                                                             reason=reason),
                        roles=ADMIN_ONLY, reason_label='Reason (required, goes into the audit log)', danger=True)

    async def _mark_step(self, run_id: int, step: dict[str, Any]) -> None:
        await self._act('Mark succeeded', f"Record that '{step['title']}' was done by hand in ERPNext (run "
                        f'#{run_id})? The run goes on as if it had succeeded.',
                        f"'{step['title']}' marked succeeded.",
                        lambda actor, reason: runs.mark_step_succeeded(database(), run_id, step['key'],
                                                                       actor=actor, reason=reason),
                        roles=ADMIN_ONLY, reason_label='Reason (required, goes into the audit log)')

    async def _act(self, title: str, message: str, done: str, call: Callable[[str, str], Any], *,
                   roles: frozenset = SUPPORT_PLUS, reason_label: str | None = None, danger: bool = False,
                   cancel_label: str = 'Cancel') -> None:
        """Confirm, then, as the signed-in user read again now while they hold one of `roles` (those of the
        action's REST route), call the service (`call(actor, reason)`: it audits), wake the dispatcher
        and tell the user."""
        with self.root:  # the button that started this may be redrawn away meanwhile
            answer = await confirm(title, message, confirm_label=title, cancel_label=cancel_label,
                                   reason_label=reason_label, danger=danger)
            if answer is None or (user := await acting(roles)) is None:
                return
            try:
                await _off_loop(call, user.username, answer.reason)
            except ServiceError as exc:
                notify(exc.message, type='negative', multi_line=True)
                await self.refresh(everything=True)  # what made it fail is likely worth seeing
                return
            await state.wake_dispatcher(app)
            notify(done, type='positive')
            async with self._lock:
                self.selected_run_id, self.detail = None, None
                self.selected_plan_id, self.plan = None, None
            await self.refresh(everything=True)

    async def _select_history(self, item: tenant_view.RunSummary) -> None:
        """A plan opens in the plan card; any other run in the main card."""
        if item.mode != 'plan':
            await self._select(item.id)
            return
        async with self._lock:
            self.selected_plan_id, self.plan = item.id, None
        await self.refresh(everything=True)

    async def _close_plan(self) -> None:
        async with self._lock:
            self.selected_plan_id, self.plan = None, None
        await self.refresh(everything=True)

    async def _select(self, run_id: int | None) -> None:
        async with self._lock:  # released before refresh takes it again (asyncio.Lock is not reentrant)
            self.selected_run_id = None if run_id == self.current_id else run_id
            self.detail = None
        await self.refresh(everything=True)

    async def _page_history(self, offset: int) -> None:
        async with self._lock:
            self.history_offset = max(0, offset)
            await self._reload_sections()

    async def _page_audit(self, offset: int) -> None:
        async with self._lock:
            self.audit_offset = max(0, offset)
            await self._reload_sections()

    def _latest_active(self) -> bool:
        return bool(self.newest and self.newest.status in ACTIVE)


# -- reading (in a worker thread: only from its arguments, never from the page) ----------------------

@dataclass(frozen=True)
class Shown:
    """The run or plan on show, as far as the reader needs it: an active one is followed by id."""
    id: int
    status: str

    @classmethod
    def of(cls, detail: dict[str, Any] | None) -> Shown | None:
        return cls(detail['id'], detail['status']) if detail else None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


@dataclass(frozen=True)
class Wanted:
    """What the page asks for: its selections (None: follow the current run, the newest plan) and what
    it shows now (an active run or plan is followed by id: no other can start meanwhile). Only
    immutable values: the worker thread reads its own copy, never the page's dicts."""
    tenant_id: int
    run_id: int | None
    plan_id: int | None
    shown_run: Shown | None
    shown_plan: Shown | None
    stuck_after_minutes: float


@dataclass(frozen=True)
class PageRead:
    """The run and plan to show, and which selection no longer exists (the page then follows the
    current run, or the newest plan)."""
    detail: dict[str, Any] | None
    plan: dict[str, Any] | None
    run_gone: bool = False
    plan_gone: bool = False


def read_state(wanted: Wanted) -> PageRead:
    db = database()
    detail, run_gone = _read_run(db, wanted)
    plan, plan_gone = _read_plan(db, wanted, detail, following_run=wanted.run_id is None or run_gone)
    return PageRead(detail, plan, run_gone=run_gone, plan_gone=plan_gone)


def _read_run(db: Database, wanted: Wanted) -> tuple[dict[str, Any] | None, bool]:
    stuck = wanted.stuck_after_minutes
    if wanted.run_id is not None:
        with contextlib.suppress(NotFound):
            return runs.run_detail(db, wanted.run_id, stuck_after_minutes=stuck), False
    gone = wanted.run_id is not None
    if wanted.shown_run and wanted.shown_run.active:  # no other run can start meanwhile
        with contextlib.suppress(NotFound):  # gone (a backup was restored): the current run instead
            return runs.run_detail(db, wanted.shown_run.id, stuck_after_minutes=stuck), gone
    return runs.current_run_detail(db, wanted.tenant_id, stuck_after_minutes=stuck), gone


def _read_plan(db: Database, wanted: Wanted, detail: dict[str, Any] | None, *,
               following_run: bool) -> tuple[dict[str, Any] | None, bool]:
    if wanted.plan_id is not None:
        with contextlib.suppress(NotFound):
            return runs.run_detail(db, wanted.plan_id), False
    gone = wanted.plan_id is not None
    if following_run and _active(detail):
        return None, gone  # no plan can start meanwhile, and any plan is older than this run
    if wanted.shown_plan and wanted.shown_plan.active:
        with contextlib.suppress(NotFound):  # gone (a backup was restored): the newest plan instead
            return runs.run_detail(db, wanted.shown_plan.id), gone
    return runs.latest_plan_detail(db, wanted.tenant_id), gone


# -- helpers -----------------------------------------------------------------------------------------

def _no_such_tenant(tenant_id: str, *, deleted: bool = False) -> None:
    with ui.card().classes('bg-orange-50'):
        ui.label(f'Tenant {tenant_id} was deleted (the audit log keeps its events).' if deleted else
                 f'No such tenant: there is no tenant with id {tenant_id[:40]}.').mark('no-such-tenant')
        ui.link('Back to the tenants', '/tenants')


def _pager(offset: int, size: int, has_more: bool, go: Callable, name: str, *,
           total: int | None = None) -> None:
    if offset == 0 and not has_more:
        return
    with ui.row().classes('items-center gap-2'):
        ui.button('Newer', icon='chevron_left', on_click=lambda: go(offset - size)) \
            .props('flat dense no-caps').mark(f'{name}-newer').set_enabled(offset > 0)
        last = offset + size if total is None else min(offset + size, total)
        ui.label(f'{offset + 1}–{last}' + (f' of {total}' if total is not None else '')).classes('text-sm')
        ui.button('Older', icon='chevron_right', on_click=lambda: go(offset + size)) \
            .props('flat dense no-caps').mark(f'{name}-older').set_enabled(has_more)


def _active(detail: dict[str, Any] | None) -> bool:
    return bool(detail) and detail['status'] in ACTIVE


def _steps_running(detail: dict[str, Any] | None) -> int:
    """How many of the run's steps are RUNNING (after a cancel, those in flight still finish)."""
    return sum(step['status'] == 'RUNNING' for step in (detail or {}).get('steps') or [])


def _steps_ended(detail: dict[str, Any] | None) -> int:
    """How many of the run's steps have ended (succeeded, failed or skipped)."""
    return sum(step['status'] not in ('PENDING', 'RUNNING') for step in (detail or {}).get('steps') or [])


def _milestone(detail: dict[str, Any] | None) -> tuple | None:
    """What, when it changes, makes the header, actions, history, documents and audit worth re-reading:
    the run's state, and once it ended, how many of its steps are still finishing."""
    if detail is None:
        return None
    settling = None if _active(detail) else _steps_running(detail)
    return (detail['id'], detail['status'], detail['attempt'], detail.get('next_retry_at'),
            bool(detail.get('stuck')), settling)


def _plan_signature(plan: dict[str, Any] | None) -> tuple | None:
    """What the plan card shows: redrawn when it changes."""
    if plan is None:
        return None
    return (plan['id'], plan['status'], plan.get('error_message'),
            tuple((step['status'], bool(step.get('output'))) for step in plan.get('steps') or []))


async def _off_loop(fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """Run a blocking service call in a worker thread. NiceGUI answers None instead when the app is
    shutting down: stop whatever is waiting for the answer (a timer tick ends quietly)."""
    result = await run.io_bound(fn, *args, **kwargs)
    if result is None and app.is_stopping:
        raise asyncio.CancelledError
    return result


def _stuck_after() -> float:
    """PROVISIONER_STUCK_AFTER_MINUTES of the running service."""
    return app.state.settings.stuck_after_minutes

