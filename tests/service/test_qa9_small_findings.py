"""QA pass 9's smaller findings, as the REST API answers them."""

from __future__ import annotations

from api_helpers import new_tenant


async def test_cancelling_a_queued_run_leaves_the_tenant_as_it_was(api, admin, sandbox_engine):
    tenant_id = await new_tenant(api, admin)
    run_id = (await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin)).json()['id']

    assert (await api.post(f'/api/v1/runs/{run_id}/cancel', headers=admin)).status_code == 202

    body = (await api.get(f'/api/v1/tenants/{tenant_id}', headers=admin)).json()
    assert (body['status'], body['last_error']) == ('NOT_STARTED', None)
