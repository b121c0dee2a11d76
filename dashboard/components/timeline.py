"""A run as a live timeline: the run's facts, then its eleven steps in workflow order.

`RunPanel` and `StepTimeline` are built once and fed `runs.run_detail` dicts by the page's timer;
each `update` redraws only the rows whose content changed. Everything is rendered as text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nicegui import ui

from dashboard.components.status import status_badge, status_icon
from engine.services.tenant_view import PlannedStep
from engine.steps import STEPS

_NOTHING_YET = object()
MODE_LABELS = {'provision': 'provisioning', 'plan': 'plan (look-ups only)'}


@dataclass(frozen=True)
class StepAction:
    """A button on a step row: what it says, its icon, a test marker and what it does."""

    label: str
    icon: str
    marker: str
    handler: Callable[[], Any]


StepActions = Callable[[dict[str, Any]], list[StepAction]]


class RunPanel:
    """The run's identity and progress: status, correlation id, trigger, attempt, who, when, errors."""

    def __init__(self) -> None:
        self.container = ui.column().classes('w-full gap-1').mark('run-panel')
        self._shown: object = _NOTHING_YET

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
            _run_facts(run)


class StepTimeline:
    """One row per step in workflow order, each redrawn only when its step (or its actions) changed.

    With no run yet it lists the eleven provisioning steps; a run whose steps differ (another kind of
    run) gets its own rows."""

    def __init__(self, actions_for: StepActions) -> None:
        self.actions_for = actions_for
        self.rows: dict[str, ui.element] = {}
        self._shown: dict[str, tuple] = {}
        self.container = ui.column().classes('w-full gap-0 divide-y').mark('step-timeline')

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
                self.rows[key] = ui.row().classes('w-full items-start gap-3 py-2 flex-nowrap') \
                    .mark(f'step-{key}')

    def _draw(self, row: ui.element, step: dict[str, Any], actions: list[StepAction]) -> None:
        row.clear()
        with row:
            status_icon(step['status']).classes('text-2xl mt-1')
            with ui.column().classes('gap-0 grow min-w-0'):
                with ui.row().classes('items-center gap-2'):
                    ui.label(f"{step['position']}. {step['title']}").classes('font-medium')
                    status_badge(step['status']).mark(f"status-{step['key']}")
                    if not step.get('critical', True):
                        ui.label('optional').classes('text-xs text-gray-500')
                ui.label(_step_facts(step)).classes('text-sm text-gray-600')
                if step.get('error'):
                    category = step.get('error_category') or 'error'
                    ui.label(f"{category}: {step['error']}").classes('text-sm text-red-800 break-words') \
                        .mark(f"error-{step['key']}")
                if step.get('manual_by'):
                    verb = 'Skipped' if step['status'] == 'SKIPPED' else 'Marked succeeded'
                    ui.label(f"{verb} by hand by {step['manual_by']}: {step.get('manual_reason') or ''}") \
                        .classes('text-sm text-orange-900').mark(f"manual-{step['key']}")
            with ui.row().classes('gap-1 shrink-0'):
                for action in actions:
                    ui.button(action.label, icon=action.icon, on_click=action.handler) \
                        .props('flat dense no-caps').mark(action.marker)


def plan_report(report: list[PlannedStep]) -> None:
    """What a plan run found: per step, what exists and what a provisioning run would create."""
    to_create = sum(len(step.create) for step in report)
    ui.label(f'A provisioning run would create {to_create} document(s); nothing was written.') \
        .classes('font-medium').mark('plan-summary')
    with ui.column().classes('w-full gap-1'):
        for step in report:
            with ui.row().classes('w-full items-start gap-2 flex-nowrap'):
                status_icon(step.status)
                with ui.column().classes('gap-0'):
                    ui.label(step.title).classes('font-medium')
                    for name in step.create:
                        ui.label(f'would create {name}').classes('text-sm text-blue-900')
                    for name in step.exists:
                        ui.label(f'exists: {name}').classes('text-sm text-gray-600')
                    if step.note:
                        ui.label(step.note).classes('text-sm text-gray-600')
                    if step.error:
                        ui.label(step.error).classes('text-sm text-red-800')


# -- formatting ----------------------------------------------------------------------------------------

def fmt_time(value: datetime | None) -> str:
    return f'{value:%Y-%m-%d %H:%M:%S} UTC' if value else '—'


def fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return '—'
    if seconds < 60:
        return f'{seconds:.1f} s'
    minutes, rest = divmod(int(round(seconds)), 60)
    return f'{minutes} min {rest} s' if minutes < 60 else f'{minutes // 60} h {minutes % 60} min'


def run_duration(run: dict[str, Any]) -> float | None:
    started, finished = run.get('started_at'), run.get('finished_at')
    return (finished - started).total_seconds() if started and finished else None


def _run_facts(run: dict[str, Any]) -> None:
    with ui.row().classes('items-center gap-3'):
        ui.label(f"Run #{run['id']}").classes('text-lg font-semibold').mark('run-id')
        status_badge(run['status']).mark('run-status')
        ui.label(MODE_LABELS.get(run.get('mode'), str(run.get('mode')))).classes('text-sm')
        if run.get('stuck'):
            with ui.row().classes('items-center gap-1 text-red-800').mark('run-stuck'):
                ui.icon('report')
                ui.label('stuck — needs manual intervention').classes('font-semibold')
    facts = [('correlation id (X-Request-ID)', run.get('correlation_id')), ('trigger', run.get('trigger')),
             ('attempt', run.get('attempt')), ('requested by', run.get('requested_by') or '—'),
             ('queued', fmt_time(run.get('queued_at'))), ('started', fmt_time(run.get('started_at'))),
             ('finished', fmt_time(run.get('finished_at'))), ('duration', fmt_seconds(run_duration(run))),
             ('warnings', run.get('warnings', 0))]
    with ui.grid(columns='auto 1fr').classes('gap-x-4 gap-y-0 text-sm'):
        for label, value in facts:
            ui.label(label).classes('text-gray-600')
            ui.label(str(value)).classes('break-all')
    if run.get('next_retry_at'):
        ui.label(f"Next automatic retry at {fmt_time(run['next_retry_at'])}").classes('text-blue-900') \
            .mark('run-next-retry')
    if run.get('error_message'):
        where = f" in step {run['error_step']}" if run.get('error_step') else ''
        ui.label(f"{run.get('error_category') or 'error'}{where}: {run['error_message']}") \
            .classes('text-red-800 break-words').mark('run-error')


def _step_facts(step: dict[str, Any]) -> str:
    parts = [f"attempts: {step.get('attempts') or 0}"]
    if step.get('duration_ms') is not None:
        parts.append(f"took {fmt_seconds(step['duration_ms'] / 1000)}")
    elif step['status'] == 'RUNNING' and step.get('started_at'):
        parts.append(f"running since {fmt_time(step['started_at'])}")
    if step.get('finished_at'):
        parts.append(f"finished {fmt_time(step['finished_at'])}")
    return ' · '.join(parts)


def _not_run(step, position: int) -> dict[str, Any]:
    return {'key': step.key, 'title': step.title, 'position': position, 'critical': step.critical,
            'status': 'PENDING', 'attempts': 0}


def _step_signature(step: dict[str, Any]) -> tuple:
    return tuple(step.get(key) for key in ('status', 'attempts', 'duration_ms', 'started_at', 'finished_at',
                                          'error_category', 'error', 'manual_by', 'manual_reason'))


def _run_signature(run: dict[str, Any] | None) -> tuple | None:
    if run is None:
        return None
    return tuple(run.get(key) for key in RUN_FIELDS_SHOWN)


RUN_FIELDS_SHOWN = ('id', 'status', 'mode', 'trigger', 'attempt', 'requested_by', 'correlation_id',
                    'queued_at', 'started_at', 'finished_at', 'warnings', 'next_retry_at', 'stuck',
                    'error_category', 'error_step', 'error_message')
