"""`storage.availability.reachable`: the outage notice's recheck, every two seconds per open page. It
asks without a transaction, so on SQLite it neither takes the write lock nor waits behind a writer;
and it tells a lost database (SQLite's folder moved away, PostgreSQL stopped) from one that answers."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from storage.availability import reachable
from storage.db import Database
from tests.support.databases import migrated_sqlite
from tests.support.postgres import StoppableCluster, stoppable_cluster

PROMPT_S = 3.0  # a plain read answers at once; a transaction would wait for the busy timeout (15 s)


def test_a_writer_holding_the_lock_does_not_hold_up_the_check(db: Database) -> None:
    writer = sqlite3.connect(db.engine.url.database, isolation_level=None)
    writer.execute('BEGIN IMMEDIATE')  # the write lock, as a long write of another process holds it
    try:
        with ThreadPoolExecutor(1) as pool:
            assert pool.submit(reachable, db).result(timeout=PROMPT_S) is True
            # the check took no lock of its own: the writer still writes
            writer.execute("UPDATE alembic_version SET version_num = version_num")
    finally:
        writer.execute('COMMIT')
        writer.close()


def test_a_sqlite_file_that_cannot_be_opened_is_unreachable_until_it_is_back(tmp_path) -> None:
    folder = tmp_path / 'database'
    db = migrated_sqlite(folder / 'provisioner.db')
    try:
        assert reachable(db) is True
        folder.rename(tmp_path / 'away')
        db.dispose()  # an open connection would still read the moved file
        assert reachable(db) is False
        (tmp_path / 'away').rename(folder)
        assert reachable(db) is True
    finally:
        db.dispose()


@pytest.fixture(scope='module')
def own_cluster() -> Iterator[StoppableCluster]:
    yield from stoppable_cluster()


def test_a_stopped_postgresql_is_unreachable_until_it_is_back(own_cluster: StoppableCluster) -> None:
    db = Database.from_url(own_cluster.new_database())
    try:
        assert reachable(db) is True  # (a pooled connection is left behind)
        own_cluster.pause()
        try:
            assert reachable(db) is False
        finally:
            own_cluster.resume()
        assert reachable(db) is True
    finally:
        db.dispose()
