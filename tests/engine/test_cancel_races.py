"""A cancelled run stops after its steps in flight end, and until they have, nothing else acts on
the tenant's runs (QA pass 2, findings 1 and 2): a retry started beside them took the tenant's own
documents for somebody else's, and a teardown missed the company they were still creating."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from engine.dispatcher import Dispatcher
from engine.services import deprovision, runs, stats
from engine.validation import Conflict
from storage.tables import Run
from tests.engine.helpers import fault, names, steps


def read_run(db, run_id) -> Run:
    with db.session() as session:
        return session.get(Run, run_id)


async def until(predicate, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError('timed out')


async def work_off(dispatcher: Dispatcher, db, run_id: int) -> str:
    """Claim and execute until the run has ended (a claim may come from the dispatcher's own
    follow-up when a run ends, or from a tick)."""
    for _ in range(500):
        await dispatcher.tick()
        await asyncio.gather(*dispatcher.tasks.values())
        status = read_run(db, run_id).status
        if status not in ('QUEUED', 'RUNNING'):
            return status
        await asyncio.sleep(0.02)
    raise AssertionError('the run did not end')


async def cancel_while_the_company_is_created(db, runner, tenant_id, sandbox):
    await fault(sandbox, method='POST', doctype='Company', latency_ms=600, count=1)
    run = runs.request_provision(db, tenant_id, actor='support')
    dispatcher = Dispatcher(db, runner, max_concurrent=4, owner='p1')
    assert await dispatcher.tick() == [run.id]
    await until(lambda: steps(runs.run_detail(db, run.id))['create_company']['status'] == 'RUNNING')
    await asyncio.sleep(0.1)  # its POST is on its way
    runs.cancel_run(db, run.id, actor='support')
    return run, dispatcher


async def test_nothing_acts_on_the_tenant_until_the_cancelled_run_stopped(db, runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail')
    run, dispatcher = await cancel_while_the_company_is_created(db, runner, acme.id, sandbox)
    stopping = read_run(db, run.id)
    assert stopping.status == 'CANCELLED' and stopping.lease_owner == 'p1'  # its step still holds it

    for action in (lambda: runs.retry_run(db, run.id, actor='admin'),
                   lambda: runs.retry_step(db, run.id, 'create_company', actor='admin'),
                   lambda: runs.request_provision(db, acme.id, actor='admin'),
                   lambda: deprovision.request(db, acme.id, actor='admin'),
                   lambda: deprovision.plan(db, acme.id)):  # the plan would miss what is being created
        with pytest.raises(Conflict, match=r"still stopping: its step 'Create company' must end first"):
            action()

    await asyncio.gather(*dispatcher.tasks.values())
    stopped = read_run(db, run.id)
    assert (stopped.status, stopped.lease_owner, stopped.lease_expires_at) == ('CANCELLED', None, None)
    assert steps(runs.run_detail(db, run.id))['create_company']['status'] == 'SUCCEEDED'

    runs.retry_run(db, run.id, actor='admin')
    await work_off(dispatcher, db, run.id)
    detail = runs.run_detail(db, run.id)
    assert detail['status'] == 'SUCCEEDED', [(s['key'], s['error']) for s in detail['steps'] if s['error']]


async def test_a_teardown_after_the_cancelled_run_stopped_deletes_its_company(db, runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail')
    run, dispatcher = await cancel_while_the_company_is_created(db, runner, acme.id, sandbox)
    await asyncio.gather(*dispatcher.tasks.values())
    teardown = deprovision.request(db, acme.id, actor='admin')
    assert await work_off(dispatcher, db, teardown.id) == 'SUCCEEDED'
    assert await names(sandbox, 'Company') == []


async def test_a_stopping_run_whose_process_died_stops_holding_the_tenant(db, runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail')
    run, dispatcher = await cancel_while_the_company_is_created(db, runner, acme.id, sandbox)
    for task in dispatcher.tasks.values():
        task.cancel()  # the process dies: nobody renews the lease
    await asyncio.gather(*dispatcher.tasks.values(), return_exceptions=True)
    with db.session() as session:
        dead = session.get(Run, run.id)
        dead.lease_expires_at = dead.lease_expires_at.replace(year=2000)
        session.add(dead)
    assert runs.retry_run(db, run.id, actor='admin').status == 'QUEUED'


async def test_a_step_in_flight_writes_nothing_more_after_the_cancel(db, runner, make_tenant, sandbox):
    # QA pass 3, finding 6: a step whose look-up was on its way when the run was cancelled went on to
    # insert its document. Its write-ahead intent now finds the run cancelled, and the step stops there.
    acme = make_tenant('Acme Retail')
    await fault(sandbox, method='GET', doctype='Company', latency_ms=600, count=1)
    run = runs.request_provision(db, acme.id, actor='support')
    dispatcher = Dispatcher(db, runner, max_concurrent=4, owner='p1')
    assert await dispatcher.tick() == [run.id]
    await until(lambda: steps(runs.run_detail(db, run.id))['create_company']['status'] == 'RUNNING')
    runs.cancel_run(db, run.id, actor='support')
    await asyncio.gather(*dispatcher.tasks.values())

    assert await names(sandbox, 'Company') == []
    detail = runs.run_detail(db, run.id)
    company = steps(detail)['create_company']
    # It did not fail: it waits with the attempt it made (review 3: a retry counted it as a failure).
    assert (detail['status'], company['status'], company['attempts'], company['error']) == (
        'CANCELLED', 'PENDING', 1, None)
    assert detail['finished_at'] >= company['finished_at']  # the run ended with its last step
    runs.retry_run(db, run.id, actor='admin')
    assert await work_off(dispatcher, db, run.id) == 'SUCCEEDED'
    company = steps(runs.run_detail(db, run.id))['create_company']
    assert (company['attempts'], company['earlier_attempts'], company['earlier_executions'],
            company['earlier_failures']) == (1, 1, 0, 0)
    rates = {row.key: row for row in stats.step_stats(db, since=detail['queued_at'] - timedelta(minutes=1))}
    assert (rates['create_company'].executions, rates['create_company'].failed,
            rates['create_company'].retries) == (1, 0, 0)  # the cut-short attempt is neither (QA pass 7)
