"""The frame around every signed-in page: navigation by role, the user menu and the alert banner."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from nicegui import ui

from dashboard import session
from dashboard.session import ADMIN_ONLY, ANY_ROLE, MANAGER_PLUS
from engine.services import alerts
from storage.tables import User

ALERT_REFRESH_S = 10.0

NAVIGATION = (  # (label, path, icon, roles)
    ('Overview', '/', 'dashboard', ANY_ROLE),
    ('Tenants', '/tenants', 'storefront', ANY_ROLE),
    ('Metrics', '/charts', 'insights', MANAGER_PLUS),
    ('Engines', '/engines', 'dns', ADMIN_ONLY),
    ('Users', '/users', 'group', ADMIN_ONLY),
    ('Audit log', '/audit', 'history', ADMIN_ONLY),
)


@contextmanager
def frame(title: str, user: User) -> Iterator[None]:
    """Header with the navigation `user` may use, open alerts, then the page's own content."""
    ui.colors(primary='#2f5d8a')
    with ui.header().classes('items-center gap-4 px-4 py-2 bg-primary'):
        ui.link('Provisioner', '/').classes('text-lg font-bold text-white no-underline')
        for label, path, icon, roles in NAVIGATION:
            if user.role in roles:
                with ui.link(target=path).classes('text-white no-underline flex items-center gap-1'):
                    ui.icon(icon)
                    ui.label(label)
        ui.space()
        ui.label(f'{user.username} ({user.role})').classes('text-white text-sm')
        ui.button('Log out', icon='logout', on_click=_log_out).props('flat color=white dense')
    _alert_banner()
    with ui.column().classes('w-full max-w-screen-xl mx-auto p-4 gap-4'):
        ui.label(title).classes('text-2xl font-semibold')
        yield


def forbidden(user: User) -> None:
    with ui.card().classes('bg-orange-50'):
        ui.label(f'Your role ({user.role}) does not give access to this page.')
        ui.link('Back to the overview', '/')


def _alert_banner() -> None:
    """Open alerts under the header, re-read every few seconds (alerts open and close on their own)."""
    banner = ui.column().classes('w-full gap-0')

    def fill() -> None:
        banner.clear()
        with banner:
            for alert in alerts.open_alerts(session.database(), limit=5):
                with ui.row().classes('w-full items-center gap-2 px-4 py-1 bg-red-100 text-red-900'):
                    ui.icon('warning')
                    ui.label(f'{alert.subject}: {alert.message}' if alert.message else alert.subject)
                    ui.label(f'since {alert.opened_at:%Y-%m-%d %H:%M} UTC').classes('text-xs opacity-70')

    fill()
    ui.timer(ALERT_REFRESH_S, fill)


def _log_out() -> None:
    session.log_out()
    ui.navigate.to('/login')
