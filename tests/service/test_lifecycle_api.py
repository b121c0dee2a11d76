"""The tenant lifecycle through the REST API: deprovision plan and run, drift check, repair."""

from __future__ import annotations

import httpx
from api_helpers import make_user, new_tenant, wait_for_run

from engine.alerting import Thresholds, tenant_drifted
from engine.metrics import refresh_database_gauges
from engine.services.overview import overview
from storage.tables import utcnow


async def provisioned_tenant(api, admin) -> int:
    tenant_id = await new_tenant(api, admin, stores=2)
    run_id = (await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin)).json()['id']
    assert (await wait_for_run(api, admin, run_id))['status'] == 'SUCCEEDED'
    return tenant_id


def sandbox_client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url='http://s',
                             headers={'Authorization': 'token sandbox:sandbox'})


async def test_the_plan_lists_what_would_go_and_writes_nothing(api, admin, provisioning, sandbox_engine,
                                                                sandbox_app):
    tenant_id = await provisioned_tenant(api, admin)
    async with sandbox_client(sandbox_app) as sandbox:
        before = (await sandbox.get('/__sandbox__/stats')).json()['requests']
        answer = await api.post(f'/api/v1/tenants/{tenant_id}/deprovision', headers=admin, json={'plan': True})
        after = (await sandbox.get('/__sandbox__/stats')).json()['requests']
    assert answer.status_code == 200, answer.text
    plan = answer.json()
    assert plan['delete'][-1] == {'step': 'delete_company', 'doctype': 'Company', 'name': 'Acme Retail',
                                  'change': None}
    assert sum(1 for item in plan['delete'] if item['doctype'] == 'POS Profile') == 2
    assert after == before
    tenant = (await api.get(f'/api/v1/tenants/{tenant_id}', headers=admin)).json()
    assert tenant['status'] == 'PROVISIONED'


async def test_deprovision_is_admin_only_runs_in_the_background_and_ends_deprovisioned(
        api, admin, provisioning, sandbox_engine, sandbox_app):
    tenant_id = await provisioned_tenant(api, admin)
    support = await make_user(api, admin, 'sam', 'support')
    assert (await api.post(f'/api/v1/tenants/{tenant_id}/deprovision', headers=support)).status_code == 403

    answer = await api.post(f'/api/v1/tenants/{tenant_id}/deprovision', headers=admin)

    assert answer.status_code == 202, answer.text
    assert answer.json()['mode'] == 'deprovision'
    run = await wait_for_run(api, admin, answer.json()['id'])
    assert run['status'] == 'SUCCEEDED', [(s['key'], s['error']) for s in run['steps'] if s['error']]
    assert [s['key'] for s in run['steps']][-1] == 'delete_company'
    tenant = (await api.get(f'/api/v1/tenants/{tenant_id}', headers=admin)).json()
    assert tenant['status'] == 'DEPROVISIONED'
    async with sandbox_client(sandbox_app) as sandbox:
        companies = [d['name'] for d in (await sandbox.get('/__sandbox__/documents/Company')).json()]
    assert 'Acme Retail' not in companies
    again = await api.post(f'/api/v1/tenants/{tenant_id}/deprovision', headers=admin)
    assert again.status_code == 409


async def test_drift_is_found_and_repair_recreates_what_is_missing(api, admin, provisioning, sandbox_engine,
                                                                   sandbox_app):
    tenant_id = await provisioned_tenant(api, admin)
    clean = await api.post(f'/api/v1/tenants/{tenant_id}/drift-check', headers=admin)
    assert clean.status_code == 200 and clean.json()['drifted'] is False
    async with sandbox_client(sandbox_app) as sandbox:
        assert (await sandbox.delete('/api/resource/POS Profile/AR Store 2')).status_code == 202

    found = (await api.post(f'/api/v1/tenants/{tenant_id}/drift-check', headers=admin)).json()

    assert found['checked'] and found['drifted'] and 'Store 2' in found['detail']
    tenant = (await api.get(f'/api/v1/tenants/{tenant_id}', headers=admin)).json()
    assert tenant['drifted'] is True
    run_id = (await api.post(f'/api/v1/tenants/{tenant_id}/repair', headers=admin)).json()['id']
    assert (await wait_for_run(api, admin, run_id))['status'] == 'SUCCEEDED'
    assert (await api.post(f'/api/v1/tenants/{tenant_id}/drift-check', headers=admin)).json()['drifted'] is False


async def test_after_a_failed_repair_every_screen_agrees_the_tenant_is_failed_not_drifted(
        api, admin, provisioning, sandbox_engine, sandbox_app, db):
    # QA finding 15: the tenant said drifted while the Overview, the metric and the alert did not.
    tenant_id = await provisioned_tenant(api, admin)
    async with sandbox_client(sandbox_app) as sandbox:
        assert (await sandbox.delete('/api/resource/POS Profile/AR Store 2')).status_code == 202
        assert (await api.post(f'/api/v1/tenants/{tenant_id}/drift-check', headers=admin)).json()['drifted']
        assert overview(db).drifted == refresh_database_gauges(db).drifted == 1
        await sandbox.post('/__sandbox__/faults', json={'method': 'POST', 'doctype': 'POS Profile', 'status': 417})
        run_id = (await api.post(f'/api/v1/tenants/{tenant_id}/repair', headers=admin)).json()['id']
        assert (await wait_for_run(api, admin, run_id))['status'] == 'FAILED'

    tenant = (await api.get(f'/api/v1/tenants/{tenant_id}', headers=admin)).json()
    listed = (await api.get('/api/v1/tenants', params={'drifted': 'true'}, headers=admin)).json()
    check = (await api.post(f'/api/v1/tenants/{tenant_id}/drift-check', headers=admin)).json()

    assert tenant['status'] == 'FAILED' and tenant['drifted'] is False
    assert listed['total'] == 0
    assert overview(db).drifted == refresh_database_gauges(db).drifted == 0
    with db.session() as session:
        assert tenant_drifted(session, utcnow(), Thresholds()) == []
    assert check['checked'] is False and check['drifted'] is False
    assert check['reason'] == 'the tenant is FAILED: drift is checked on provisioned tenants only'


async def test_repair_refuses_a_tenant_that_was_never_provisioned(api, admin, provisioning, sandbox_engine):
    tenant_id = await new_tenant(api, admin)

    answer = await api.post(f'/api/v1/tenants/{tenant_id}/repair', headers=admin)
    check = (await api.post(f'/api/v1/tenants/{tenant_id}/drift-check', headers=admin)).json()

    assert answer.status_code == 409
    assert 'nothing to repair, provision it' in answer.json()['detail']
    assert (await api.get(f'/api/v1/tenants/{tenant_id}', headers=admin)).json()['status'] == 'NOT_STARTED'
    assert check['checked'] is False and 'NOT_STARTED' in check['reason']
