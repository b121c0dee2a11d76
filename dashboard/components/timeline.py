"""A run as a live timeline: the run's facts, then its eleven steps in workflow order.

`RunPanel` and `StepTimeline` are built once and fed `runs.run_detail` dicts by the page's timer;
each `update` redraws only the rows whose content changed. Everything is rendered as text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nicegui import ui

from dashboard.components.formatting import (
    category_text,
    fmt_seconds,
    fmt_time,
    requester_text,
    run_stop_text,
    step_title,
    without_title,
)
from dashboard.components.status import run_badge, status_badge, status_icon
from dashboard.session import ADMIN_ONLY, current_user, may
from engine import auto_retry
from engine.services import engines
from engine.services.tenant_view import PlannedStep
from engine.steps import STEPS
from storage import run_meta
from storage.tables import utcnow

__all__ = ['RunPanel', 'StepAction', 'StepTimeline', 'fmt_seconds', 'fmt_time', 'plan_report', 'run_duration']

_NOTHING_YET = object()
MODE_LABELS = {'provision': 'provisioning', 'plan': 'plan (look-ups only)'}
DONE = ('SUCCEEDED', 'SKIPPED')


@dataclass(frozen=True)
class StepAction:
    """A button on a step row: what it says, its icon, a test marker and what it does."""

    label: str
    icon: str
    marker: str
    handler: Callable[[], Any]


StepActions = Callable[[dict[str, Any]], list[StepAction]]


class RunPanel:
    """The run's identity and progress: status, correlation id, trigger, attempt, who, when, errors.

    `can_manage_engines`: whether the reader may fix an offline engine (an admin); None: ask the
    page's signed-in user. The others read whom to ask instead of a link to Engines."""

    def __init__(self, *, can_manage_engines: bool | None = None) -> None:
        self.container = ui.column().classes('w-full gap-1').mark('run-panel')
        self._shown: object = _NOTHING_YET
        self.admin = may(current_user(), ADMIN_ONLY) if can_manage_engines is None else can_manage_engines

    def update(self, run: dict[str, Any] | None) -> None:
        signature = _run_signature(run)
        if signature == self._shown:
            return
        self._shown = signature
        self.container.clear()
        with self.container:
            if run is None:
                ui.label('This tenant has not been provisioned yet.').classes('text-gray-600')
                return
            _run_facts(run, admin=self.admin)


class StepTimeline:
    """One row per step in workflow order, each redrawn only when its step (or its actions) changed.

    With no run yet it lists the eleven provisioning steps; a run whose steps differ (another kind of
    run) gets its own rows."""

    def __init__(self, actions_for: StepActions) -> None:
        self.actions_for = actions_for
        self.rows: dict[str, ui.element] = {}
        self._shown: dict[str, tuple] = {}
        self.container = ui.column().classes('w-full gap-0 divide-y divide-gray-200').mark('step-timeline')

    def update(self, run: dict[str, Any] | None) -> None:
        steps = (run or {}).get('steps') or [_not_run(step, n) for n, step in enumerate(STEPS, start=1)]
        if [step['key'] for step in steps] != list(self.rows):
            self._make_rows([step['key'] for step in steps])
        for step in steps:
            actions = self.actions_for(step) if run else []
            signature = (_step_signature(step), tuple(action.label for action in actions))
            if self._shown.get(step['key']) != signature:
                self._shown[step['key']] = signature
                self._draw(self.rows[step['key']], step, actions)

    def _make_rows(self, keys: list[str]) -> None:
        self.container.clear()
        self.rows, self._shown = {}, {}
        with self.container:
            for key in keys:
                self.rows[key] = ui.row().mark(f'step-{key}') \
                    .classes('w-full items-start gap-x-3 gap-y-1 py-1 flex-wrap md:flex-nowrap')

    def _draw(self, row: ui.element, step: dict[str, Any], actions: list[StepAction]) -> None:
        row.clear()
        with row:
            warnings = _output_warnings(step)
            failed_optional = step['status'] == 'FAILED' and step.get('error_category') == 'non_critical'
            warning = failed_optional or bool(warnings)  # orange: the run went on, but look at this
            status_icon(step['status'], warning=warning).classes('text-2xl')
            with ui.column().classes('gap-0 grow min-w-0 basis-60'):
                # One line per step (title, status, facts) so that all eleven fit on a laptop screen.
                with ui.row().classes('items-center gap-x-2 gap-y-0'):
                    ui.label(f"{step['position']}. {step['title']}").classes('font-medium')
                    status_badge(step['status'], warning=warning).mark(f"status-{step['key']}")
                    if not step.get('critical', True):
                        ui.label('optional').classes('text-xs text-gray-500')
                    ui.label(_step_facts(step)).classes('text-sm text-gray-600').mark(f"facts-{step['key']}")
                if step.get('error'):
                    colour = 'text-orange-900' if failed_optional or step['status'] != 'FAILED' else 'text-red-800'
                    text = without_title(step['error'], step['title'])
                    # a step settled by hand keeps the error it failed with: it no longer stops the run
                    failed = step['status'] == 'FAILED'
                    prefix = (category_text(step.get('error_category'), step.get('attempts')) if failed
                              else 'It had failed')
                    ui.label(f'{prefix}: {text}') \
                        .classes(f'text-sm {colour} break-words').mark(f"error-{step['key']}")
                for text in warnings:
                    ui.label(f'Warning: {text}').classes('text-sm text-orange-900 break-words') \
                        .mark(f"warning-{step['key']}")
                if step.get('manual_by'):
                    verb = 'Skipped' if step['status'] == 'SKIPPED' else 'Marked succeeded'
                    ui.label(f"{verb} by hand by {step['manual_by']}: {step.get('manual_reason') or ''}") \
                        .classes('text-sm text-orange-900').mark(f"manual-{step['key']}")
            with ui.row().classes('gap-1 md:shrink-0 ml-8 md:ml-0'):
                for action in actions:
                    ui.button(action.label, icon=action.icon, on_click=action.handler) \
                        .props('flat dense no-caps').mark(action.marker)


def plan_report(report: list[PlannedStep]) -> None:
    """What a plan run found: per step, what exists and what a provisioning run would create or
    enable again.

    A plan step that SUCCEEDED only looked: its icon says what it found (something to create or
    enable, all there, or a problem), never a green 'done' that reads like a provisioned step."""
    to_create, to_enable = sum(len(step.create) for step in report), sum(len(step.enable) for step in report)
    enabling = f' and enable {to_enable} again' if to_enable else ''
    ui.label(f'A provisioning run would create {to_create} document(s){enabling}; nothing was written.') \
        .classes('font-medium').mark('plan-summary')
    with ui.column().classes('w-full gap-1'):
        for step in report:
            with ui.row().classes('w-full items-start gap-2 flex-nowrap').mark(f'plan-step-{step.key}'):
                icon, colour, meaning = _plan_icon(step)
                ui.icon(icon, color=colour).props(f'aria-label="{meaning}"')
                with ui.column().classes('gap-0 min-w-0'):
                    ui.label(step.title).classes('font-medium')
                    for name in step.create:
                        ui.label(f'would create {name}').classes('text-sm text-blue-900')
                    for name in step.enable:
                        ui.label(f'would enable again {name} (disabled in ERPNext)') \
                            .classes('text-sm text-blue-900')
                    for name in step.exists:
                        ui.label(f'exists: {name}').classes('text-sm text-gray-600')
                    if step.note:
                        ui.label(step.note).classes('text-sm text-gray-600')
                    if step.error:
                        ui.label(step.error).classes('text-sm text-red-800')


def _plan_icon(step: PlannedStep) -> tuple[str, str, str]:
    """(icon, colour, meaning) of a plan step."""
    if step.error or step.status == 'FAILED':
        return 'error', 'red-7', 'problem found'
    if step.status in ('PENDING', 'RUNNING', 'SKIPPED'):
        return 'radio_button_unchecked', 'grey-6', 'not looked up'
    if step.create:
        return 'add_circle_outline', 'blue-8', 'would create'
    if step.enable:
        return 'toggle_on', 'blue-8', 'would enable again'
    return 'check', 'grey-7', 'nothing to create'


# -- formatting ----------------------------------------------------------------------------------------

def run_duration(run: dict[str, Any]) -> float | None:
    """How long the run took; while it runs, how long it has been running."""
    started, finished = run.get('started_at'), run.get('finished_at')
    if started and finished:
        return (finished - started).total_seconds()
    if started and run.get('status') == 'RUNNING':
        return (utcnow() - started).total_seconds()
    return None


def _run_facts(run: dict[str, Any], *, admin: bool) -> None:
    with ui.row().classes('items-center gap-3'):
        ui.label(f"Run #{run['id']}").classes('text-lg font-semibold').mark('run-id')
        run_badge(run['status'], run.get('warnings')).mark('run-status')
        ui.label(_mode_label(run)).classes('text-sm').mark('run-mode')
        if run.get('stuck'):
            with ui.row().classes('items-center gap-1 text-red-800').mark('run-stuck'):
                ui.icon('report')
                ui.label('stuck — needs manual intervention').classes('font-semibold')
    _progress(run)
    running = run.get('status') == 'RUNNING'
    facts = [('trigger', run.get('trigger')), ('attempt', run.get('attempt')),
             ('requested by', requester_text(run.get('requested_by'), run.get('retried_by'))),
             ('queued', fmt_time(run.get('queued_at'))),
             ('started', fmt_time(run.get('started_at'))), ('finished', fmt_time(run.get('finished_at'))),
             ('running for' if running else 'took', fmt_seconds(run_duration(run))),
             ('warnings', run.get('warnings', 0)),
             ('correlation id (X-Request-ID)', run.get('correlation_id'))]
    # A wrapping line of facts, not a tall list: the steps must stay in view.
    with ui.row().classes('w-full gap-x-6 gap-y-0 text-sm').mark('run-facts'):
        for label, value in facts:
            with ui.row().classes('gap-1 items-baseline min-w-0'):
                ui.label(label).classes('text-gray-600')
                ui.label(str(value)).classes('break-all').mark(f"run-{label.split(' ')[0]}")
    for resumed in run.get('resumed') or []:
        ui.label(_resumed_text(run, resumed)).classes('text-blue-900').mark('run-resumed')
    if wait := run.get('waiting_for_engine'):
        with ui.row().classes('w-full items-center gap-2 bg-orange-100 text-orange-900 p-2 rounded flex-nowrap'):
            ui.icon('hourglass_top').classes('shrink-0')
            message = engines.waiting_message(wait['engine'], wait.get('reason'), admin=admin)
            ui.label(message).classes('break-words min-w-0').mark('run-waiting')
            if admin:  # the others cannot open Engines
                ui.link('Engines', '/engines').classes('shrink-0')
    hint = auto_retry.retry_hint(run)  # a failed run's hint: no automatic retry will come
    if run.get('next_retry_at') and not hint:  # (a succeeded run's hint names the time of its step's retry)
        ui.label(f"Next automatic retry at {fmt_time(run['next_retry_at'])}").classes('text-blue-900') \
            .mark('run-next-retry')
    if run.get('error_message'):
        ui.label(_run_error(run)).classes('text-red-800 break-words').mark('run-error')
    if hint:  # news when a retry is coming, a call to act when none is
        ui.label(hint).classes('text-blue-900' if run.get('next_retry_at') else 'text-red-800 font-medium') \
            .mark('run-retry-hint')


def _progress(run: dict[str, Any]) -> None:
    steps = run.get('steps') or []
    if not steps:
        return
    done = sum(step['status'] in DONE for step in steps)
    with ui.row().classes('w-full items-center gap-3 flex-nowrap'):
        ui.linear_progress(value=done / len(steps), show_value=False, size='8px',
                           color='negative' if run.get('status') == 'FAILED' else 'positive') \
            .classes('grow').props('rounded')
        ui.label(f'{done} of {len(steps)} steps done').classes('text-sm shrink-0').mark('run-progress')


def _run_error(run: dict[str, Any]) -> str:
    """"Stopped at step 9 'Create POS profiles': ERPNext refused …"."""
    key = run.get('error_step')
    titles = {step['key']: step['title'] for step in run.get('steps') or []}
    title = titles.get(key) or step_title(key)
    where = f" at step {_position(run, key)}'{title}'" if title else ''
    return f"{run_stop_text(run.get('error_category'))}{where}: {without_title(run['error_message'], title)}"


def _resumed_text(run: dict[str, Any], resumed: dict[str, Any]) -> str:
    """"Resumed after a restart at 2026-12-01 14:02:07 UTC at step 6 'Configure payment modes'"."""
    where = (f" at step {_position(run, resumed['step'])}'{resumed['step_title']}'" if resumed.get('step')
             else ', only its end left to record')
    return f"Resumed after a restart at {fmt_time(resumed['at'])}{where}"


def _position(run: dict[str, Any], key: str | None) -> str:
    position = next((step['position'] for step in run.get('steps') or [] if step['key'] == key), None)
    return f'{position} ' if position else ''


def _step_facts(step: dict[str, Any]) -> str:
    if step['status'] == 'PENDING' and not step.get('attempts'):
        return ''  # nothing happened yet: nothing to say
    attempts, earlier = step.get('attempts') or 0, step.get('earlier_attempts') or 0
    if attempts or not earlier:
        parts = [f"attempts: {attempts}" + (f' (+{earlier} earlier)' if earlier else '')]
    else:  # settled by hand (or waiting to run again) after it ran: what it tried
        parts = [f'attempts: {earlier}']
    if failures := step.get('earlier_failures'):
        parts.append(('failed once' if failures == 1 else f'failed {failures} times') + (' before' if attempts else ''))
    if step['status'] == 'PENDING':  # tried, then stopped: a cancel (or a stopped process) cut it short
        return ' · '.join([*parts, 'stopped before it ended'])
    if step.get('duration_ms') is not None:
        parts.append(f"took {fmt_seconds(step['duration_ms'] / 1000)}")
    elif step['status'] == 'RUNNING' and step.get('started_at'):
        parts.append(f"running since {fmt_time(step['started_at'])}")
    if step.get('finished_at'):
        parts.append(f"finished {fmt_time(step['finished_at'])}")
    return ' · '.join(parts)


def _output_warnings(step: dict[str, Any]) -> list[str]:
    """The warnings a step that did not fail recorded in its output (a failed step shows its error)."""
    if step['status'] == 'FAILED':
        return []
    return [str(text) for text in (step.get('output') or {}).get('warnings') or []]


def _not_run(step, position: int) -> dict[str, Any]:
    return {'key': step.key, 'title': step.title, 'position': position, 'critical': step.critical,
            'status': 'PENDING', 'attempts': 0}


def _step_signature(step: dict[str, Any]) -> tuple:
    fields = tuple(step.get(key) for key in ('status', 'attempts', 'earlier_attempts', 'earlier_failures',
                                             'duration_ms', 'started_at', 'finished_at', 'error_category',
                                             'error', 'manual_by', 'manual_reason'))
    return (*fields, tuple(_output_warnings(step)))


def _mode_label(run: dict[str, Any]) -> str:
    if (run.get('metadata') or {}).get(run_meta.REPAIR):
        return 'repair (provisioning again: creates only what is missing)'
    return MODE_LABELS.get(run.get('mode'), str(run.get('mode')))


def _run_signature(run: dict[str, Any] | None) -> tuple | None:
    if run is None:
        return None
    progress = tuple(step['status'] for step in run.get('steps') or [])
    elapsed = int(run_duration(run) or 0) if run.get('status') == 'RUNNING' else None  # a live clock
    resumed = tuple((item['at'], item['step']) for item in run.get('resumed') or [])
    waiting = (run.get('waiting_for_engine') or {}).get('message')
    return (*(run.get(key) for key in RUN_FIELDS_SHOWN), progress, elapsed, resumed, waiting, _mode_label(run))


RUN_FIELDS_SHOWN = ('id', 'status', 'mode', 'trigger', 'attempt', 'requested_by', 'retried_by',
                    'correlation_id', 'queued_at', 'started_at', 'finished_at', 'warnings', 'next_retry_at', 'stuck',
                    'error_category', 'error_step', 'error_message', 'auto_retries')
