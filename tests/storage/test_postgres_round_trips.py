"""What the database costs a run on PostgreSQL in round trips (issue 7, figure 3: each one is CPU of
this process, the driver's and the server's). A pooled connection is checked out without a round
trip of its own (no `pool_pre_ping`), yet one the server closed is replaced before it is used.
Counted from libpq's own trace of what this process sends to the server, on a pool of one connection."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import pq
from sqlalchemy import text

from storage.db import Database, make_engine


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
        direction, _length, message, *rest = line.split('\t')
        if direction == 'F' and message in ('Query', 'Sync'):
            sent.append(f'{message} {rest[0].strip()}' if rest else message)


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
