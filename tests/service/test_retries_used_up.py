"""QA pass 8, finding 4: once a run's automatic retries are used up, the API says so and what to do,
instead of leaving the reader waiting for a retry that never comes."""

from __future__ import annotations

import asyncio

from engine.auto_retry import AutoRetry, AutoRetryPolicy
from engine.dispatcher import Dispatcher
from engine.runner import Runner
from engine.services import runs
from tests.conftest import FAST_RETRIES
from tests.engine.helpers import fault

USED_UP = 'No automatic retries left (3 used): click Retry run once ERPNext is back.'


async def run_queued(db, runner: Runner) -> None:
    dispatcher = Dispatcher(db, runner, max_concurrent=4, owner='tests')
    while await dispatcher.tick() or dispatcher.tasks:
        await asyncio.gather(*dispatcher.tasks.values())


async def test_the_run_says_when_its_automatic_retries_are_used_up(api, admin, db, clients, make_tenant, sandbox):
    policy = AutoRetryPolicy(limit=3)
    runner, job = Runner(db, clients.get, policy=FAST_RETRIES, auto_retry=policy), AutoRetry(db, policy)
    await fault(sandbox, method='POST', doctype='Company', status=502)  # ERPNext's proxy, for a long while
    run = runs.request_provision(db, make_tenant('Acme Retail').id, actor='tests')
    await run_queued(db, runner)
    hints = []
    for _ in range(policy.limit):
        answer = (await api.get(f'/api/v1/runs/{run.id}', headers=admin)).json()
        hints.append(answer['retry_hint'])
        assert answer['status'] == 'FAILED' and answer['next_retry_at'] is not None
        assert await job.tick(now=runs.run_detail(db, run.id)['next_retry_at']) == [run.id]
        await run_queued(db, runner)

    answer = (await api.get(f'/api/v1/runs/{run.id}', headers=admin)).json()

    assert hints == [None, None, None]  # a retry was coming each time
    assert (answer['status'], answer['error_category'], answer['auto_retries']) == ('FAILED', 'transient', 3)
    assert answer['next_retry_at'] is None
    assert answer['retry_hint'] == USED_UP
    tenant = (await api.get(f"/api/v1/tenants/{answer['tenant_id']}", headers=admin)).json()
    assert tenant['current_run']['retry_hint'] == USED_UP


async def test_a_critical_failure_or_a_success_has_no_hint(api, admin, db, runner, make_tenant, sandbox):
    ok = runs.request_provision(db, make_tenant().id, actor='tests')
    await runner.execute(ok.id)
    await fault(sandbox, method='POST', doctype='Company', status=403)
    refused = runs.request_provision(db, make_tenant().id, actor='tests')
    await runner.execute(refused.id)

    for run_id in (ok.id, refused.id):
        assert (await api.get(f'/api/v1/runs/{run_id}', headers=admin)).json()['retry_hint'] is None
