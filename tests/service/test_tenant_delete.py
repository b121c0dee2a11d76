"""Removing a tenant (DELETE /tenants/{id}, admin): only one that has nothing in ERPNext or was
deprovisioned, never beside an active run; its runs go with it, the audit log keeps its events; an
engine only deleted tenants used can go too. And a deprovision of a tenant whose runs made nothing
is refused at once instead of queueing a teardown that waits for its engine."""

from __future__ import annotations

import httpx
from api_helpers import make_user, new_tenant, tenant_body, wait_for_run


def sandbox_client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url='http://s',
                             headers={'Authorization': 'token sandbox:sandbox'})


async def audit_events(api, admin, **params) -> list[dict]:
    return (await api.get('/api/v1/audit', headers=admin, params=params)).json()['items']


async def provisioned(api, admin, name: str = 'Acme Retail', **fields) -> int:
    tenant_id = await new_tenant(api, admin, name, **fields)
    run_id = (await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin)).json()['id']
    assert (await wait_for_run(api, admin, run_id))['status'] == 'SUCCEEDED'
    return tenant_id


async def deprovisioned(api, admin, tenant_id: int) -> dict:
    run_id = (await api.post(f'/api/v1/tenants/{tenant_id}/deprovision', headers=admin)).json()['id']
    run = await wait_for_run(api, admin, run_id)
    assert run['status'] == 'SUCCEEDED', run
    return run


async def test_a_tenant_never_provisioned_is_deleted_audited_and_its_engine_can_go(api, admin, engine_id) -> None:
    tenant_id = (await api.post('/api/v1/tenants', headers=admin, json=tenant_body())).json()['id']
    assert (await api.delete(f'/api/v1/engines/{engine_id}', headers=admin)).status_code == 409

    deleted = await api.delete(f'/api/v1/tenants/{tenant_id}', headers=admin)

    assert deleted.status_code == 204 and deleted.content == b''
    assert (await api.get(f'/api/v1/tenants/{tenant_id}', headers=admin)).status_code == 404
    assert (await api.get('/api/v1/tenants', headers=admin)).json()['total'] == 0
    [event] = await audit_events(api, admin, action='tenant.deleted')
    assert (event['actor'], event['tenant_id']) == ('admin', tenant_id)
    assert event['details'] == {'name': 'Acme Retail', 'company_name': 'Acme Retail', 'engine_id': engine_id,
                                'status': 'NOT_STARTED', 'runs_deleted': 0}
    trail = [e['action'] for e in await audit_events(api, admin, tenant_id=tenant_id)]
    assert trail == ['tenant.deleted', 'tenant.created']  # the audit log keeps the tenant's events
    assert (await api.delete(f'/api/v1/engines/{engine_id}', headers=admin)).status_code == 204
    again = await api.delete(f'/api/v1/tenants/{tenant_id}', headers=admin)
    assert again.status_code == 404 and again.json() == {'detail': f'There is no tenant with id {tenant_id}.'}
    name_free = await api.post('/api/v1/tenants', headers=admin, json=tenant_body())
    assert name_free.status_code == 422  # its engine is gone; the name itself is free again
    assert name_free.json()['detail'] == "engine: no engine with id or name 'Main ERP'"


async def test_only_admins_delete_a_tenant(api, admin, engine_id) -> None:
    tenant_id = (await api.post('/api/v1/tenants', headers=admin, json=tenant_body())).json()['id']
    support = await make_user(api, admin, 'sam', 'support')
    manager = await make_user(api, admin, 'mia', 'manager')

    refused = [await api.delete(f'/api/v1/tenants/{tenant_id}', headers=h) for h in (support, manager, {})]

    assert [answer.status_code for answer in refused] == [403, 403, 401]
    assert (await api.get(f'/api/v1/tenants/{tenant_id}', headers=admin)).status_code == 200
    assert (await api.delete(f'/api/v1/tenants/{2**63}', headers=admin)).status_code == 422


async def test_a_tenant_with_a_queued_run_is_kept(api, admin, engine_id) -> None:
    tenant_id = (await api.post('/api/v1/tenants', headers=admin, json=tenant_body())).json()['id']
    run_id = (await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin)).json()['id']  # no dispatcher

    refused = await api.delete(f'/api/v1/tenants/{tenant_id}', headers=admin)

    assert refused.status_code == 409
    assert refused.json()['detail'] == (f"Tenant 'Acme Retail' has an active run (#{run_id}, QUEUED): wait for it "
                                        'to end or cancel it, then delete the tenant.')
    assert (await api.post(f'/api/v1/runs/{run_id}/cancel', headers=admin)).status_code == 202
    assert (await api.delete(f'/api/v1/tenants/{tenant_id}', headers=admin)).status_code == 204
    assert (await api.get(f'/api/v1/runs/{run_id}', headers=admin)).status_code == 404


async def test_a_tenant_whose_runs_made_nothing_is_not_deprovisioned_but_deleted_with_its_runs(
        api, admin, provisioning, sandbox_engine, sandbox_app) -> None:
    tenant_id = await new_tenant(api, admin)
    async with sandbox_client(sandbox_app) as sandbox:  # ERPNext refuses the company: the run makes nothing
        await sandbox.post('/__sandbox__/faults', json={'method': 'POST', 'doctype': 'Company', 'status': 403})
        run_id = (await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin)).json()['id']
        assert (await wait_for_run(api, admin, run_id))['status'] == 'FAILED'
    # (a run cancelled before it started leaves the tenant NOT_STARTED, which is never deprovisioned)
    assert (await api.get(f'/api/v1/tenants/{tenant_id}', headers=admin)).json()['status'] == 'FAILED'

    teardown = await api.post(f'/api/v1/tenants/{tenant_id}/deprovision', headers=admin)
    plan = await api.post(f'/api/v1/tenants/{tenant_id}/deprovision', headers=admin, json={'plan': True})

    expected = ("Nothing of tenant 'Acme Retail' is in ERPNext: none of its runs recorded creating or adopting a "
                'document, so there is nothing to deprovision. Delete the tenant instead (an admin can, on its '
                f'page or with DELETE /api/v1/tenants/{tenant_id}), or provision it.')
    assert (teardown.status_code, teardown.json()['detail']) == (409, expected)
    assert (plan.status_code, plan.json()['detail']) == (409, expected)
    assert (await api.get(f'/api/v1/tenants/{tenant_id}', headers=admin)).json()['status'] == 'FAILED'

    deleted = await api.delete(f'/api/v1/tenants/{tenant_id}', headers=admin)

    assert deleted.status_code == 204
    assert (await api.get(f'/api/v1/runs/{run_id}', headers=admin)).status_code == 404
    [event] = await audit_events(api, admin, action='tenant.deleted')
    assert (event['details']['status'], event['details']['runs_deleted']) == ('FAILED', 1)
    assert (await api.delete('/api/v1/engines/1', headers=admin)).status_code == 204  # used by no tenant now


async def test_a_provisioned_tenant_is_deleted_only_after_its_teardown(
        api, admin, provisioning, sandbox_engine, sandbox_app) -> None:
    tenant_id = await provisioned(api, admin)

    refused = await api.delete(f'/api/v1/tenants/{tenant_id}', headers=admin)

    assert refused.status_code == 409
    assert refused.json()['detail'] == (
        "Tenant 'Acme Retail' may have documents in ERPNext (its runs recorded the Company 'Acme Retail' and 10 "
        'other documents): deprovision it first (the teardown deletes what its runs made), then delete it.')
    teardown = await deprovisioned(api, admin, tenant_id)
    deleted = await api.delete(f'/api/v1/tenants/{tenant_id}', headers=admin)
    assert deleted.status_code == 204
    assert (await api.get(f"/api/v1/runs/{teardown['id']}", headers=admin)).status_code == 404
    [event] = await audit_events(api, admin, action='tenant.deleted')
    assert (event['details']['status'], event['details']['runs_deleted']) == ('DEPROVISIONED', 2)


async def test_a_deprovisioned_tenant_that_kept_the_shared_admin_for_another_stays_until_that_one_goes(
        api, admin, provisioning, sandbox_engine, sandbox_app) -> None:
    acme = await provisioned(api, admin, 'Acme Retail', admin_email='boss@shops.example.com')
    beta = await provisioned(api, admin, 'Beta Shops', admin_email='boss@shops.example.com')
    await deprovisioned(api, admin, acme)

    refused = await api.delete(f'/api/v1/tenants/{acme}', headers=admin)

    assert refused.status_code == 409
    assert refused.json()['detail'] == (
        "Tenant 'Acme Retail' cannot be deleted yet: its teardown kept the ERPNext user boss@shops.example.com "
        "(the admin it created) for 'Beta Shops', which still use it, and only its runs record that Provisioner "
        "made that user. Deprovision 'Beta Shops' first (that teardown then deletes the user), then delete this "
        'tenant.')
    await deprovisioned(api, admin, beta)
    async with sandbox_client(sandbox_app) as sandbox:
        users = [doc['name'] for doc in (await sandbox.get('/__sandbox__/documents/User')).json()]
    assert 'boss@shops.example.com' not in users
    assert (await api.delete(f'/api/v1/tenants/{acme}', headers=admin)).status_code == 204
    assert (await api.delete(f'/api/v1/tenants/{beta}', headers=admin)).status_code == 204
