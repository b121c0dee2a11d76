"""User management: create, change role/active/password, and the last admin stays."""

from __future__ import annotations

import pytest
from api_helpers import PASSWORD, login, make_user

from engine.rate_limits import LoginLimiter
from engine.services import users


async def test_an_admin_creates_users_and_no_hash_is_ever_returned(api, admin) -> None:
    created = await api.post('/api/v1/users', headers=admin,
                             json={'username': 'Sam.Support', 'password': PASSWORD, 'role': 'support'})
    listed = await api.get('/api/v1/users', headers=admin)

    assert created.status_code == 201
    assert created.json()['username'] == 'sam.support' and created.json()['role'] == 'support'
    assert [user['username'] for user in listed.json()] == ['admin', 'sam.support']
    assert all('hash' not in answer.text and PASSWORD not in answer.text for answer in (created, listed))
    await login(api, 'SAM.SUPPORT', PASSWORD)  # usernames are case-insensitive


@pytest.mark.parametrize(('fields', 'status', 'detail'), [
    ({'username': 'admin'}, 409, "a user named 'admin' already exists"),
    ({'username': 'ab'}, 422, 'username: must be 3 to 64 characters'),
    ({'username': 'bad name'}, 422, 'username: must be 3 to 64'),
    ({'password': 'short'}, 422, 'password: must be at least 10 characters'),
    ({'password': ' ' * 12}, 422, 'password: must not be blank (spaces alone are no password)'),
    ({'password': '   short    '}, 422, 'password: must be at least 10 characters long, not counting spaces'),
    ({'role': 'boss'}, 422, "role: must be one of 'admin', 'support'"),
])
async def test_user_input_is_validated(api, admin, fields, status, detail) -> None:
    body = {'username': 'sam', 'password': PASSWORD, 'role': 'support', **fields}

    answer = await api.post('/api/v1/users', headers=admin, json=body)

    assert answer.status_code == status
    assert answer.json()['detail'].startswith(detail)


async def test_a_password_change_revokes_old_tokens_and_the_new_one_works(api, admin) -> None:
    support = await make_user(api, admin, 'sam', 'support')
    sam_id = (await api.get('/api/v1/auth/me', headers=support)).json()['id']

    change = {'password': 'a-brand-new-password'}

    answer = await api.patch(f'/api/v1/users/{sam_id}', headers=admin, json=change)

    assert answer.status_code == 200
    assert (await api.get('/api/v1/auth/me', headers=support)).status_code == 401
    await login(api, 'sam', 'a-brand-new-password')


async def test_a_role_change_takes_effect_on_the_next_request(api, admin) -> None:
    manager = await make_user(api, admin, 'mia', 'manager')
    mia_id = (await api.get('/api/v1/auth/me', headers=manager)).json()['id']
    assert (await api.get('/api/v1/users', headers=manager)).status_code == 403

    await api.patch(f'/api/v1/users/{mia_id}', headers=admin, json={'role': 'admin'})

    assert (await api.get('/api/v1/users', headers=manager)).status_code == 200


async def test_the_last_active_admin_cannot_be_demoted_or_deactivated(api, admin) -> None:
    admin_id = (await api.get('/api/v1/auth/me', headers=admin)).json()['id']

    for change in ({'role': 'support'}, {'active': False}):
        answer = await api.patch(f'/api/v1/users/{admin_id}', headers=admin, json=change)
        assert answer.status_code == 409
        assert 'last active admin' in answer.json()['detail']
    assert (await api.get('/api/v1/auth/me', headers=admin)).json()['role'] == 'admin'


async def test_an_admin_password_reset_lifts_a_lockout(app, api, admin) -> None:
    await make_user(api, admin, 'sam', 'support')
    limiter = app.state.login_limiter = LoginLimiter(account_failures='5/15 minutes')
    for number in range(5):  # five addresses: only the account's own lock is reached
        with pytest.raises(users.AuthenticationFailed):
            users.sign_in(app.state.db, limiter, 'sam', 'wrong-password', client=f'10.0.0.{number}')
    listed = (await api.get('/api/v1/users', headers=admin)).json()
    sam = next(user for user in listed if user['username'] == 'sam')
    assert sam['locked_until'] is not None

    await api.patch(f'/api/v1/users/{sam["id"]}', headers=admin, json={'password': 'another-password'})

    await login(api, 'sam', 'another-password')


async def test_unknown_user_is_404(api, admin) -> None:
    answer = await api.patch('/api/v1/users/4242', headers=admin, json={'active': True})

    assert answer.status_code == 404 and answer.json() == {'detail': 'no user with id 4242'}
