"""The audit log records every state change, newest first, and cannot be rewritten."""

from __future__ import annotations

import pytest
from api_helpers import ADMIN_PASSWORD, PASSWORD, make_user, tenant_body
from sqlalchemy import delete, update
from sqlalchemy.exc import DatabaseError

from engine.services import audit
from storage import audit_log
from storage.tables import AuditEvent


async def actions(api, admin, **params: object) -> list[dict]:
    answer = await api.get('/api/v1/audit', headers=admin, params={'limit': 500, **params})
    assert answer.status_code == 200, answer.text
    return answer.json()['items']


async def test_state_changes_are_audited_newest_first(api, admin, engine_id) -> None:
    await api.post('/api/v1/auth/token', json={'username': 'admin', 'password': 'wrong-password'})
    support = await make_user(api, admin, 'sam', 'support')
    sam_id = (await api.get('/api/v1/auth/me', headers=support)).json()['id']
    await api.patch(f'/api/v1/users/{sam_id}', headers=admin,
                    json={'role': 'manager', 'password': 'new-password-1'})
    tenant = (await api.post('/api/v1/tenants', headers=admin, json=tenant_body())).json()

    events = await actions(api, admin)

    by_action = {event['action']: event for event in reversed(events)}  # the newest of each action
    assert {'auth.login', 'auth.login_failed', 'engine.created', 'user.created',
            'user.updated', 'tenant.created'} <= set(by_action)
    assert 'auth.token_issued' not in by_action  # a sign-in is one event: auth.login names its token
    assert by_action['auth.login']['details']['token_name'] == 'login'
    assert [event['id'] for event in events] == sorted((event['id'] for event in events), reverse=True)
    assert by_action['auth.login_failed']['details']['reason'] == 'bad_password'
    assert by_action['engine.created']['details']['name'] == 'Main ERP'
    assert by_action['tenant.created']['tenant_id'] == tenant['id']
    assert by_action['tenant.created']['actor'] == 'admin'
    changes = by_action['user.updated']['details']['changes']
    assert changes == {'role': ['support', 'manager'], 'password': 'changed'}
    everything = str(events)
    assert all(secret not in everything for secret in (ADMIN_PASSWORD, PASSWORD, 'new-password-1', 'argon2'))


async def test_the_log_is_filtered_and_paged(api, admin, engine_id) -> None:
    for number in range(3):
        await api.post('/api/v1/tenants', headers=admin, json=tenant_body(f'Tenant {number}'))

    params = {'action': 'tenant.created', 'limit': 2}
    page = (await api.get('/api/v1/audit', headers=admin, params=params)).json()
    by_actor = await actions(api, admin, actor='nobody')
    first_tenant = page['items'][-1]['tenant_id']

    assert page['total'] == 3
    assert [event['details']['name'] for event in page['items']] == ['Tenant 2', 'Tenant 1']
    assert by_actor == []
    of_tenant = await actions(api, admin, tenant_id=first_tenant)
    assert [event['action'] for event in of_tenant] == ['tenant.created']


def test_the_database_refuses_to_change_or_delete_audit_events(db) -> None:
    with db.session() as session:
        audit_log.record(session, actor='tests', action='tests.recorded', details={'n': 1})

    with pytest.raises(DatabaseError, match='append-only'), db.session() as session:
        session.exec(update(AuditEvent).values(actor='mallory'))
    with pytest.raises(DatabaseError, match='append-only'), db.session() as session:
        session.exec(delete(AuditEvent))

    events = audit.list_events(db).items
    assert [(event.actor, event.action) for event in events] == [('tests', 'tests.recorded')]
