"""QA pass 9's smaller findings, as the REST API answers them."""

from __future__ import annotations

import pytest
from api_helpers import PASSWORD, new_tenant

from storage.tables import Run, RunMode, RunStatus, Tenant


async def test_cancelling_a_queued_run_leaves_the_tenant_as_it_was(api, admin, sandbox_engine):
    tenant_id = await new_tenant(api, admin)
    run_id = (await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin)).json()['id']

    assert (await api.post(f'/api/v1/runs/{run_id}/cancel', headers=admin)).status_code == 202

    body = (await api.get(f'/api/v1/tenants/{tenant_id}', headers=admin)).json()
    assert (body['status'], body['last_error']) == ('NOT_STARTED', None)


async def test_cancelling_a_queued_teardown_leaves_the_tenant_as_it_was(api, admin, db, sandbox_engine):
    tenant_id = await new_tenant(api, admin)
    with db.session() as session:  # a run that failed after creating the company: something to tear down
        tenant = session.get(Tenant, tenant_id)
        session.add(Run(tenant_id=tenant_id, engine_id=tenant.engine_id, status=RunStatus.FAILED,
                        mode=RunMode.PROVISION, correlation_id='earlier', meta={'intents': {'Company': ['Acme']}}))
        tenant.status, tenant.last_error = 'FAILED', 'Create warehouses: ERPNext was down'
        session.add(tenant)
    run_id = (await api.post(f'/api/v1/tenants/{tenant_id}/deprovision', headers=admin)).json()['id']
    assert (await api.get(f'/api/v1/tenants/{tenant_id}', headers=admin)).json()['status'] == 'DEPROVISIONING'

    assert (await api.post(f'/api/v1/runs/{run_id}/cancel', headers=admin)).status_code == 202

    body = (await api.get(f'/api/v1/tenants/{tenant_id}', headers=admin)).json()
    assert (body['status'], body['last_error']) == ('FAILED', 'Create warehouses: ERPNext was down')


@pytest.mark.parametrize(('query', 'expected'), [
    ('%00', 'q: must contain only printable characters (no tabs, line breaks or control characters)'),
    ('acme%09retail', 'q: must contain only printable characters (no tabs, line breaks or control characters)'),
    ('x' * 201, 'q: must be at most 200 characters long'),
])
async def test_a_tenant_query_is_refused_for_what_is_wrong_with_it(api, admin, query, expected):
    answer = await api.get(f'/api/v1/tenants?q={query}', headers=admin)

    assert (answer.status_code, answer.json()['detail']) == (422, expected)


async def test_a_username_with_an_accent_is_told_ascii_letters(api, admin):
    answer = await api.post('/api/v1/users', headers=admin, json={'username': 'zoë', 'password': PASSWORD,
                                                                  'role': 'support'})

    assert answer.status_code == 422, answer.text
    assert answer.json()['detail'] == ('username: must be 3 to 64 characters: ASCII letters (a to z, no accents), '
                                       'digits, _ . @ or -')


async def test_a_stale_skip_names_the_step_by_its_title(api, admin, sandbox_engine):
    tenant_id = await new_tenant(api, admin)
    run_id = (await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin)).json()['id']
    assert (await api.post(f'/api/v1/runs/{run_id}/cancel', headers=admin)).status_code == 202
    url = f'/api/v1/runs/{run_id}/steps/create_pos_profiles/skip'
    assert (await api.post(url, headers=admin, json={'reason': 'own tills'})).status_code == 202
    assert (await api.post(f'/api/v1/runs/{run_id}/cancel', headers=admin)).status_code == 202

    again = await api.post(url, headers=admin, json={'reason': 'own tills'})  # a second tab's stale click

    assert again.status_code == 409
    assert again.json()['detail'] == f"Step 'Create POS profiles' of run #{run_id} is SKIPPED: it cannot be skipped."
