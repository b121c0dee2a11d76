"""Sign-in hardening (review of session 9's sign-in): no token exists, nor sits in NiceGUI's storage
file, while a sign-in waits for its browser; the one-time code travels in a POST body and is good
once, in time, and for a user still allowed in; signing out is a POST, and both posts are refused
from another site; a one-second lock reads '1 second'."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from nicegui import app
from nicegui.storage import Storage
from nicegui.testing import User
from sqlmodel import select
from ui_helpers import PASSWORD, SITE, ensure_user, finish_sign_in, form_fields, post_page_form, sign_in

from dashboard import session
from dashboard.session import SESSION_COOKIE
from engine.services import audit, users
from engine.validation import UserUpdate
from storage.tables import ApiToken, User as UserRow, utcnow

pytestmark = pytest.mark.nicegui_main_file('main.py')

ELSEWHERE = 'http://evil.example'


async def type_password(user: User, username: str = 'sam', password: str = PASSWORD) -> None:
    ensure_user('sam', 'support')
    await user.open('/login?next=%2Ftenants')
    user.find('Username').type(username)
    user.find('Password').type(password)
    user.find('Sign in').click()


async def signed_in(user: User) -> bool:
    answer = await user.http_client.get('/tenants', follow_redirects=False)
    return answer.status_code == 200


def ui_tokens() -> list[ApiToken]:
    with app.state.db.session() as db_session:
        return list(db_session.exec(select(ApiToken).where(ApiToken.name == 'ui session')))


async def storage_file_holding(text: str) -> str:
    """The content of NiceGUI's user storage file that holds `text` (written a moment after the change)."""
    for _ in range(50):
        for path in Path(Storage.path).glob('storage-user-*.json'):
            content = path.read_text()
            if text in content:
                return content
        await asyncio.sleep(0.1)
    raise AssertionError(f'no user storage file holds {text!r}')


async def test_no_token_exists_or_is_stored_while_a_sign_in_waits(user: User) -> None:
    await type_password(user)
    _, fields = await form_fields(user, 'finish-sign-in', wait_for='code')

    stored = await storage_file_holding(hashlib.sha256(fields['code'].encode()).hexdigest())
    assert ui_tokens() == []  # the password checked out, but no token yet
    assert audit.list_events(app.state.db, action='auth.login').total == 0

    await finish_sign_in(user)
    await user.should_see('sam (support)')

    token = user.http_client.cookies[SESSION_COOKIE]
    assert token not in stored
    assert all(token not in path.read_text() for path in Path(Storage.path).glob('storage-user-*.json'))
    [row] = ui_tokens()
    [login] = audit.list_events(app.state.db, action='auth.login').items  # one sign-in, one event, its token
    assert login.details['token_id'] == row.id and login.details['token_name'] == 'ui session'


async def test_the_code_travels_in_the_body_only(user: User) -> None:
    await type_password(user)
    await finish_sign_in(user)
    await user.should_see('sam (support)')
    assert not [path for path in user.back_history if '?code=' in path or '&code=' in path]
    old_style = await user.http_client.get('/login/finish?code=anything', follow_redirects=False)
    assert old_style.status_code in (404, 405)


async def test_a_wrong_code_signs_nothing_in_and_the_right_one_still_works(user: User) -> None:
    await type_password(user)
    action, _ = await form_fields(user, 'finish-sign-in', wait_for='code')
    for wrong in ('guess', '', 'x' * 5000):
        answer = await user.http_client.post(action, data={'code': wrong}, headers={'Origin': SITE},
                                             follow_redirects=False)
        assert (answer.status_code, answer.headers['location']) == (303, '/login')
        assert not await signed_in(user)
    assert ui_tokens() == []

    await finish_sign_in(user)
    await user.should_see('sam (support)')


async def test_a_code_is_good_once(user: User) -> None:
    await type_password(user)
    action, fields = await form_fields(user, 'finish-sign-in', wait_for='code')
    await finish_sign_in(user)
    await user.should_see('sam (support)')
    await post_page_form(user, 'log-out-form')
    assert not await signed_in(user)

    again = await user.http_client.post(action, data=fields, headers={'Origin': SITE}, follow_redirects=False)

    assert (again.status_code, again.headers['location']) == (303, '/login')
    assert not await signed_in(user)
    assert len(ui_tokens()) == 1  # the first sign-in's, revoked


async def test_a_code_past_its_time_signs_nothing_in(user: User, monkeypatch) -> None:
    monkeypatch.setattr(session, 'HANDOFF_SECONDS', 0.1)
    await type_password(user)
    await form_fields(user, 'finish-sign-in', wait_for='code')
    await asyncio.sleep(0.3)

    answer = await finish_sign_in(user)

    assert answer.headers['location'] == '/login'
    assert not await signed_in(user)
    assert ui_tokens() == []


@pytest.mark.parametrize('change', ['deactivated', 'locked'])
async def test_a_user_deactivated_or_locked_meanwhile_is_not_signed_in(user: User, change: str) -> None:
    await type_password(user)
    await form_fields(user, 'finish-sign-in', wait_for='code')
    sam = next(row for row in users.list_users(app.state.db) if row.username == 'sam')
    if change == 'deactivated':
        users.update_user(app.state.db, sam.id, UserUpdate(active=False), actor='admin')
    else:
        with app.state.db.session() as db_session:
            db_session.get(UserRow, sam.id).locked_until = utcnow() + timedelta(minutes=5)

    answer = await finish_sign_in(user)

    assert answer.headers['location'] == '/login'
    assert not await signed_in(user)
    assert ui_tokens() == []


async def test_opening_the_logout_address_signs_nothing_out(user: User) -> None:
    await sign_in(user, 'admin')
    token = user.http_client.cookies[SESSION_COOKIE]

    await user.open('/logout')  # as an <img src=/logout> on any page would

    await user.should_see('Log out admin?')
    assert users.user_for_token(app.state.db, token) is not None
    await post_page_form(user, 'log-out-form')  # its button
    await user.should_see('Sign in')
    assert users.user_for_token(app.state.db, token) is None


@pytest.mark.parametrize('headers', [
    {'Origin': ELSEWHERE}, {'Origin': 'http://test.evil.example'}, {'Origin': 'https://evil.example:443'},
    {'Origin': 'http://test:8080'}, {'Origin': 'null'}, {},
    {'Origin': 'null', 'Sec-Fetch-Site': 'cross-site'}, {'Sec-Fetch-Site': 'same-site'},
    {'Origin': SITE, 'Sec-Fetch-Site': 'cross-site'},  # a forged Origin cannot hide what the browser says
])
async def test_a_log_out_from_another_site_is_refused(user: User, headers: dict[str, str]) -> None:
    await sign_in(user, 'admin')
    token = user.http_client.cookies[SESSION_COOKIE]

    answer = await user.http_client.post('/logout', headers=headers, follow_redirects=False)

    assert answer.status_code == 403 and 'nothing was done' in answer.text
    assert 'set-cookie' not in answer.headers
    assert users.user_for_token(app.state.db, token) is not None


@pytest.mark.parametrize('headers', [
    {'Origin': SITE}, {'Origin': 'http://test:80'}, {'Origin': SITE, 'Sec-Fetch-Site': 'same-origin'},
    {'Origin': 'null', 'Sec-Fetch-Site': 'same-origin'},  # Chromium's own post under Referrer-Policy: no-referrer
])
async def test_a_log_out_from_this_site_is_done(user: User, headers: dict[str, str]) -> None:
    await sign_in(user, 'admin')
    token = user.http_client.cookies[SESSION_COOKIE]

    answer = await user.http_client.post('/logout', headers=headers, follow_redirects=False)

    assert (answer.status_code, answer.headers['location']) == (303, '/login')
    assert users.user_for_token(app.state.db, token) is None


async def test_a_sign_in_finished_from_another_site_is_refused_and_the_code_kept(user: User) -> None:
    await type_password(user)

    refused = await finish_sign_in(user, origin=ELSEWHERE)

    assert refused.status_code == 403 and 'set-cookie' not in refused.headers
    assert ui_tokens() == []
    await finish_sign_in(user)
    await user.should_see('sam (support)')


async def test_a_one_second_lock_reads_1_second(user: User) -> None:
    ensure_user('sam', 'support')
    sam = next(row for row in users.list_users(app.state.db) if row.username == 'sam')
    await user.open('/login')
    user.find('Username').type('sam')
    user.find('Password').type(PASSWORD)
    with app.state.db.session() as db_session:  # the last moment of a lock
        db_session.get(UserRow, sam.id).locked_until = utcnow() + timedelta(seconds=1)
    user.find('Sign in').click()

    await user.should_see('Too many failed sign-ins: try again in 1 second.')
