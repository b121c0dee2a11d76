"""The dispatcher: limits, leases, crash recovery and a clean drain, on a real database file."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from engine.dispatcher import Dispatcher
from engine.runner import Runner
from engine.services import runs
from storage.tables import Engine, Run, utcnow
from tests.conftest import FAST_RETRIES
from tests.engine.helpers import fault, names, steps


def read_run(db, run_id) -> Run:
    with db.session() as session:
        return session.get(Run, run_id)


async def finish(dispatcher: Dispatcher) -> None:
    while dispatcher.tasks:
        await asyncio.gather(*dispatcher.tasks.values(), return_exceptions=True)


async def test_claims_respect_the_global_limit(db, runner, make_tenant, sandbox):
    await fault(sandbox, latency_ms=50)
    queued = [runs.request_provision(db, make_tenant().id, actor='t') for _ in range(5)]
    dispatcher = Dispatcher(db, runner, max_concurrent=2, owner='p1')

    first = await dispatcher.tick()
    assert first == [queued[0].id, queued[1].id]  # oldest first
    assert await dispatcher.tick() == []  # full
    lease = read_run(db, first[0])
    assert lease.status == 'RUNNING' and lease.lease_owner == 'p1' and lease.lease_expires_at > utcnow()

    while any(read_run(db, r.id).status != 'SUCCEEDED' for r in queued):
        await dispatcher.tick()
        assert len(dispatcher.tasks) <= 2
        await asyncio.sleep(0.02)
    await finish(dispatcher)


async def test_claims_respect_the_engine_limit(db, runner, make_tenant, engine_row, sandbox):
    with db.session() as session:
        engine = session.get(Engine, engine_row.id)
        engine.max_concurrent_runs = 1
        session.add(engine)
    await fault(sandbox, latency_ms=30)
    for _ in range(3):
        runs.request_provision(db, make_tenant().id, actor='t')
    dispatcher = Dispatcher(db, runner, max_concurrent=8, owner='p1')
    assert len(await dispatcher.tick()) == 1
    assert await dispatcher.tick() == []
    await finish(dispatcher)


async def test_a_run_whose_process_died_is_claimed_again_and_resumes(db, clients, make_tenant, sandbox):
    acme = make_tenant('Acme Retail')
    run = runs.request_provision(db, acme.id, actor='t')
    dead = Dispatcher(db, None, max_concurrent=1, owner='dead-process', lease_seconds=0.2)
    task = None

    def die_after_warehouses(key, outcome):
        if key == 'create_warehouses':
            task.cancel()

    dead.runner = Runner(db, clients.get, policy=FAST_RETRIES, on_step_finished=die_after_warehouses)
    [claimed] = await dead.tick()
    task = dead.tasks[claimed]
    await asyncio.gather(task, return_exceptions=True)
    assert read_run(db, run.id).status == 'RUNNING' and read_run(db, run.id).lease_owner == 'dead-process'

    survivor = Dispatcher(db, Runner(db, clients.get, policy=FAST_RETRIES), max_concurrent=4, owner='p2')
    assert await survivor.tick() == []  # the lease is still alive
    await asyncio.sleep(0.25)
    assert await survivor.tick() == [run.id]
    await finish(survivor)

    detail = runs.run_detail(db, run.id)
    assert detail['status'] == 'SUCCEEDED'
    assert steps(detail)['create_company']['attempts'] == 1
    assert await names(sandbox, 'Company') == ['Acme Retail']


async def test_renewal_extends_only_our_leases(db, runner, make_tenant, sandbox):
    await fault(sandbox, latency_ms=100)
    run = runs.request_provision(db, make_tenant().id, actor='t')
    dispatcher = Dispatcher(db, runner, max_concurrent=1, owner='p1', lease_seconds=5)
    await dispatcher.tick()
    before = read_run(db, run.id).lease_expires_at
    await asyncio.sleep(0.05)
    await dispatcher.renew_leases()
    assert read_run(db, run.id).lease_expires_at > before
    await finish(dispatcher)


async def test_drain_hands_running_runs_back_and_they_resume(db, clients, make_tenant, sandbox):
    await fault(sandbox, latency_ms=40)
    run = runs.request_provision(db, make_tenant('Acme Retail').id, actor='t')
    stopping = Dispatcher(db, Runner(db, clients.get, policy=FAST_RETRIES), max_concurrent=1, owner='p1')
    await stopping.tick()
    await asyncio.sleep(0.3)  # some steps done, some in flight

    await stopping.drain(grace_seconds=5)

    released = read_run(db, run.id)
    assert released.status == 'QUEUED' and released.lease_owner is None
    assert stopping.tasks == {} and await stopping.tick() == []  # stopped claiming
    done_before = {k for k, s in steps(runs.run_detail(db, run.id)).items() if s['status'] == 'SUCCEEDED'}
    assert done_before and 'verify_provisioning' not in done_before

    fresh = Dispatcher(db, Runner(db, clients.get, policy=FAST_RETRIES), max_concurrent=1, owner='p2')
    await fresh.tick()
    await finish(fresh)
    detail = runs.run_detail(db, run.id)
    assert detail['status'] == 'SUCCEEDED'
    assert all(steps(detail)[key]['attempts'] == 1 for key in done_before)


async def test_expired_lease_counts_as_free_capacity(db, runner, make_tenant, engine_row):
    with db.session() as session:
        engine = session.get(Engine, engine_row.id)
        engine.max_concurrent_runs = 1
        session.add(engine)
    run = runs.request_provision(db, make_tenant().id, actor='t')
    with db.session() as session:
        stale = session.get(Run, run.id)
        stale.status, stale.lease_owner = 'RUNNING', 'gone'
        stale.lease_expires_at = utcnow() - timedelta(seconds=1)
        session.add(stale)
    dispatcher = Dispatcher(db, runner, max_concurrent=1, owner='p1')
    assert await dispatcher.tick() == [run.id]
    await finish(dispatcher)
