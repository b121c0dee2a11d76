"""First-start admin, logins, lockout, login rate limits, tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from api_helpers import ADMIN_PASSWORD, PASSWORD, make_user

from dashboard.api.deps import LoginLimiter
from engine.services import audit, users
from engine.settings import load_settings
from storage.db import Database
from storage.tables import utcnow

TOKEN_URL = '/api/v1/auth/token'


def test_first_start_creates_admin_with_a_generated_password_printed_once(tmp_path, clean_env) -> None:
    settings = load_settings(database_url=f'sqlite:///{tmp_path / "p.db"}', data_dir=tmp_path)
    db = Database.from_url(settings.database_url)

    password = users.ensure_admin(db, settings)

    assert password is not None and len(password) >= 10
    assert users.authenticate(db, 'admin', password).role == 'admin'
    assert users.ensure_admin(db, settings) is None  # second start: nothing created, nothing to print
    created = audit.list_events(db, action='user.created').items
    assert [(event.actor, event.details['username']) for event in created] == [('system', 'admin')]
    assert password not in str(created[0].details)
    db.dispose()


def test_first_start_uses_the_configured_admin_password(db, settings) -> None:
    assert users.ensure_admin(db, settings) is None
    assert users.authenticate(db, 'admin', ADMIN_PASSWORD).username == 'admin'


async def test_login_gives_a_bearer_token_that_identifies_the_user(api) -> None:
    answer = await api.post(TOKEN_URL, json={'username': 'admin', 'password': ADMIN_PASSWORD})

    assert answer.status_code == 200
    assert answer.json()['token_type'] == 'bearer'
    token = answer.json()['access_token']
    me = await api.get('/api/v1/auth/me', headers={'Authorization': f'Bearer {token}'})
    assert me.status_code == 200
    assert me.json()['username'] == 'admin' and me.json()['role'] == 'admin'
    assert 'password_hash' not in me.text


@pytest.mark.parametrize(('username', 'password'), [
    ('admin', 'wrong-password'), ('nobody', ADMIN_PASSWORD), ('bad name\x00', 'x'), ('', ''),
])
async def test_bad_credentials_get_one_generic_401(api, username, password) -> None:
    answer = await api.post(TOKEN_URL, json={'username': username, 'password': password})

    assert answer.status_code == 401
    assert answer.json() == {'detail': 'incorrect username or password'}


async def test_five_failures_lock_the_account_for_five_minutes(api) -> None:
    wrong = {'username': 'admin', 'password': 'wrong-password'}
    for _ in range(5):
        assert (await api.post(TOKEN_URL, json=wrong)).status_code == 401

    answer = await api.post(TOKEN_URL, json={'username': 'admin', 'password': ADMIN_PASSWORD})

    assert answer.status_code == 429
    assert 290 <= int(answer.headers['Retry-After']) <= 300
    assert 'try again in' in answer.json()['detail']


def test_the_account_lock_expires_and_a_success_resets_the_counter(db, settings) -> None:
    users.ensure_admin(db, settings)
    limiter = LoginLimiter(account_failures='6/15 minutes')
    start = utcnow()
    for number in range(6):  # from six addresses: no address reaches its own limit
        with pytest.raises(users.AuthenticationFailed):
            users.sign_in(db, limiter, 'admin', 'wrong-password', client=f'10.0.0.{number}', now=start)
    with pytest.raises(users.AccountLocked):
        users.sign_in(db, limiter, 'admin', ADMIN_PASSWORD, client='10.0.1.1', now=start + timedelta(minutes=4))

    user = users.sign_in(db, limiter, 'admin', ADMIN_PASSWORD, client='10.0.1.1',
                         now=start + timedelta(minutes=5, seconds=1)).user

    assert user.failed_logins == 0 and user.locked_until is None


async def test_an_inactive_user_cannot_log_in_and_loses_its_tokens(api, admin) -> None:
    support = await make_user(api, admin, 'sam', 'support')
    sam_id = (await api.get('/api/v1/auth/me', headers=support)).json()['id']

    deactivated = await api.patch(f'/api/v1/users/{sam_id}', headers=admin, json={'active': False})
    assert deactivated.status_code == 200

    assert (await api.get('/api/v1/auth/me', headers=support)).status_code == 401
    answer = await api.post(TOKEN_URL, json={'username': 'sam', 'password': PASSWORD})
    assert answer.status_code == 401 and answer.json()['detail'] == 'incorrect username or password'


async def test_login_attempts_are_rate_limited_per_client_address(app, api) -> None:
    app.state.login_limiter = LoginLimiter(per_client='3/minute')
    for number in range(3):
        await api.post(TOKEN_URL, json={'username': f'user{number}', 'password': 'x' * 10})

    answer = await api.post(TOKEN_URL, json={'username': 'admin', 'password': ADMIN_PASSWORD})

    assert answer.status_code == 429 and 'Retry-After' in answer.headers


async def test_logout_revokes_the_token(api, admin) -> None:
    assert (await api.post('/api/v1/auth/logout', headers=admin)).status_code == 204

    answer = await api.get('/api/v1/auth/me', headers=admin)

    assert answer.status_code == 401
    assert answer.headers['WWW-Authenticate'] == 'Bearer'


@pytest.mark.parametrize('authorization', [
    None, 'Bearer', 'Bearer not-a-token', 'Basic YWRtaW46eA==', 'Bearer ' + 'x' * 600])
async def test_requests_without_a_live_token_get_401(api, authorization) -> None:
    headers = {'Authorization': authorization} if authorization else {}

    answer = await api.get('/api/v1/tenants', headers=headers)

    assert answer.status_code == 401
    assert answer.json()['detail']


def test_expired_tokens_are_refused(db, settings) -> None:
    users.ensure_admin(db, settings)
    user = users.authenticate(db, 'admin', ADMIN_PASSWORD)
    token = users.issue_token(db, user, ttl=timedelta(minutes=10))

    assert users.user_for_token(db, token) is not None
    assert users.user_for_token(db, token, now=utcnow() + timedelta(minutes=11)) is None
