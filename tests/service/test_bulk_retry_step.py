"""POST /api/v1/tenants/bulk-retry-step: an admin retries one failed step (the invites ERPNext throttled in
a bulk onboarding) of many tenants at once; only that step of each tenant's current run runs again, the
tenants it cannot retry are listed with why, and each retry is audited."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from api_helpers import make_user, new_tenant, wait_for_run

from sandbox import create_app

INVITE = 'invite_tenant_admin'


@pytest.fixture
def sandbox_app():
    return create_app(user_throttle_limit=1)  # ERPNext takes 2 new users an hour


def an_hour_passes_in_erpnext(sandbox_app) -> None:
    store = sandbox_app.state.sandbox.store
    before = str(datetime.now() - timedelta(minutes=61))
    for user in store.all('User'):
        store.put({**user, 'creation': min(user['creation'], before)})


def step(run: dict, key: str) -> dict:
    return next(s for s in run['steps'] if s['key'] == key)


async def onboard(api, admin, count: int) -> dict[int, dict]:
    """Tenants provisioned in bulk: their finished current runs by tenant id."""
    ids = [await new_tenant(api, admin, f'Shop {n}', admin_email=f'owner{n}@shop{n}.example.com')
           for n in range(1, count + 1)]
    answer = await api.post('/api/v1/tenants/bulk-provision', headers=admin, json={'tenant_ids': ids})
    assert answer.status_code == 202, answer.text
    return {run['tenant_id']: await wait_for_run(api, admin, run['id']) for run in answer.json()['queued']}


async def test_bulk_retry_reruns_only_the_failed_invites(api, admin, provisioning, sandbox_engine, sandbox_app):
    done = await onboard(api, admin, 4)
    throttled = sorted(t for t, run in done.items() if step(run, INVITE)['status'] == 'FAILED')
    invited = sorted(t for t in done if t not in throttled)
    assert len(throttled) == 2 and all(run['status'] == 'SUCCEEDED' for run in done.values())
    an_hour_passes_in_erpnext(sandbox_app)

    answer = await api.post('/api/v1/tenants/bulk-retry-step', headers=admin,
                            json={'tenant_ids': [*throttled, invited[0], 999_999], 'step': INVITE})

    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert sorted(run['tenant_id'] for run in body['queued']) == throttled
    assert {run['trigger'] for run in body['queued']} == {'retry'}
    succeeded = done[invited[0]]['id']
    assert body['refused'] == {
        str(invited[0]): f"Step 'Invite tenant admin' of run #{succeeded} is SUCCEEDED, not FAILED: nothing to retry.",
        '999999': 'Tenant 999999 does not exist.'}
    for tenant_id in throttled:
        run = await wait_for_run(api, admin, done[tenant_id]['id'])
        assert run['status'] == 'SUCCEEDED' and run['warnings'] == 0
        assert step(run, INVITE)['status'] == 'SUCCEEDED' and step(run, INVITE)['earlier_executions'] == 1
        assert all(s['earlier_executions'] == 0 for s in run['steps'] if s['key'] != INVITE)  # nothing else ran
    events = (await api.get('/api/v1/audit', headers=admin, params={'action': 'step.retried'})).json()['items']
    assert sorted((e['tenant_id'], e['actor'], e['step_key'], e['details']) for e in events) == \
        [(tenant_id, 'admin', INVITE, {'bulk': True}) for tenant_id in throttled]


async def test_bulk_retry_refuses_bad_requests_clearly(api, admin, provisioning, sandbox_engine):
    [tenant_id] = await onboard(api, admin, 1)
    support = await make_user(api, admin, 'sam', 'support')
    url = '/api/v1/tenants/bulk-retry-step'

    unknown = await api.post(url, headers=admin, json={'tenant_ids': [tenant_id], 'step': 'invite_admin'})
    assert unknown.status_code == 422
    assert "there is no provisioning step 'invite_admin'" in unknown.text and INVITE in unknown.text
    assert (await api.post(url, headers=admin, json={'tenant_ids': [], 'step': INVITE})).status_code == 422
    assert (await api.post(url, headers=admin, json={'tenant_ids': ['x'], 'step': INVITE})).status_code == 422
    assert (await api.post(url, headers=admin, json={'tenant_ids': [tenant_id]})).status_code == 422
    assert (await api.post(url, headers=support, json={'tenant_ids': [tenant_id], 'step': INVITE})).status_code == 403
    never = await new_tenant(api, admin, 'Never Run', admin_email='never@run.example.com')
    answer = await api.post(url, headers=admin, json={'tenant_ids': [never], 'step': INVITE})
    assert answer.status_code == 202
    assert answer.json() == {'queued': [], 'refused': {
        str(never): "Tenant 'Never Run' was never provisioned: it has no provisioning step to retry."}}
