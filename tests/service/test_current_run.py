"""The run a tenant is shown and acted on: a plan never replaces it (`current_run`; `latest_run` is the
newest run of any mode, as DESIGN.md's contract says), a retry keeps who asked for the run and records
who retried it, and a refusal names the tenant by name."""

from __future__ import annotations

import httpx

from api_helpers import make_user, new_tenant, wait_for_run

POS_PROFILE_REFUSED = {'method': 'POST', 'doctype': 'POS Profile', 'status': 417, 'count': 1}


async def add_fault(sandbox_app, rule: dict) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox_app), base_url='http://s') as sandbox:
        (await sandbox.post('/__sandbox__/faults', json=rule)).raise_for_status()


async def run_to_end(api, headers, tenant_id: int, *, plan: bool = False) -> dict:
    answer = await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=headers, json={'plan': plan})
    assert answer.status_code == 202, answer.text
    return await wait_for_run(api, headers, answer.json()['id'])


async def test_a_plan_after_a_failed_run_leaves_the_failed_run_current(api, admin, provisioning, sandbox_engine,
                                                                      sandbox_app):
    await add_fault(sandbox_app, POS_PROFILE_REFUSED)
    tenant_id = await new_tenant(api, admin)
    failed = await run_to_end(api, admin, tenant_id)
    plan = await run_to_end(api, admin, tenant_id, plan=True)
    assert (failed['status'], plan['status'], plan['mode']) == ('FAILED', 'SUCCEEDED', 'plan')

    tenant = (await api.get(f'/api/v1/tenants/{tenant_id}', headers=admin)).json()

    assert tenant['current_run']['id'] == failed['id'] and tenant['current_run']['status'] == 'FAILED'
    assert tenant['latest_run']['id'] == plan['id'] and tenant['latest_run']['mode'] == 'plan'
    assert tenant['status'] == 'FAILED'
    listed = (await api.get('/api/v1/tenants', headers=admin)).json()['items']
    assert [item['status'] for item in listed] == ['FAILED']


async def test_a_later_run_makes_the_plan_stale(api, admin, provisioning, sandbox_engine):
    tenant_id = await new_tenant(api, admin)
    plan = await run_to_end(api, admin, tenant_id, plan=True)
    tenant = (await api.get(f'/api/v1/tenants/{tenant_id}', headers=admin)).json()
    assert tenant['current_run'] is None and tenant['latest_run']['id'] == plan['id']

    run = await run_to_end(api, admin, tenant_id)

    tenant = (await api.get(f'/api/v1/tenants/{tenant_id}', headers=admin)).json()
    assert tenant['current_run']['id'] == run['id'] == tenant['latest_run']['id']


async def test_a_retry_keeps_the_requester_and_records_the_retrier(api, admin, provisioning, sandbox_engine,
                                                                  sandbox_app):
    support = await make_user(api, admin, 'sam', 'support')
    await add_fault(sandbox_app, POS_PROFILE_REFUSED)
    tenant_id = await new_tenant(api, admin)
    failed = await run_to_end(api, admin, tenant_id)
    assert failed['retried_by'] is None
    assert {s['key']: s for s in failed['steps']}['create_pos_profiles']['attempts'] == 1

    assert (await api.post(f"/api/v1/runs/{failed['id']}/retry", headers=support)).status_code == 202
    run = await wait_for_run(api, admin, failed['id'])

    assert (run['id'], run['status'], run['attempt']) == (failed['id'], 'SUCCEEDED', 2)
    assert (run['requested_by'], run['retried_by']) == ('admin', 'sam')
    step = {s['key']: s for s in run['steps']}['create_pos_profiles']
    assert (step['attempts'], step['earlier_attempts']) == (1, 1)  # this try, and the failed one before
    company = {s['key']: s for s in run['steps']}['create_company']
    assert (company['attempts'], company['earlier_attempts']) == (1, 0)  # not run again


async def test_retrying_a_step_records_the_admin_who_did_it(api, admin, provisioning, sandbox_engine, sandbox_app):
    support = await make_user(api, admin, 'sam', 'support')
    await add_fault(sandbox_app, POS_PROFILE_REFUSED)
    tenant_id = await new_tenant(api, support)
    failed = await run_to_end(api, support, tenant_id)

    answer = await api.post(f"/api/v1/runs/{failed['id']}/steps/create_pos_profiles/retry", headers=admin)
    assert answer.status_code == 202
    run = await wait_for_run(api, admin, failed['id'])

    assert (run['status'], run['requested_by'], run['retried_by']) == ('SUCCEEDED', 'sam', 'admin')


async def test_a_bulk_refusal_names_the_tenant_not_its_id(api, admin, sandbox_engine):
    tenant_id = await new_tenant(api, admin, name='Corner Store')  # no dispatcher: its run stays QUEUED
    assert (await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin)).status_code == 202
    other = await new_tenant(api, admin, name='Other Shop')

    answer = await api.post('/api/v1/tenants/bulk-provision', headers=admin, json={'tenant_ids': [tenant_id, other]})

    assert answer.status_code == 202
    body = answer.json()
    assert [run['tenant_id'] for run in body['queued']] == [other]
    reason = body['refused'][str(tenant_id)]
    assert reason.startswith("Tenant 'Corner Store' already has an active run (run #")
    assert f'Tenant {tenant_id} ' not in reason
