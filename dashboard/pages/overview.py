"""Overview: tenants by status, runs in progress, open alerts, success rate and mean provisioning
time against their targets; re-read every few seconds (redrawn only when something changed)."""

from __future__ import annotations

from nicegui import run, ui

from dashboard import session
from dashboard.components.formatting import alert_title, fmt_seconds
from dashboard.components.status import status_badge
from dashboard.session import ANY_ROLE, guarded_page
from engine.services import overview as service
from engine.services.overview import MeanDuration, Overview, SuccessRate
from storage.tables import TenantStatus, User

REFRESH_S = 3.0


@guarded_page('/', title='Overview', roles=ANY_ROLE)
async def overview_page(user: User) -> None:
    db = session.database()
    shown = {'data': await run.io_bound(service.overview, db)}
    if shown['data'] is None:  # the app is shutting down
        return

    @ui.refreshable
    def content() -> None:
        _draw(shown['data'])

    async def refresh() -> None:
        data = await run.io_bound(service.overview, db)
        if data is not None and data != shown['data']:  # (None: the app is shutting down)
            shown['data'] = data
            content.refresh()

    content()
    ui.timer(REFRESH_S, refresh)


def _draw(data: Overview) -> None:
    with ui.row().classes('w-full gap-4 items-stretch'):
        _tenant_counts(data)
        _success_rates(data.success_24h, data.success_7d)
        _mean_duration(data.mean_duration)
    _runs_in_progress(data)
    _alerts(data)


def _tenant_counts(data: Overview) -> None:
    with ui.card().classes('min-w-64').mark('overview-tenants'):
        ui.label(f'Tenants: {data.tenants_total}').classes('text-lg font-semibold')
        for status in TenantStatus:
            link = ui.link(target=f'/tenants?status={status.value}')
            with link.classes('no-underline flex items-center gap-2'):
                status_badge(status.value)
                count = data.tenants_by_status.get(status, 0)
                ui.label(str(count)).classes('text-lg').mark(f'count-{status.value}')
        with ui.link(target='/tenants?drifted=1').classes('no-underline flex items-center gap-2'):
            ui.badge('DRIFTED', color='orange-8').classes('px-2 py-1')
            ui.label(str(data.drifted)).classes('text-lg').mark('count-DRIFTED')


def _success_rates(day: SuccessRate, week: SuccessRate) -> None:
    with ui.card().classes('min-w-72').mark('overview-success'):
        ui.label('Success rate').classes('text-lg font-semibold')
        for label, rate in (('Last 24 hours', day), ('Last 7 days', week)):
            with ui.row().classes('items-center gap-2'):
                ui.label(f'{label}:').classes('w-28')
                if rate.rate is None:
                    ui.label(f'no decided runs yet ({rate.cancelled} cancelled not counted)' if rate.cancelled
                             else 'no finished runs yet').classes('text-gray-600')
                else:
                    colour = _colour(rate.meets_target)
                    ui.label(f'{rate.rate:.1%}').classes(f'text-lg font-semibold {colour}')
                    ui.label(rate.basis).classes('text-sm text-gray-600')
        ui.label(f'Target: at least {service.SUCCESS_RATE_TARGET:.0%}').classes('text-sm text-gray-600')


def _mean_duration(duration: MeanDuration) -> None:
    with ui.card().classes('min-w-72').mark('overview-duration'):
        ui.label('Mean provisioning time').classes('text-lg font-semibold')
        if duration.seconds is None:
            ui.label('no finished runs yet').classes('text-gray-600')
        else:
            ui.label(_duration_text(duration.seconds)).classes(
                f'text-lg font-semibold {_colour(duration.meets_target)}')
            runs = 'run' if duration.runs == 1 else 'runs'
            ui.label(f'over {duration.runs} successful {runs}, last 7 days').classes('text-sm text-gray-600')
        ui.label(f'Target: at most {service.DURATION_TARGET_S // 60} minutes') \
            .classes('text-sm text-gray-600')


def _runs_in_progress(data: Overview) -> None:
    with ui.card().classes('w-full').mark('overview-runs'):
        ui.label(f'Runs in progress: {data.runs_in_progress_total}').classes('text-lg font-semibold')
        if not data.runs_in_progress:
            ui.label('No run is queued or running.').classes('text-gray-600')
        for item in data.runs_in_progress:
            with ui.row().classes('items-center gap-3'):
                status_badge(item.status)
                ui.link(item.tenant_name, f'/tenants/{item.tenant_id}')
                plan = ' (plan)' if item.mode == 'plan' else ''
                ui.label(f'run #{item.run_id}{plan}').classes('text-sm text-gray-600')
                steps = ', '.join(item.current_steps) or ('waiting in the queue' if item.status == 'QUEUED'
                                                          else 'between steps')
                ui.label(steps).mark('overview-current-step')
        if data.runs_in_progress_total > len(data.runs_in_progress):
            ui.label(f'… and {data.runs_in_progress_total - len(data.runs_in_progress)} more.')


def _alerts(data: Overview) -> None:
    with ui.card().classes('w-full').mark('overview-alerts'):
        ui.label(f'Open alerts: {len(data.alerts)}').classes('text-lg font-semibold')
        if not data.alerts:
            ui.label('No open alerts.').classes('text-gray-600')
        for alert in data.alerts:
            with ui.row().classes('items-center gap-2'):
                ui.icon('warning', color='red-7' if alert.severity == 'critical' else 'orange-8')
                with ui.column().classes('gap-0 min-w-0'):
                    ui.label(alert_title(alert.rule, alert.subject)).classes('font-medium')
                    if alert.message:
                        ui.label(alert.message).classes('text-sm break-words')
                ui.label(f'since {alert.opened_at:%Y-%m-%d %H:%M} UTC').classes('text-xs text-gray-600')


def _colour(meets_target: bool | None) -> str:
    return {True: 'text-green-700', False: 'text-red-700'}.get(meets_target, '')


def _duration_text(seconds: float) -> str:
    return fmt_seconds(seconds)
