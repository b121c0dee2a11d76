"""Audit log filters: the actor whatever its case, the action as a whole key or the start of keys,
and the list of keys to pick from."""

from __future__ import annotations

from api_helpers import ADMIN_PASSWORD, make_user

from engine.services import audit, users
from engine.validation import UserCreate, UserUpdate

TOKEN_URL = '/api/v1/auth/token'


async def _events(api, admin, **params) -> list[dict]:
    answer = await api.get('/api/v1/audit', headers=admin, params={'limit': 500, **params})
    assert answer.status_code == 200, answer.text
    return answer.json()['items']


async def test_actor_matches_whatever_the_case(api, admin) -> None:
    await make_user(api, admin, 'sam', 'support')

    shouted = await _events(api, admin, actor='SAM')

    assert shouted and {event['actor'] for event in shouted} == {'sam'}
    assert shouted == await _events(api, admin, actor='sam')


async def test_action_is_a_whole_key_or_the_start_of_keys(api, admin, db) -> None:
    await api.post(TOKEN_URL, json={'username': 'admin', 'password': 'wrong-password'})
    sam = users.create_user(db, UserCreate(username='sam', password='a-long-password-1', role='support'),
                            actor='admin')
    users.update_user(db, sam.id, UserUpdate(role='manager'), actor='admin')

    whole = {event['action'] for event in await _events(api, admin, action='auth.login')}
    started = {event['action'] for event in await _events(api, admin, action='auth.')}
    partial = {event['action'] for event in await _events(api, admin, action='user.upd')}
    nothing = await _events(api, admin, action='auth.%')  # LIKE wildcards are plain text here

    assert whole == {'auth.login'}  # not auth.login_failed: the key exists, so it is taken whole
    assert started == {'auth.login', 'auth.login_failed'}
    assert partial == {'user.updated'}
    assert nothing == []


async def test_the_known_actions_are_listed_sorted(api, admin, db) -> None:
    await make_user(api, admin, 'sam', 'support')

    answer = await api.get('/api/v1/audit/actions', headers=admin)

    assert answer.status_code == 200
    assert answer.json() == sorted({event.action for event in audit.list_events(
        db, limit=500).items})
    assert {'auth.login', 'user.created'} <= set(answer.json())


async def test_the_actions_list_is_for_admins_only(api, admin) -> None:
    support = await make_user(api, admin, 'sam', 'support')

    assert (await api.get('/api/v1/audit/actions', headers=support)).status_code == 403
    assert (await api.get('/api/v1/audit/actions')).status_code == 401
    assert ADMIN_PASSWORD not in str(await _events(api, admin))
