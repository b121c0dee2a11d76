"""The dispatcher: limits, leases, crash recovery and a clean drain, on a real database file."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from engine.dispatcher import Dispatcher
from engine.runner import Runner
from engine.services import audit, runs
from storage.tables import Engine, Run, utcnow
from tests.conftest import FAST_RETRIES
from tests.engine.helpers import fault, names, steps


def read_run(db, run_id) -> Run:
    with db.session() as session:
        return session.get(Run, run_id)


async def finish(dispatcher: Dispatcher) -> None:
    while dispatcher.tasks:
        await asyncio.gather(*dispatcher.tasks.values(), return_exceptions=True)


DEAD_LEASE_S = 1.0  # long enough for a first look while it is alive, on a loaded machine (0.2 s was not)


async def claim_when_the_lease_expired(survivor: Dispatcher) -> list[int]:
    """The dead process's lease expires (later when a checkpoint in flight renewed it)."""
    for _ in range(100):
        await asyncio.sleep(0.05)
        if claimed := await survivor.tick():
            return claimed
    return []


async def die_after(db, clients, step_key: str) -> None:
    """A process (owner 'dead-process', leases of 0.2 s) claims the queued run and dies once `step_key`
    has ended: its lease is left to expire."""
    dead = Dispatcher(db, None, max_concurrent=1, owner='dead-process', lease_seconds=DEAD_LEASE_S)
    task = None

    def die(key, outcome):
        if key == step_key:
            dead.accepting = False  # a dead process claims nothing more (no follow-up claim either)
            task.cancel()

    dead.runner = Runner(db, clients.get, policy=FAST_RETRIES, on_step_finished=die)
    [claimed] = await dead.tick()
    task = dead.tasks[claimed]
    await asyncio.gather(task, return_exceptions=True)


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
    await die_after(db, clients, 'create_warehouses')
    assert read_run(db, run.id).status == 'RUNNING' and read_run(db, run.id).lease_owner == 'dead-process'

    survivor = Dispatcher(db, Runner(db, clients.get, policy=FAST_RETRIES), max_concurrent=4, owner='p2')
    assert await survivor.tick() == []  # the lease is still alive
    assert await claim_when_the_lease_expired(survivor) == [run.id]
    await finish(survivor)

    detail = runs.run_detail(db, run.id)
    assert detail['status'] == 'SUCCEEDED'
    assert steps(detail)['create_company']['attempts'] == 1
    assert await names(sandbox, 'Company') == ['Acme Retail']


async def test_a_resumed_run_says_so_in_the_audit_log_and_its_detail(db, clients, make_tenant, sandbox):
    acme = make_tenant('Acme Retail')
    run = runs.request_provision(db, acme.id, actor='t')
    # after the company, which every other step needs: with steps running side by side, a later
    # step may be the last to end, and the run ended before the process 'died'
    await die_after(db, clients, 'create_company')
    await asyncio.sleep(0.25)  # the lease expires (and a checkpoint still being written lands)
    unfinished = [s for s in runs.run_detail(db, run.id)['steps'] if s['status'] in ('PENDING', 'RUNNING')]
    assert unfinished and runs.run_detail(db, run.id)['resumed'] == []

    survivor = Dispatcher(db, Runner(db, clients.get, policy=FAST_RETRIES), max_concurrent=4, owner='p2')
    assert await claim_when_the_lease_expired(survivor) == [run.id]
    await finish(survivor)

    [event] = audit.list_events(db, action='run.resumed').items
    assert (event.actor, event.tenant_id, event.run_id) == ('system', acme.id, run.id)
    assert event.step_key == unfinished[0]['key'] and event.details['previous_owner'] == 'dead-process'
    detail = runs.run_detail(db, run.id)
    assert detail['status'] == 'SUCCEEDED'
    assert [(r['step'], r['step_title']) for r in detail['resumed']] == [(unfinished[0]['key'],
                                                                          unfinished[0]['title'])]


async def test_claims_of_fresh_or_released_runs_record_no_resumption(db, clients, make_tenant, sandbox):
    await fault(sandbox, latency_ms=40)
    run = runs.request_provision(db, make_tenant('Acme Retail').id, actor='t')
    stopping = Dispatcher(db, Runner(db, clients.get, policy=FAST_RETRIES), max_concurrent=1, owner='p1')
    await stopping.tick()
    await asyncio.sleep(0.2)
    await stopping.drain(grace_seconds=5)  # handed back to the queue, not taken from a dead process

    fresh = Dispatcher(db, Runner(db, clients.get, policy=FAST_RETRIES), max_concurrent=1, owner='p2')
    assert await fresh.tick() == [run.id]
    await finish(fresh)

    assert runs.run_detail(db, run.id)['status'] == 'SUCCEEDED'
    assert audit.list_events(db, action='run.resumed').total == 0


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


def set_engine(db, engine_id, **fields) -> None:
    with db.session() as session:
        engine = session.get(Engine, engine_id)
        for name, value in fields.items():
            setattr(engine, name, value)
        session.add(engine)


def second_engine(db, secrets, **fields) -> Engine:
    with db.session() as session:
        engine = Engine(name='Second ERP', base_url='http://sandbox', api_key='sandbox',
                        api_secret_encrypted=secrets.encrypt('sandbox'), **fields)
        session.add(engine)
    return engine


async def test_an_offline_engine_holds_its_runs_and_others_go_ahead(db, secrets, runner, make_tenant, engine_row,
                                                                   sandbox):
    waiting = [runs.request_provision(db, make_tenant().id, actor='t') for _ in range(3)]  # older
    other = second_engine(db, secrets)
    later = make_tenant('Other Co')
    with db.session() as session:
        tenant = session.get(type(later), later.id)
        tenant.engine_id = other.id
        session.add(tenant)
    ready = runs.request_provision(db, later.id, actor='t')
    set_engine(db, engine_row.id, health='offline')
    dispatcher = Dispatcher(db, runner, max_concurrent=4, owner='p1')

    assert await dispatcher.tick() == [ready.id]
    await finish(dispatcher)
    assert await dispatcher.tick() == []
    assert {read_run(db, r.id).status for r in waiting} == {'QUEUED'}  # waiting, not failed

    set_engine(db, engine_row.id, health='online')
    assert sorted(await dispatcher.tick()) == sorted(r.id for r in waiting)
    await finish(dispatcher)
    assert {read_run(db, r.id).status for r in waiting} == {'SUCCEEDED'}


async def test_a_busy_engine_does_not_starve_another(db, secrets, runner, make_tenant, engine_row, sandbox):
    set_engine(db, engine_row.id, max_concurrent_runs=1)
    for _ in range(12):  # more than the claim window of one tick
        runs.request_provision(db, make_tenant().id, actor='t')
    other = second_engine(db, secrets, max_concurrent_runs=2)
    newest = []
    for name in ('Late One', 'Late Two'):
        late = make_tenant(name)
        with db.session() as session:
            tenant = session.get(type(late), late.id)
            tenant.engine_id = other.id
            session.add(tenant)
        newest.append(runs.request_provision(db, late.id, actor='t').id)
    dispatcher = Dispatcher(db, runner, max_concurrent=8, owner='p1')

    claimed = await dispatcher.tick()

    assert len(claimed) == 3 and set(newest) <= set(claimed)  # 1 of the busy engine, 2 of the other
    await dispatcher.drain(grace_seconds=10)


async def test_each_claim_is_recorded_in_the_run(db, runner, make_tenant, sandbox):
    run = runs.request_provision(db, make_tenant().id, actor='t')
    dispatcher = Dispatcher(db, runner, max_concurrent=1, owner='p1')
    await dispatcher.tick()
    await finish(dispatcher)

    [claim] = read_run(db, run.id).meta['claims']
    assert claim['owner'] == 'p1' and claim['at']


def take_over(db, run_id, owner) -> None:
    """What another process does once our lease expired: claim the run for itself."""
    with db.session() as session:
        run = session.get(Run, run_id)
        run.lease_owner, run.lease_expires_at = owner, utcnow() + timedelta(seconds=30)
        session.add(run)


async def test_a_run_taken_over_by_another_process_stops_at_the_next_checkpoint(db, clients, make_tenant, sandbox):
    await fault(sandbox, latency_ms=30)
    run = runs.request_provision(db, make_tenant('Acme Retail').id, actor='t')
    seen = []
    runner = Runner(db, clients.get, policy=FAST_RETRIES, on_step_finished=lambda key, outcome: seen.append(key))
    stalled = Dispatcher(db, runner, max_concurrent=1, owner='p1')
    [claimed] = await stalled.tick()
    while 'create_company' not in seen:
        await asyncio.sleep(0.01)

    take_over(db, run.id, 'p2')
    [status] = await asyncio.gather(stalled.tasks[claimed])

    assert status == 'LEASE_LOST'
    after = read_run(db, run.id)
    assert (after.status, after.lease_owner) == ('RUNNING', 'p2')  # p1 neither finished nor released it
    assert 'verify_provisioning' not in seen


async def test_lease_renewal_stops_work_on_a_run_taken_over(db, runner, make_tenant, sandbox):
    await fault(sandbox, latency_ms=50)
    run = runs.request_provision(db, make_tenant().id, actor='t')
    dispatcher = Dispatcher(db, runner, max_concurrent=1, owner='p1')
    [claimed] = await dispatcher.tick()
    task = dispatcher.tasks[claimed]

    take_over(db, run.id, 'p2')
    await dispatcher.renew_leases()

    await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled() and dispatcher.tasks == {}
    assert read_run(db, run.id).lease_owner == 'p2'


async def test_a_run_cancelled_after_its_process_died_stops_when_the_lease_expires(db, clients, make_tenant,
                                                                                 sandbox):
    # QA pass 7, finding 1: its steps in flight read RUNNING for ever, with no action offered on them.
    acme = make_tenant('Acme Retail')
    run = runs.request_provision(db, acme.id, actor='t')
    await die_after(db, clients, 'create_company')
    runs.cancel_run(db, run.id, actor='admin')
    in_flight = [s['key'] for s in runs.run_detail(db, run.id)['steps'] if s['status'] == 'RUNNING']
    assert in_flight  # the dead process's next steps had started

    other = Dispatcher(db, Runner(db, clients.get, policy=FAST_RETRIES), max_concurrent=4, owner='p2')
    await other.renew_leases()  # its lease is still alive: nothing to settle yet
    assert [s['key'] for s in runs.run_detail(db, run.id)['steps'] if s['status'] == 'RUNNING'] == in_flight
    for _ in range(100):  # until the lease expired and the lease job settled the run
        await asyncio.sleep(0.05)
        await other.renew_leases()
        if read_run(db, run.id).lease_owner is None:
            break

    detail = runs.run_detail(db, run.id)
    stopped = {s['key']: s for s in detail['steps'] if s['key'] in in_flight}
    assert {s['status'] for s in stopped.values()} == {'PENDING'} and all(s['attempts'] == 1 for s in stopped.values())
    assert (detail['status'], read_run(db, run.id).lease_owner) == ('CANCELLED', None)
    runs.retry_run(db, run.id, actor='admin')  # no longer "still stopping"
    assert await other.tick() == [run.id]
    await finish(other)
    assert runs.run_detail(db, run.id)['status'] == 'SUCCEEDED'
