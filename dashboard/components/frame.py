"""The frame around every signed-in page: navigation by role (the current page marked; a menu
button on narrow screens), the user menu and the alert banner; it also watches the page's session.

Visibility by width uses Quasar's classes (`gt-sm`, `lt-md`): Quasar's `.hidden` is `!important`,
so Tailwind's `hidden md:flex` would hide an element at every width."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from nicegui import app, context, ui

from dashboard import session
from dashboard.components.formatting import alert_title
from dashboard.components.post_form import post_form
from dashboard.session import ADMIN_ONLY, ANY_ROLE, MANAGER_PLUS
from engine.services import alerts
from storage.tables import Alert, User

ALERT_REFRESH_S = 10.0
SESSION_CHECK_S = 12.0  # how often an open page looks its sign-in token up
BANNER_ALERTS = 20  # listed when the banner is opened; a count tells of the rest

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
    _watch_session(user)
    _header(user)
    _alert_banner(user)
    with ui.column().classes('w-full max-w-screen-xl mx-auto p-2 sm:p-4 gap-4'):
        ui.label(title).classes('text-2xl font-semibold')
        yield


def _watch_session(user: User) -> None:
    """Every SESSION_CHECK_S, one look-up of the page's token, and nothing more while nothing changed.
    A session that ended (signed out in another tab, token revoked, user deactivated or deleted) sends
    the page to the sign-in page, and a new role redraws it with that role's navigation and buttons:
    both by reloading it, which the page guard turns into either. The server does not count on the
    browser obeying: right after the reload it deletes the page (its timers, its elements), so a client
    that ignores the reload gets no more data. One timer a page: the frame is drawn once per page load
    (never by a refresh)."""

    async def check() -> None:
        live = await session.live_user()
        if app.is_stopping or (live is not None and live.role == user.role):
            return
        watch.cancel()
        await session.end_page(context.client)  # the reload, then the page deleted on the server

    watch = ui.timer(SESSION_CHECK_S, check, immediate=False)


def _header(user: User) -> None:
    """The top bar: a menu button (narrow screens), the name, the links (wide screens), the user."""
    here = _current_section()
    entries = [(label, path, icon) for label, path, icon, roles in NAVIGATION if user.role in roles]
    with ui.header().classes('items-center gap-4 px-4 py-2 bg-primary no-wrap'):
        log_out = post_form(session.LOGOUT_PATH).mark('log-out-form')  # a POST: see dashboard/session.py
        _phone_menu(entries, here, user, log_out)
        ui.link('Provisioner', '/').classes('text-lg font-bold text-white no-underline')
        _nav_links(entries, here)
        ui.space()
        ui.label(f'{user.username} ({user.role})').classes('text-white text-sm gt-xs')
        ui.button('Log out', icon='logout', on_click=lambda: log_out.submit()).props('flat color=white dense') \
            .classes('gt-sm')


def _phone_menu(entries: list[tuple[str, str, str]], here: str, user: User, log_out: post_form) -> None:
    """The menu button of narrow screens: every entry (the current one bold), then log out."""
    with ui.button(icon='menu').props('flat round color=white dense aria-label="Menu"') \
            .classes('lt-md').mark('nav-menu'), ui.menu():
        for label, path, icon in entries:
            item = ui.menu_item(on_click=lambda p=path: ui.navigate.to(p)) \
                .classes('font-semibold' if path == here else '')
            with item, ui.row().classes('items-center gap-2'):
                ui.icon(icon)
                ui.label(label)
        ui.separator()
        ui.menu_item(f'{user.username} ({user.role}): log out', on_click=lambda: log_out.submit())


def _nav_links(entries: list[tuple[str, str, str]], here: str) -> None:
    """The links of wide screens; the current one highlighted and `aria-current=page`."""
    for label, path, icon in entries:
        current = path == here
        link = ui.link(target=path).classes(
            'text-white no-underline flex items-center gap-1 gt-sm px-2 py-1 rounded '
            + ('bg-white/20 font-semibold' if current else 'hover:bg-white/10')).mark(f'nav-{path}')
        if current:
            link.props('aria-current=page')
        with link:
            ui.icon(icon)
            ui.label(label)


def forbidden(user: User) -> None:
    with ui.card().classes('bg-orange-50'):
        ui.label(f'Your role ({user.role}) does not give access to this page.')
        ui.link('Back to the overview', '/')


def _current_section() -> str:
    """The navigation entry the page on show belongs to ('/tenants/{tenant_id}' → '/tenants')."""
    path = context.client.page.path
    sections = [entry[1] for entry in NAVIGATION if entry[1] != '/']
    return next((section for section in sections if path == section or path.startswith(section + '/')), path)


def _alert_banner(user: User) -> None:
    """Open alerts under the header, re-read every few seconds (alerts open and close on their own).

    However many are open, the banner is ONE line ("3 open alerts: Engine offline: A, …", cut to the
    width) that opens, on a click, into every alert with its whole message (wrapped, phone too); the
    open/closed choice survives the refreshes of this page."""
    banner = ui.column().classes('w-full gap-0').mark('alert-banner')
    shown: dict[str, Any] = {'alerts': None, 'open': False}

    def remember(event: Any) -> None:
        shown['open'] = bool(event.value)

    def fill() -> None:
        database = session.database()
        rows = alerts.open_alerts(database, limit=BANNER_ALERTS)
        total = alerts.count_open(database) if len(rows) == BANNER_ALERTS else len(rows)
        signature = (total, [(alert.id, alert.message) for alert in rows])
        if signature == shown['alerts']:
            return
        shown['alerts'] = signature
        banner.clear()
        if rows:
            with banner:
                _alert_summary(rows, total, expanded=shown['open'], on_change=remember, user=user)

    fill()
    ui.timer(ALERT_REFRESH_S, fill)


def _alert_summary(rows: list[Alert], total: int, *, expanded: bool, on_change: Any, user: User) -> None:
    critical = any(alert.severity == 'critical' for alert in rows)
    colours = 'bg-red-100 text-red-900' if critical else 'bg-orange-100 text-orange-900'
    titles = ', '.join(alert_title(alert.rule, alert.subject) for alert in rows)
    count = f'{total} open alert{"" if total == 1 else "s"}'
    with ui.expansion(value=expanded, on_value_change=on_change).classes(f'w-full {colours}') \
            .props('dense switch-toggle-side expand-icon-class=text-inherit').mark('alert-summary') as panel:
        with panel.add_slot('header'):
            with ui.row().classes('w-full items-center gap-2 flex-nowrap min-w-0'):
                ui.icon('warning').classes('shrink-0')
                ui.label(count).classes('font-semibold shrink-0').mark('alert-count')
                ui.label(titles).classes('text-sm truncate min-w-0').mark('alert-titles')
        with ui.column().classes('w-full gap-2 pb-1'):
            for alert in rows:
                _alert_row(alert, user)
            if total > len(rows):
                ui.label(f'… and {total - len(rows)} older alerts.').classes('text-sm') \
                    .mark('alert-more')


def _alert_row(alert: Alert, user: User) -> None:
    with ui.column().classes('w-full gap-0 min-w-0').mark(f'alert-{alert.id}'):
        with ui.row().classes('items-baseline gap-x-2 gap-y-0'):
            ui.label(alert_title(alert.rule, alert.subject)).classes('font-semibold break-words') \
                .style('overflow-wrap: anywhere').mark('alert-title')
            ui.label(f'since {alert.opened_at:%Y-%m-%d %H:%M} UTC').classes('text-xs opacity-70')
        if alert.message:
            ui.label(alert.message).classes('text-sm whitespace-normal') \
                .style('overflow-wrap: anywhere').mark('alert-message')
        if alert.rule == 'engine_offline':
            _engine_offline_action(alert.subject, user)


def _engine_offline_action(engine_name: str, user: User) -> None:
    """What the reader can do about an offline engine: an admin fixes it on Engines; the others cannot
    open that page, so they are told whom to ask."""
    if user.role in ADMIN_ONLY:
        ui.link('Fix it on Engines', '/engines').classes('text-sm').mark('alert-action')
    else:
        ui.label(f"Ask an admin to fix engine '{engine_name}' (on Engines, a page for admins); its queued runs "
                 'start by themselves once it answers.').classes('text-sm').mark('alert-action')
