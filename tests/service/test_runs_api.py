"""Provisioning through the REST API: 202 at once, the run proceeds in the background through
the real dispatcher and runner against the sandbox, and the admin actions are role-guarded."""

from __future__ import annotations

import asyncio

import httpx

from api_helpers import make_user, new_tenant, wait_for_run


async def test_provision_answers_202_and_runs_in_the_background(api, admin, provisioning, sandbox_engine):
    tenant_id = await new_tenant(api, admin)
    answer = await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin)
    assert answer.status_code == 202
    body = answer.json()
    assert body['status'] in ('QUEUED', 'RUNNING') and len(body['steps']) == 11
    assert [s['position'] for s in body['steps']] == list(range(1, 12))

    run = await wait_for_run(api, admin, body['id'])

    assert run['status'] == 'SUCCEEDED'
    assert {s['status'] for s in run['steps']} == {'SUCCEEDED'}
    assert {'key', 'title', 'critical', 'attempts', 'duration_ms', 'error_category', 'error'} <= set(run['steps'][0])
    tenant = (await api.get(f'/api/v1/tenants/{tenant_id}', headers=admin)).json()
    assert tenant['status'] == 'PROVISIONED' and tenant['abbr'] == 'AR'
    assert tenant['latest_run']['id'] == body['id']


async def test_second_provision_while_active_is_409(api, admin, app, sandbox_engine):
    tenant_id = await new_tenant(api, admin)  # no dispatcher: the first run stays QUEUED
    first = await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin)
    second = await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin)
    assert first.status_code == 202 and second.status_code == 409
    assert 'already has an active run' in second.json()['detail']


async def test_many_clicks_at_once_queue_exactly_one_run(api, admin, app, sandbox_engine):
    tenant_id = await new_tenant(api, admin)
    answers = await asyncio.gather(*(api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin)
                                     for _ in range(10)))
    assert sorted(a.status_code for a in answers) == [202] + [409] * 9


async def test_plan_writes_nothing(api, admin, provisioning, sandbox_engine, sandbox_app):
    tenant_id = await new_tenant(api, admin)
    answer = await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin, json={'plan': True})
    run = await wait_for_run(api, admin, answer.json()['id'])
    assert run['mode'] == 'plan' and run['status'] == 'SUCCEEDED'
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox_app), base_url='http://s') as sandbox:
        stats = (await sandbox.get('/__sandbox__/stats')).json()
    assert not [key for key in stats['requests'] if key.startswith(('POST', 'PUT', 'DELETE'))]
    tenant = (await api.get(f'/api/v1/tenants/{tenant_id}', headers=admin)).json()
    assert tenant['status'] == 'NOT_STARTED'


async def test_bulk_provision_queues_each_and_reports_refusals(api, admin, provisioning, sandbox_engine):
    ids = [await new_tenant(api, admin, f'Bulk Shop {n}') for n in range(3)]
    answer = await api.post('/api/v1/tenants/bulk-provision', headers=admin, json={'tenant_ids': [*ids, 999999]})
    assert answer.status_code == 202
    body = answer.json()
    assert len(body['queued']) == 3 and list(body['refused']) == ['999999']
    for run in body['queued']:
        assert (await wait_for_run(api, admin, run['id']))['status'] == 'SUCCEEDED'


async def test_failed_run_is_retried_and_resumes(api, admin, provisioning, sandbox_engine, sandbox_app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox_app), base_url='http://s') as sandbox:
        await sandbox.post('/__sandbox__/faults', json={'method': 'POST', 'doctype': 'POS Profile', 'status': 417,
                                                          'count': 1})
    tenant_id = await new_tenant(api, admin)
    run_id = (await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin)).json()['id']
    failed = await wait_for_run(api, admin, run_id)
    assert failed['status'] == 'FAILED' and failed['error_step'] == 'create_pos_profiles'

    retried = await api.post(f'/api/v1/runs/{run_id}/retry', headers=admin)
    assert retried.status_code == 202
    run = await wait_for_run(api, admin, run_id)
    assert run['status'] == 'SUCCEEDED' and run['attempt'] == 2
    steps = {s['key']: s for s in run['steps']}
    assert steps['create_company']['attempts'] == 1 and steps['create_pos_profiles']['attempts'] == 1
    audit = (await api.get('/api/v1/audit', headers=admin, params={'action': 'run.retried'})).json()
    assert audit['total'] == 1 and audit['items'][0]['run_id'] == run_id


async def test_step_actions_are_admin_only_and_audited(api, admin, app, sandbox_engine, db):
    support = await make_user(api, admin, 'sam', 'support')
    manager = await make_user(api, admin, 'mia', 'manager')
    tenant_id = await new_tenant(api, support)
    run_id = (await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=support)).json()['id']
    assert (await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=manager)).status_code == 403
    assert (await api.post(f'/api/v1/runs/{run_id}/cancel', headers=support)).status_code == 403

    cancelled = await api.post(f'/api/v1/runs/{run_id}/cancel', headers=admin)
    assert cancelled.status_code == 202 and cancelled.json()['status'] == 'CANCELLED'
    assert (await api.post(f'/api/v1/runs/{run_id}/cancel', headers=admin)).status_code == 409

    url = f'/api/v1/runs/{run_id}/steps/create_price_list'
    assert (await api.post(f'{url}/skip', headers=support, json={'reason': 'x'})).status_code == 403
    assert (await api.post(f'{url}/skip', headers=admin, json={'reason': ''})).status_code == 422
    assert (await api.post(f'/api/v1/runs/{run_id}/steps/nope/skip', headers=admin,
                           json={'reason': 'x'})).status_code == 404
    skipped = await api.post(f'{url}/skip', headers=admin, json={'reason': 'customer has its own price list'})
    assert skipped.status_code == 202
    step = next(s for s in skipped.json()['steps'] if s['key'] == 'create_price_list')
    assert step['status'] == 'SKIPPED' and step['manual_by'] == 'admin'
    assert step['manual_reason'] == 'customer has its own price list'
    assert skipped.json()['status'] == 'QUEUED'  # the run goes on without it

    actions = [e['action'] for e in (await api.get('/api/v1/audit', headers=admin)).json()['items']]
    assert {'run.provision_requested', 'run.cancelled', 'step.skipped'} <= set(actions)


async def test_unknown_run_is_404_and_bad_ids_are_422(api, admin):
    assert (await api.get('/api/v1/runs/4242', headers=admin)).status_code == 404
    assert (await api.get('/api/v1/runs/abc', headers=admin)).status_code == 422
    assert (await api.post('/api/v1/tenants/bulk-provision', headers=admin, json={'tenant_ids': []})).status_code == 422
    assert (await api.post('/api/v1/tenants/1/provision', headers=admin, json={'plan': 'maybe'})).status_code == 422
