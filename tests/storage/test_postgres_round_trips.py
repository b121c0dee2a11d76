"""What the database costs a run on PostgreSQL in round trips (issue 7, figure 3: each one is CPU of
this process, the driver's and the server's). A pooled connection is checked out without a round
trip of its own (no `pool_pre_ping`), yet one the server closed is replaced before it is used; an
intent save is a single statement that commits by itself. Counted from libpq's own trace of what
this process sends to the server, on a pool of one connection."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import pq
from sqlalchemy import text

from engine.errors import RunCancelledError
from engine.run_store import LeaseLost, RunStore
from storage.db import Database, make_engine
from storage.tables import Engine, Run, RunStatus, Tenant


@pytest.fixture
def db(pg_url) -> Iterator[Database]:
    Database.from_url(pg_url).dispose()  # migrated
    database = Database(make_engine(pg_url, pool_size=1, max_overflow=0))
    yield database
    database.dispose()


@contextmanager
def round_trips(db: Database, tmp_path: Path) -> Iterator[list[str]]:
    """The messages that wait for the server's answer ('Query' for BEGIN, COMMIT and a ping; 'Sync'
    ending a statement), sent on the pool's one connection while the block runs."""
    with db.engine.connect() as connection:
        driver_connection = connection.connection.dbapi_connection
    sent: list[str] = []
    with open(tmp_path / 'libpq.trace', 'w') as trace:
        driver_connection.pgconn.trace(trace.fileno())
        driver_connection.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        try:
            yield sent
        finally:
            driver_connection.pgconn.untrace()
    for line in (tmp_path / 'libpq.trace').read_text().splitlines():
        fields = line.split('\t')  # direction (F: to the server), length, message, its content
        if len(fields) >= 3 and fields[0] == 'F' and fields[2] in ('Query', 'Sync'):
            sent.append(f'{fields[2]} {fields[3].strip()}' if len(fields) > 3 else fields[2])


def backend_pid(db: Database) -> int:
    with db.transaction() as connection:
        return connection.execute(text('SELECT pg_backend_pid()')).scalar_one()


def test_checking_out_a_pooled_connection_sends_nothing(db, tmp_path) -> None:
    backend_pid(db)  # the pool holds its connection
    with round_trips(db, tmp_path) as sent:
        with db.transaction() as connection:
            connection.execute(text('SELECT 1'))
    assert sent == ['Query "BEGIN"', 'Query "SELECT 1"', 'Query "COMMIT"']  # no ping (';') before BEGIN


def test_a_pooled_connection_the_server_closed_is_replaced_before_it_is_used(db, pg_url) -> None:
    first = backend_pid(db)
    with psycopg.connect(pg_url.replace('postgresql+psycopg', 'postgresql'), autocommit=True) as admin:
        assert admin.execute('SELECT pg_terminate_backend(%s)', [first]).fetchone()[0]
        for _ in range(100):  # the backend is gone once it no longer shows
            if not admin.execute('SELECT 1 FROM pg_stat_activity WHERE pid = %s', [first]).fetchall():
                break
            time.sleep(0.05)
    second = backend_pid(db)  # no OperationalError: the pool connected anew
    assert second != first


def test_an_intent_save_is_one_round_trip(db, tmp_path) -> None:
    run_id = running_run(db)
    with round_trips(db, tmp_path) as sent:
        RunStore(db).save_intents(run_id, {'Company': ['Acme Stores']}, owner='me')
    assert sent == ['Sync']  # one UPDATE: no BEGIN, no read of the metadata first, no COMMIT
    with db.session() as session:
        assert session.get(Run, run_id).meta['intents'] == {'Company': ['Acme Stores']}


@pytest.mark.parametrize('db_kind', ['sqlite', 'postgresql'])
def test_an_intent_save_replaces_the_intents_keeps_the_rest_and_stops_a_cancelled_run(db_kind, tmp_path,
                                                                                       request) -> None:
    url = f'sqlite:///{tmp_path / "intents.db"}' if db_kind == 'sqlite' else request.getfixturevalue('pg_url')
    database = Database.from_url(url)
    try:
        claims = [{'owner': 'host:1:abc', 'at': '2026-12-01T10:00:00+00:00'}]
        run_id = running_run(database, meta={'claims': claims, 'retried_by': 'jane', 'intents': {'User': ['a@x.test']}})
        store = RunStore(database)
        store.save_intents(run_id, {'Company': ['Acme Stores'], 'Warehouse': ['Main - AS', 'Stores - AS']})
        assert meta_of(database, run_id) == {
            'claims': claims, 'retried_by': 'jane',
            'intents': {'Company': ['Acme Stores'], 'Warehouse': ['Main - AS', 'Stores - AS']}}
        with database.session() as session:
            run = session.get(Run, run_id)
            run.status = RunStatus.CANCELLED
            session.add(run)
        with pytest.raises(RunCancelledError):
            store.save_intents(run_id, {'Company': ['Acme Stores'], 'Customer': ['Acme Walk-in']})
        assert meta_of(database, run_id)['intents'] == {'Company': ['Acme Stores'],
                                                          'Warehouse': ['Main - AS', 'Stores - AS']}
    finally:
        database.dispose()


@pytest.mark.parametrize('db_kind', ['sqlite', 'postgresql'])
def test_an_intent_save_of_a_process_whose_lease_was_taken_over_records_nothing(db_kind, tmp_path, request) -> None:
    # Review 4, #8: the process that lost the run must not announce (and then make) a write the new
    # holder will make too.
    url = f'sqlite:///{tmp_path / "intents.db"}' if db_kind == 'sqlite' else request.getfixturevalue('pg_url')
    database = Database.from_url(url)
    try:
        run_id = running_run(database, meta={'intents': {'Company': ['Acme Stores']}})
        store = RunStore(database)
        with database.session() as session:
            run = session.get(Run, run_id)
            run.lease_owner = 'another process'
            session.add(run)
        with pytest.raises(LeaseLost):
            store.save_intents(run_id, {'Company': ['Acme Stores'], 'Customer': ['Acme Walk-in']}, owner='me')
        assert meta_of(database, run_id)['intents'] == {'Company': ['Acme Stores']}
        store.save_intents(run_id, {'Company': ['Acme Stores'], 'Price List': ['Acme']}, owner='another process')
        assert meta_of(database, run_id)['intents'] == {'Company': ['Acme Stores'], 'Price List': ['Acme']}
    finally:
        database.dispose()


def running_run(db: Database, *, meta: dict | None = None) -> int:
    with db.session() as session:
        engine = Engine(name='ERPNext', base_url='http://erp.test', api_key='k', api_secret_encrypted='x')
        session.add(engine)
        session.flush()
        tenant = Tenant(name='Acme Stores', company_name='Acme Stores', country='United States', currency='USD',
                        admin_email='admin@acme.test', stores=1, engine_id=engine.id, created_by='tests')
        session.add(tenant)
        session.flush()
        run = Run(tenant_id=tenant.id, engine_id=engine.id, status=RunStatus.RUNNING, lease_owner='me',
                  correlation_id='c1', requested_by='tests', meta=meta or {})
        session.add(run)
        session.flush()
        return run.id


def meta_of(db: Database, run_id: int) -> dict:
    with db.session() as session:
        return session.get(Run, run_id).meta
