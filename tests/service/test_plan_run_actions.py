"""A plan run is read-only (QA pass 7, finding 8): it only looked ERPNext up, so neither it nor its
steps can be retried, skipped or marked succeeded (409 saying to ask for a new plan); an active plan
can still be cancelled, since it holds the tenant's one active run."""

from __future__ import annotations

import httpx

from api_helpers import new_tenant, wait_for_run

COMPANY_LOOKUP_REFUSED = {'method': 'GET', 'doctype': 'Company', 'status': 417}
READ_ONLY = ('Run #{run} is a plan: it only looked ERPNext up and changes nothing, so {what}. Ask for a new plan '
             'instead (the Plan button, or POST /api/v1/tenants/{tenant}/provision with {{"plan": true}}).')
STEPS_READ_ONLY = 'its steps cannot be retried, skipped or marked succeeded'


async def sandbox_control(sandbox_app, method: str, path: str, **kwargs) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox_app), base_url='http://s') as sandbox:
        (await sandbox.request(method, path, **kwargs)).raise_for_status()


async def run_to_end(api, headers, tenant_id: int, *, plan: bool = False) -> dict:
    answer = await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=headers, json={'plan': plan})
    assert answer.status_code == 202, answer.text
    return await wait_for_run(api, headers, answer.json()['id'])


async def refused_actions(api, headers, run_id: int, step: str) -> list[tuple[int, str]]:
    """What retry run, retry step, skip and mark succeeded answer for `step` of the run."""
    base, reason = f'/api/v1/runs/{run_id}', {'reason': 'done by hand'}
    answers = [await api.post(f'{base}/retry', headers=headers),
               await api.post(f'{base}/steps/{step}/retry', headers=headers),
               await api.post(f'{base}/steps/{step}/skip', headers=headers, json=reason),
               await api.post(f'{base}/steps/{step}/mark-succeeded', headers=headers, json=reason)]
    return [(answer.status_code, answer.json()['detail']) for answer in answers]


def read_only(run_id: int, tenant_id: int) -> list[tuple[int, str]]:
    run_refusal = READ_ONLY.format(run=run_id, tenant=tenant_id, what='it cannot be retried')
    step_refusal = READ_ONLY.format(run=run_id, tenant=tenant_id, what=STEPS_READ_ONLY)
    return [(409, run_refusal)] + [(409, step_refusal)] * 3


async def test_an_old_failed_plan_cannot_be_retried_skipped_or_marked(api, admin, provisioning, sandbox_engine,
                                                                      sandbox_app):
    await sandbox_control(sandbox_app, 'POST', '/__sandbox__/faults', json=COMPANY_LOOKUP_REFUSED)
    tenant_id = await new_tenant(api, admin)
    plan = await run_to_end(api, admin, tenant_id, plan=True)
    assert (plan['mode'], plan['status'], plan['error_step']) == ('plan', 'FAILED', 'create_company')
    await sandbox_control(sandbox_app, 'DELETE', '/__sandbox__/faults')
    current = await run_to_end(api, admin, tenant_id)
    assert current['status'] == 'SUCCEEDED'

    answers = await refused_actions(api, admin, plan['id'], 'create_company')

    assert answers == read_only(plan['id'], tenant_id)
    after = (await api.get(f"/api/v1/runs/{plan['id']}", headers=admin)).json()
    assert (after['status'], after['attempt']) == ('FAILED', plan['attempt'])
    assert [step['status'] for step in after['steps']] == [step['status'] for step in plan['steps']]
    tenant = (await api.get(f'/api/v1/tenants/{tenant_id}', headers=admin)).json()
    assert tenant['status'] == 'PROVISIONED' and tenant['current_run']['id'] == current['id']


async def test_a_cancelled_plan_can_be_cancelled_but_not_retried(api, admin, app, sandbox_engine):
    tenant_id = await new_tenant(api, admin)  # no dispatcher: the plan stays QUEUED
    plan = (await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin, json={'plan': True})).json()

    cancelled = await api.post(f"/api/v1/runs/{plan['id']}/cancel", headers=admin)
    assert cancelled.status_code == 202 and cancelled.json()['status'] == 'CANCELLED'

    answers = await refused_actions(api, admin, plan['id'], 'check_engine')  # every step still PENDING

    assert answers == read_only(plan['id'], tenant_id)
    tenant = (await api.get(f'/api/v1/tenants/{tenant_id}', headers=admin)).json()
    assert tenant['status'] == 'NOT_STARTED' and tenant['latest_run']['status'] == 'CANCELLED'
    audit = (await api.get('/api/v1/audit', headers=admin)).json()
    assert not [event for event in audit['items'] if event['action'].startswith(('step.', 'run.retried'))]
