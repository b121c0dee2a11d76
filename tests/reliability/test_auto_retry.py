"""Automatic retry of transient failures: stamped with a backoff when they fail, queued again by the
periodic job when due, resumed at the failed step, audited; never for critical failures."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from engine.auto_retry import AutoRetry, AutoRetryPolicy
from engine.dispatcher import Dispatcher
from engine.runner import Runner
from engine.services import audit, runs
from tests.conftest import FAST_RETRIES
from tests.engine.helpers import fault, names, steps

POLICY = AutoRetryPolicy(limit=2)


@pytest.fixture
def retrying_runner(db, clients) -> Runner:
    return Runner(db, clients.get, policy=FAST_RETRIES, auto_retry=POLICY)


async def run_queued(db, runner: Runner) -> None:
    dispatcher = Dispatcher(db, runner, max_concurrent=4, owner='tests')
    while await dispatcher.tick() or dispatcher.tasks:
        await asyncio.gather(*dispatcher.tasks.values())


def test_the_backoff_doubles_up_to_its_cap():
    policy = AutoRetryPolicy(limit=10, first_delay_s=30, max_delay_s=100)
    assert [policy.delay(n).total_seconds() for n in range(4)] == [30, 60, 100, 100]


async def test_a_transient_failure_is_retried_by_itself_and_resumes_at_the_failed_step(
        db, retrying_runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail', stores=2)
    await fault(sandbox, method='POST', doctype='Warehouse', status=503)  # a bad minute of ERPNext
    run = runs.request_provision(db, acme.id, actor='support')
    await run_queued(db, retrying_runner)
    await sandbox.delete('/__sandbox__/faults')

    failed = runs.run_detail(db, run.id)
    assert failed['status'] == 'FAILED' and failed['error_category'] == 'transient'
    assert failed['error_step'] == 'create_warehouses'
    assert failed['next_retry_at'] - failed['finished_at'] == POLICY.delay(0)  # shown in the UI
    job = AutoRetry(db, POLICY)
    assert await job.tick(now=failed['next_retry_at'] - timedelta(seconds=1)) == []  # not due yet

    assert await job.tick(now=failed['next_retry_at']) == [run.id]

    queued = runs.run_detail(db, run.id)
    assert (queued['status'], queued['trigger'], queued['auto_retries'], queued['next_retry_at']) == \
        ('QUEUED', 'auto_retry', 1, None)
    [event] = audit.list_events(db, action='run.auto_retried').items
    assert (event.actor, event.run_id, event.step_key) == ('system', run.id, 'create_warehouses')
    assert event.details['auto_retry'] == 1 and event.details['limit'] == POLICY.limit
    await run_queued(db, retrying_runner)
    done = runs.run_detail(db, run.id)
    assert done['status'] == 'SUCCEEDED'
    assert steps(done)['create_company']['attempts'] == 1  # resumed: the company was not made again
    assert await names(sandbox, 'Company') == ['Acme Retail']


async def test_retries_stop_at_the_limit(db, retrying_runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail')
    await fault(sandbox, method='POST', doctype='Company', status=502)  # fails every time
    run = runs.request_provision(db, acme.id, actor='support')
    job = AutoRetry(db, POLICY)
    delays = []
    for _ in range(POLICY.limit):
        await run_queued(db, retrying_runner)
        detail = runs.run_detail(db, run.id)
        delays.append(detail['next_retry_at'] - detail['finished_at'])
        assert await job.tick(now=detail['next_retry_at']) == [run.id]
    await run_queued(db, retrying_runner)

    final = runs.run_detail(db, run.id)
    assert final['status'] == 'FAILED' and final['auto_retries'] == POLICY.limit
    assert final['next_retry_at'] is None  # no automatic retry left: a person decides
    assert delays == [POLICY.delay(0), POLICY.delay(1)]
    assert await job.tick(now=final['finished_at'] + timedelta(days=1)) == []
    assert audit.list_events(db, action='run.auto_retried').total == POLICY.limit


async def test_a_critical_failure_is_never_retried_by_itself(db, retrying_runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail')
    await fault(sandbox, method='POST', doctype='Warehouse', status=417, count=1)  # ERPNext refuses the data
    run = runs.request_provision(db, acme.id, actor='support')
    await run_queued(db, retrying_runner)

    detail = runs.run_detail(db, run.id)
    assert detail['status'] == 'FAILED' and detail['error_category'] == 'critical'
    assert detail['next_retry_at'] is None
    assert await AutoRetry(db, POLICY).tick(now=detail['finished_at'] + timedelta(days=1)) == []


async def test_a_manual_retry_replaces_the_pending_automatic_one(db, retrying_runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail')
    await fault(sandbox, method='POST', doctype='Company', status=503)
    run = runs.request_provision(db, acme.id, actor='support')
    await run_queued(db, retrying_runner)
    await sandbox.delete('/__sandbox__/faults')
    pending = runs.run_detail(db, run.id)['next_retry_at']
    assert pending is not None

    runs.retry_run(db, run.id, actor='support')

    assert runs.run_detail(db, run.id)['next_retry_at'] is None
    assert await AutoRetry(db, POLICY).tick(now=pending) == []
    await run_queued(db, retrying_runner)
    assert runs.run_detail(db, run.id)['status'] == 'SUCCEEDED'
