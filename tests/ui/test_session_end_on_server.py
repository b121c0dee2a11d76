"""A page whose session ended is ended by the server too, not only by the browser's reload (code
review: a client that ignored the reload kept its websocket and its timer-driven data, and the CSV
upload previewed without asking who is signed in); and signing out does its database work off the
event loop (on SQLite it waited on the database's write turn and froze every page meanwhile)."""

from __future__ import annotations

import asyncio
import importlib
import threading
from collections.abc import Awaitable

import httpx
import pytest
from nicegui import Client, app, ui
from nicegui.testing import User
from test_actions_use_current_rights import SIGNED_OUT, SLOW, change_user, log_out_in_another_tab
from test_tenants_page import CSV, open_list, upload
from ui_helpers import PASSWORD, SITE, ensure_user, form_fields, sign_in

from dashboard.session import SESSION_COOKIE
from engine.services import users

pytestmark = pytest.mark.nicegui_main_file('main.py')


def ignore_reloads(user: User, monkeypatch) -> None:
    """The simulated browser no longer obeys `ui.navigate.reload()` (a modified or stuck client)."""
    monkeypatch.setattr(user.navigate, 'reload', lambda: None)


def timers(client: Client) -> list[ui.timer]:
    return [element for element in client.elements.values() if isinstance(element, ui.timer)]


def preview_table(user: User) -> ui.table:
    """The dialog's preview table (hidden while it has no rows, so `user.find` passes it by)."""
    return next(element for element in user.client.elements.values() if 'import-preview' in element._markers)


async def gone(client: Client, seconds: float = 10.0) -> bool:
    for _ in range(int(seconds / 0.1)):
        if client.is_deleted and client.id not in Client.instances:
            return True
        await asyncio.sleep(0.1)
    return False


async def test_a_page_whose_token_is_revoked_is_deleted_even_if_it_ignores_the_reload(
        user: User, monkeypatch) -> None:
    monkeypatch.setattr(importlib.import_module('dashboard.components.frame'), 'SESSION_CHECK_S', 0.2)
    await open_list(user, role='support')
    page = user.client
    ignore_reloads(user, monkeypatch)
    await asyncio.sleep(1)  # looks at an unchanged session: the page stays
    assert page.id in Client.instances and timers(page)

    users.revoke_token(app.state.db, user.http_client.cookies[SESSION_COOKIE], actor='tests')

    assert await gone(page)  # no timer of it fires again, no event of its browser is handled
    assert not page.elements


async def test_a_refused_action_stops_the_pages_timers_then_deletes_it(user: User, monkeypatch) -> None:
    await open_list(user, role='support')
    page = user.client
    refreshes = timers(page)  # the frame's session check, the alert banner, the list's own
    assert refreshes
    ignore_reloads(user, monkeypatch)
    await log_out_in_another_tab(user)

    user.find('Import CSV').click()
    await upload(user, CSV.encode())

    await user.should_see(SIGNED_OUT, retries=SLOW)
    assert all(timer._is_canceled for timer in refreshes)  # the refreshes stop at once
    assert await gone(page)  # and the page goes once the reload was sent


async def test_an_upload_after_signing_out_previews_nothing(user: User) -> None:
    await open_list(user, role='support')
    user.find('Import CSV').click()
    await user.should_see('No file loaded yet.')
    preview = preview_table(user)
    await log_out_in_another_tab(user)

    await upload(user, CSV.encode())  # 'Acme Retail' exists or not: the preview would tell

    await user.should_see(SIGNED_OUT, retries=SLOW)
    assert preview.rows == []
    await user.should_not_see('will be created')


async def test_an_upload_by_a_manager_previews_nothing(user: User) -> None:
    """Only support and admins import (as POST /api/v1/tenants): a manager's page offers no import,
    and one whose role changed meanwhile is refused."""
    await open_list(user, role='support')
    user.find('Import CSV').click()
    preview = preview_table(user)
    await change_user(user, 'support', role='manager')

    await upload(user, CSV.encode())

    await user.should_see('Your role no longer allows this: you are now a manager.', retries=SLOW)
    assert preview.rows == []


async def test_signing_out_does_not_hold_the_event_loop_while_the_database_is_busy(user: User) -> None:
    await sign_in(user, 'support')
    token = user.http_client.cookies[SESSION_COOKIE]

    answer, waited, loop_ran = await while_the_database_is_busy(
        user.http_client.post('/logout', headers={'Origin': SITE}, follow_redirects=False))

    assert loop_ran, 'the event loop stood still while the sign-out waited for the database'
    assert waited  # the sign-out did wait for the database (it finished after the writer let go)
    assert answer.status_code == 303 and answer.headers['location'] == '/login'
    assert users.user_for_token(app.state.db, token) is None  # and it did sign out


async def test_finishing_a_sign_in_does_not_hold_the_event_loop_while_the_database_is_busy(user: User) -> None:
    ensure_user('support', 'support')
    await user.open('/login')
    user.find('Username').type('support')
    user.find('Password').type(PASSWORD)
    user.find('Sign in').click()
    action, fields = await form_fields(user, 'finish-sign-in', wait_for='code')

    answer, waited, loop_ran = await while_the_database_is_busy(
        user.http_client.post(action, data=fields, headers={'Origin': SITE}, follow_redirects=False))

    assert loop_ran, 'the event loop stood still while the sign-in waited for the database'
    assert waited
    assert answer.status_code == 303 and answer.headers['location'] == '/'
    assert users.user_for_token(app.state.db, answer.cookies[SESSION_COOKIE]).username == 'support'


async def while_the_database_is_busy(request: Awaitable[httpx.Response]) -> tuple[httpx.Response, bool, bool]:
    """Send `request` while another thread (a runner, say) holds SQLite's write turn, and let the loop
    turn for 0.5 s meanwhile; the answer, whether it was still waiting then, and whether the loop ran
    (the writer lets go as soon as the loop tells it, or after 5 s if the loop stood still)."""
    held, loop_ran, outcome = threading.Event(), threading.Event(), {}

    def busy_writer() -> None:
        with app.state.db.transaction():
            held.set()
            outcome['loop_ran'] = loop_ran.wait(timeout=5)

    writer = threading.Thread(target=busy_writer)
    writer.start()
    assert await asyncio.to_thread(held.wait, 5)
    task = asyncio.ensure_future(request)
    for _ in range(10):  # ten turns of the loop while the request waits for the write turn
        await asyncio.sleep(0.05)
    waited = not task.done()
    loop_ran.set()
    answer = await task
    await asyncio.to_thread(writer.join, 10)
    return answer, waited, outcome['loop_ran']
