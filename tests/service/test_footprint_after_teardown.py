"""A tenant deprovisioned (its teardown deleted what its runs made), then provisioned again, whose new
run failed before it created anything: what the runs before that teardown made no longer counts. Its
company fields may change and it may be deleted, as a tenant that never reached ERPNext; its engine
stays (the teardown's record names documents there)."""

from __future__ import annotations

import httpx
from api_helpers import new_tenant, wait_for_run


def sandbox_client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url='http://s',
                             headers={'Authorization': 'token sandbox:sandbox'})


async def run_to_end(api, admin, tenant_id: int, action: str) -> dict:
    answer = await api.post(f'/api/v1/tenants/{tenant_id}/{action}', headers=admin)
    assert answer.status_code == 202, answer.text
    return await wait_for_run(api, admin, answer.json()['id'])


async def provisioned_again_failing_at_once(api, admin, sandbox_app) -> int:
    """Provisioned, deprovisioned, then a provisioning run whose first step fails (ERPNext refuses the key)."""
    tenant_id = await new_tenant(api, admin)
    assert (await run_to_end(api, admin, tenant_id, 'provision'))['status'] == 'SUCCEEDED'
    assert (await run_to_end(api, admin, tenant_id, 'deprovision'))['status'] == 'SUCCEEDED'
    async with sandbox_client(sandbox_app) as sandbox:
        await sandbox.post('/__sandbox__/faults', json={'status': 401, 'count': 50})
        failed = await run_to_end(api, admin, tenant_id, 'provision')
        await sandbox.delete('/__sandbox__/faults')
    assert failed['status'] == 'FAILED' and failed['error_step'] == 'check_engine', failed
    assert (await api.get(f'/api/v1/tenants/{tenant_id}', headers=admin)).json()['status'] == 'FAILED'
    return tenant_id


async def test_its_company_fields_may_change_again_but_not_its_engine(
        api, admin, provisioning, sandbox_engine, sandbox_app) -> None:
    tenant_id = await provisioned_again_failing_at_once(api, admin, sandbox_app)
    other = await api.post('/api/v1/engines', headers=admin, json={
        'name': 'Other', 'base_url': 'https://other.example.com', 'api_key': 'k', 'api_secret': 's'})

    changed = await api.patch(f'/api/v1/tenants/{tenant_id}', headers=admin,
                              json={'name': 'Acme Stores', 'country': 'France', 'stores': 1})
    moved = await api.patch(f'/api/v1/tenants/{tenant_id}', headers=admin, json={'engine': other.json()['id']})

    assert changed.status_code == 200, changed.text
    assert (changed.json()['name'], changed.json()['company_name'], changed.json()['country']) == (
        'Acme Stores', 'Acme Stores', 'France')
    assert moved.status_code == 409
    assert "recorded documents on engine 'Sandbox'" in moved.json()['detail']


async def test_it_is_deleted_and_not_deprovisioned_again(api, admin, provisioning, sandbox_engine, sandbox_app) -> None:
    tenant_id = await provisioned_again_failing_at_once(api, admin, sandbox_app)

    teardown = await api.post(f'/api/v1/tenants/{tenant_id}/deprovision', headers=admin)
    deleted = await api.delete(f'/api/v1/tenants/{tenant_id}', headers=admin)

    assert teardown.status_code == 409
    assert teardown.json()['detail'].startswith("Nothing of tenant 'Acme Retail' is in ERPNext")
    assert deleted.status_code == 204, deleted.text
    assert (await api.get(f'/api/v1/tenants/{tenant_id}', headers=admin)).status_code == 404
