"""On PostgreSQL an edit, a delete and a run request of one tenant take turns: each locks the tenant's
row before its checks (engine/services/tenant_locks.py), so that no other of them can slip in between
its checks and its save (SQLite's write lock already serialises them). Each test holds, in a
connection of its own, what one side does before it commits, runs the other side in a thread, shows
it waits, and what it does once the first side has committed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from engine.auto_retry import AutoRetry, AutoRetryPolicy
from engine.security import SecretBox
from engine.services import deprovision, runs, tenant_edit, tenant_removal, tenants
from engine.validation import Conflict, NotFound, TenantCreate, TenantUpdate
from storage.db import Database
from storage.tables import Engine, Run, RunMode, RunStatus, Tenant, utcnow

WAIT_S = 0.5  # how long the held side keeps its transaction open


@pytest.fixture
def pg(pg_url) -> Iterator[Database]:
    db = Database.from_url(pg_url)
    yield db
    db.dispose()


@pytest.fixture
def engine_ids(pg) -> tuple[int, int]:
    secrets = SecretBox(Fernet.generate_key())
    with pg.session() as session:
        rows = [Engine(name=name, base_url=f'http://{name.lower()}.example.test', api_key='k',
                       api_secret_encrypted=secrets.encrypt('s'), max_concurrent_runs=4) for name in ('Old', 'New')]
        session.add_all(rows)
        session.flush()
        return rows[0].id, rows[1].id


@pytest.fixture
def tenant_id(pg, engine_ids) -> int:
    return tenants.create_tenant(pg, TenantCreate(name='Harbour Shop', country='Germany', currency='EUR',
                                                  admin_email='ops@harbour.example.com', engine=engine_ids[0]),
                                 actor='tests').id


def test_a_run_requested_during_an_edit_goes_to_the_engine_the_edit_saves(pg, tenant_id, engine_ids) -> None:
    old, new = engine_ids
    edit = ['SELECT id FROM tenant WHERE id = :tenant FOR UPDATE',  # what update_tenant does first
            'UPDATE tenant SET engine_id = :new WHERE id = :tenant']

    run = while_held(pg, edit, {'tenant': tenant_id, 'new': new},
                     lambda: runs.request_provision(pg, tenant_id, actor='tests'))

    assert run.engine_id == new != old  # it read the tenant after the edit: no run queued on the old engine


def test_an_edit_during_a_run_request_sees_the_queued_run(pg, tenant_id, engine_ids) -> None:
    queued = held_run_request(tenant_id, engine_ids[0])

    refused = while_held(pg, queued, {}, lambda: tenant_edit.update_tenant(
        pg, tenant_id, TenantUpdate(engine=engine_ids[1]), actor='tests'))

    assert isinstance(refused, Conflict)
    assert 'has a provisioning run in progress' in refused.message
    assert engine_of(pg, tenant_id) == engine_ids[0]


def test_a_delete_during_a_run_request_sees_the_queued_run(pg, tenant_id, engine_ids) -> None:
    queued = held_run_request(tenant_id, engine_ids[0])

    refused = while_held(pg, queued, {}, lambda: tenant_removal.delete_tenant(pg, tenant_id, actor='tests'))

    assert isinstance(refused, Conflict)
    assert "has an active run (#" in refused.message  # found by the delete's own check, not by a foreign key
    assert engine_of(pg, tenant_id) == engine_ids[0]


@pytest.mark.parametrize('request_run', ['provision', 'deprovision'])
def test_a_run_requested_during_a_delete_finds_no_tenant(pg, tenant_id, engine_ids, request_run) -> None:
    if request_run == 'deprovision':  # a tenant with something to tear down
        failed_run_with_a_company(pg, tenant_id, engine_ids[0])
    action = {'provision': lambda: runs.request_provision(pg, tenant_id, actor='tests'),
              'deprovision': lambda: deprovision.request(pg, tenant_id, actor='tests')}[request_run]

    refused = while_held(pg, held_delete(), {'tenant': tenant_id}, action)

    assert isinstance(refused, NotFound), refused  # not 'already has an active run'
    assert refused.message == f'There is no tenant with id {tenant_id}.'


def test_a_retry_during_a_delete_finds_no_run(pg, tenant_id, engine_ids) -> None:
    run_id = failed_run_with_a_company(pg, tenant_id, engine_ids[0])

    refused = while_held(pg, held_delete(), {'tenant': tenant_id},
                         lambda: runs.retry_run(pg, run_id, actor='tests'))

    assert isinstance(refused, NotFound), refused
    assert refused.message == f'Run {run_id} does not exist.'


def test_an_automatic_retry_during_a_delete_waits_for_it_without_a_deadlock(pg, tenant_id, engine_ids) -> None:
    """The automatic retry takes the tenant's lock before its run's, in the order a delete takes them:
    locking the run first, it held what the delete's DELETE of the runs waited for while it waited
    for the tenant, and PostgreSQL broke the deadlock by failing one of them."""
    run_id = failed_run_with_a_company(pg, tenant_id, engine_ids[0])
    with pg.session() as session:
        session.execute(sa.update(Run).where(Run.id == run_id).values(next_retry_at=utcnow()))
    lock, *deletes = held_delete()

    retried = while_held(pg, [lock], {'tenant': tenant_id},
                         lambda: AutoRetry(pg, AutoRetryPolicy())._retry_one(run_id, utcnow()), then=deletes)

    assert retried is False  # not an OperationalError (deadlock detected), and no run queued
    with pg.session() as session:
        assert session.get(Tenant, tenant_id) is None and session.get(Run, run_id) is None


def test_a_cancel_as_the_dispatcher_starts_the_run_sees_it_started(pg, tenant_id) -> None:
    """Review of the day, #1: the cancel read the run before it waited, so a run the dispatcher had just
    started counted as never started and the tenant got its old status back while a step wrote."""
    run_id = runs.request_provision(pg, tenant_id, actor='tests').id
    start = ['SELECT id FROM run WHERE id = :run FOR UPDATE',  # what RunStore.start does before it commits
             "UPDATE run SET status = 'RUNNING', started_at = now() WHERE id = :run",
             "UPDATE tenant SET status = 'PROVISIONING' WHERE id = :tenant"]

    cancelled = while_held(pg, start, {'run': run_id, 'tenant': tenant_id},
                           lambda: runs.cancel_run(pg, run_id, actor='tests'))

    assert isinstance(cancelled, Run), cancelled
    with pg.session() as session:
        assert session.get(Run, run_id).status == RunStatus.CANCELLED
        assert session.get(Tenant, tenant_id).status == 'FAILED'  # it started: not NOT_STARTED again


def test_a_provision_beside_a_teardown_of_a_tenant_sharing_its_admin_waits_and_is_refused(pg, tenant_id,
                                                                                          engine_ids) -> None:
    """Review of the day, #6: tenants sharing an admin user lock only their own rows, so a provisioning
    request of one and a teardown request of the other both found no run of the other and were both
    queued; the teardown could then delete the user the provisioning run was inviting."""
    engine_id = engine_ids[0]
    other = tenants.create_tenant(pg, TenantCreate(name='Quay Shop', country='Germany', currency='EUR',
                                                   admin_email='OPS@harbour.example.com ', engine=engine_id),
                                  actor='tests').id
    teardown = [  # what deprovision.request of the other tenant has done before it commits
        f"SELECT pg_advisory_xact_lock({engine_id}, hashtext('ops@harbour.example.com'))",
        'INSERT INTO run (tenant_id, engine_id, status, mode, trigger, correlation_id, attempt, auto_retries, '
        f"metadata, warnings, queued_at) VALUES ({other}, {engine_id}, 'QUEUED', 'deprovision', 'manual', 'held', "
        "1, 0, '{}', 0, now())"]

    refused = while_held(pg, teardown, {}, lambda: runs.request_provision(pg, tenant_id, actor='tests'))

    assert isinstance(refused, Conflict), refused
    assert "Tenant 'Quay Shop' shares this tenant's admin" in refused.message
    assert 'is being deprovisioned' in refused.message


def test_a_run_requested_as_the_previous_one_ends_waits_for_the_runner_without_a_deadlock(pg, tenant_id,
                                                                                       engine_ids) -> None:
    """The runner ends a run by locking it, closing it, then setting the tenant's status. A request
    beside it queues its run behind the closing one (the one-active-run index), and must not hold a
    lock that the runner's status update waits for: FOR UPDATE would deadlock, FOR KEY SHARE does not."""
    running = failed_run_with_a_company(pg, tenant_id, engine_ids[0], status=RunStatus.RUNNING)
    finish = [f'SELECT id FROM run WHERE id = {running} FOR UPDATE',
              f"UPDATE run SET status = 'SUCCEEDED', finished_at = now() WHERE id = {running}"]
    then = [f"UPDATE tenant SET status = 'PROVISIONED' WHERE id = {tenant_id}"]

    run = while_held(pg, finish, {}, lambda: runs.request_provision(pg, tenant_id, actor='tests'), then=then)

    assert isinstance(run, Run), run
    assert run.status == RunStatus.QUEUED and run.id != running
    with pg.session() as session:
        assert session.get(Tenant, tenant_id).status == 'QUEUED'


# ---- helpers -------------------------------------------------------------------------------------

def while_held(db: Database, statements: list[str], params: dict[str, Any], action: Callable[[], Any], *,
               then: list[str] = ()) -> Any:
    """Run `statements` in a transaction of their own, start `action` in a thread, check that it is
    still waiting after WAIT_S, run `then`, commit, and return what `action` returned (or raised)."""
    outcome: list[Any] = []

    def act() -> None:
        try:
            outcome.append(action())
        except Exception as exc:  # handed to the test
            outcome.append(exc)

    worker = threading.Thread(target=act)
    with db.engine.connect() as holder:
        for statement in statements:
            holder.execute(sa.text(statement), params)
        worker.start()
        time.sleep(WAIT_S)
        assert worker.is_alive(), f'it did not wait for the held transaction: {outcome}'
        for statement in then:
            holder.execute(sa.text(statement), params)
        holder.commit()
    worker.join(timeout=10)
    assert not worker.is_alive()
    return outcome[0]


def held_run_request(tenant_id: int, engine_id: int) -> list[str]:
    """What request_provision has done before it commits: lock the tenant, queue a run."""
    return [f'SELECT id FROM tenant WHERE id = {tenant_id} FOR KEY SHARE',
            'INSERT INTO run (tenant_id, engine_id, status, mode, trigger, correlation_id, attempt, auto_retries, '
            f"metadata, warnings, queued_at) VALUES ({tenant_id}, {engine_id}, 'QUEUED', 'provision', 'manual', "
            "'held', 1, 0, '{}', 0, now())"]


def held_delete() -> list[str]:
    """What delete_tenant has done before it commits: lock the tenant, delete it with its runs."""
    return ['SELECT id FROM tenant WHERE id = :tenant FOR UPDATE',
            'DELETE FROM steprun WHERE run_id IN (SELECT id FROM run WHERE tenant_id = :tenant)',
            'DELETE FROM run WHERE tenant_id = :tenant', 'DELETE FROM tenant WHERE id = :tenant']


def failed_run_with_a_company(db: Database, tenant_id: int, engine_id: int, *, status: str = RunStatus.FAILED) -> int:
    """A failed (or `status`) provisioning run that recorded creating the tenant's company."""
    with db.session() as session:
        run = Run(tenant_id=tenant_id, engine_id=engine_id, status=status, mode=RunMode.PROVISION,
                  correlation_id='earlier', meta={'intents': {'Company': ['Harbour Shop']}})
        session.add(run)
        tenant = session.get(Tenant, tenant_id)
        tenant.status = 'FAILED' if status == RunStatus.FAILED else 'PROVISIONING'
        session.add(tenant)
        session.flush()
        return run.id


def engine_of(db: Database, tenant_id: int) -> int:
    with db.session() as session:
        return session.get(Tenant, tenant_id).engine_id
