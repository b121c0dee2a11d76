"""Metrics (managers and admins): success rate over time against the 95% target, provisioning time
against the 5-minute target, per-step durations, error and retry rates, runs by outcome.

The period and the bucket live in the URL (`?period=7d&bucket=day`); the numbers come from
engine/services/stats.py in one read and are re-read every minute (redrawn only when they changed).
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from nicegui import run, ui

from dashboard import session
from dashboard.components import charts
from dashboard.components.formatting import fmt_seconds
from dashboard.session import MANAGER_PLUS, guarded_page
from engine.services import stats
from engine.services.stats import MetricsSnapshot
from engine.validation import ServiceError
from storage.tables import RunStatus, User, utcnow

PERIODS = {'24h': ('24 h', timedelta(hours=24)), '7d': ('7 d', timedelta(days=7)),
           '30d': ('30 d', timedelta(days=30))}
BUCKET_LABELS = {'hour': 'Hourly', 'day': 'Daily'}
REFRESH_S = 60.0


@guarded_page('/charts', title='Metrics', roles=MANAGER_PLUS)
async def metrics_page(user: User, period: str = '24h', bucket: str = 'hour') -> None:
    problems = [f"unknown {name} '{value}'" for name, value, known in
                (('period', period, PERIODS), ('bucket', bucket, BUCKET_LABELS)) if value not in known]
    view = MetricsView(period if period in PERIODS else '24h', bucket if bucket in BUCKET_LABELS else 'hour')
    view.problem.set_text('; '.join(problems))
    await view.load()


class MetricsView:
    """The period and bucket controls and the charts of one browser tab."""

    def __init__(self, period: str, bucket: str) -> None:
        self.db = session.database()
        self.period, self.bucket = period, bucket
        self.shown: MetricsSnapshot | None = None
        with ui.row().classes('w-full items-center gap-4'):
            ui.toggle({key: label for key, (label, _) in PERIODS.items()}, value=period,
                      on_change=lambda e: self.change(period=e.value)).mark('metrics-period')
            ui.toggle(BUCKET_LABELS, value=bucket,
                      on_change=lambda e: self.change(bucket=e.value)).mark('metrics-bucket')
            ui.button('Refresh', icon='refresh', on_click=lambda: self.load(force=True)).props('flat')
            ui.space()
            self.window = ui.label('').classes('text-sm text-grey-7').mark('metrics-window')
        self.problem = ui.label('').classes('text-orange-800').mark('metrics-problem')
        self.content = ui.column().classes('w-full gap-4')
        ui.timer(REFRESH_S, self.load)

    async def change(self, *, period: str | None = None, bucket: str | None = None) -> None:
        self.period, self.bucket = period or self.period, bucket or self.bucket
        query = {key: value for key, value in (('period', self.period), ('bucket', self.bucket))
                 if value != {'period': '24h', 'bucket': 'hour'}[key]}
        ui.navigate.history.replace(f'/charts?{urlencode(query)}' if query else '/charts')
        self.problem.set_text('')
        await self.load(force=True)

    async def load(self, *, force: bool = False) -> None:
        since = utcnow() - PERIODS[self.period][1]
        try:
            data = await run.io_bound(stats.snapshot, self.db, since=since, bucket=self.bucket)
        except ServiceError as exc:
            self.problem.set_text(exc.message)
            return
        self.window.set_text(f'{data.since:%Y-%m-%d %H:%M} – {data.until:%Y-%m-%d %H:%M} UTC')
        if force or self.shown is None or _numbers(data) != _numbers(self.shown):
            self.shown = data
            self.content.clear()
            with self.content:
                _draw(data, PERIODS[self.period][0])


def _numbers(data: MetricsSnapshot) -> tuple:
    """What the charts show (not the window's moving end)."""
    return data.bucket, data.timeline, data.by_status, data.durations, data.histogram, data.steps


def _draw(data: MetricsSnapshot, period_label: str) -> None:
    _key_figures(data)
    if data.finished == 0:
        with ui.card().classes('w-full items-center py-8 bg-grey-1').mark('metrics-no-data'):
            ui.icon('insights', size='xl', color='grey-6')
            ui.label(f'No data yet: no provisioning run finished in the last {period_label}.') \
                .classes('text-lg')
            ui.label('Charts appear here once tenants have been provisioned (plan runs do not count).') \
                .classes('text-grey-7')
        return
    with ui.grid(columns='repeat(auto-fit, minmax(min(480px, 100%), 1fr))').classes('w-full gap-4'):
        _chart('Success rate over time', 'chart-success-rate',
               charts.success_rate_figure(data.timeline, bucket=data.bucket, target=stats.SUCCESS_TARGET))
        _chart('Provisioning time (succeeded runs)', 'chart-provisioning-time',
               charts.duration_histogram_figure(data.histogram, target_s=stats.DURATION_TARGET_S))
        _chart('Duration per step (p50 and p95)', 'chart-step-duration',
               charts.step_duration_figure(data.steps))
        _chart('Error and retry rate by step', 'chart-step-rates', charts.step_rates_figure(data.steps))
        _chart('Runs by outcome', 'chart-outcomes', charts.outcomes_figure(data.by_status))


def _key_figures(data: MetricsSnapshot) -> None:
    counts = data.by_status
    with ui.row().classes('w-full gap-4 items-stretch'):
        rate = data.success_rate
        _figure('Success rate', '—' if rate is None else f'{rate:.1%}',
                f'{data.success_basis}; target {stats.SUCCESS_TARGET:.0%}',
                good=None if rate is None else rate >= stats.SUCCESS_TARGET, mark='kpi-success-rate')
        _figure('Finished runs', str(data.finished),
                f"{counts[RunStatus.SUCCEEDED]} succeeded, {counts[RunStatus.FAILED]} failed, "
                f"{counts[RunStatus.CANCELLED]} cancelled", mark='kpi-finished')
        durations = data.durations
        _figure('Provisioning time p50 / p95', f'{_seconds(durations.p50)} / {_seconds(durations.p95)}',
                f'mean {_seconds(durations.mean)}, target {stats.DURATION_TARGET_S / 60:g} min',
                good=None if durations.p95 is None else durations.p95 <= stats.DURATION_TARGET_S,
                mark='kpi-duration')
        _figure('Provisioning runs in flight', str(counts[RunStatus.QUEUED] + counts[RunStatus.RUNNING]),
                f'{counts[RunStatus.QUEUED]} queued, {counts[RunStatus.RUNNING]} running',
                mark='kpi-in-flight')


def _figure(title: str, value: str, note: str, *, mark: str, good: bool | None = None) -> None:
    colour = {True: 'text-green-8', False: 'text-red-8', None: ''}[good]
    with ui.card().classes('min-w-56').mark(mark):
        ui.label(title).classes('text-sm text-grey-7')
        ui.label(value).classes(f'text-2xl font-semibold {colour}')
        ui.label(note).classes('text-xs text-grey-7')


def _chart(title: str, mark: str, figure) -> None:
    with ui.card().classes('w-full'):
        ui.label(title).classes('text-base font-semibold')
        ui.plotly(figure).classes('w-full').mark(mark)


def _seconds(value: float | None) -> str:
    return fmt_seconds(value)
