"""The database: engine construction, sessions and start-up migrations.

SQLite runs in WAL mode with foreign keys on and every transaction opened with `BEGIN IMMEDIATE`:
pysqlite's default deferred transactions silently lose read-modify-write updates and upgrade locks
into "database is locked" errors. PostgreSQL is used as given by its URL; a pooled connection the
server closed (a restart, a terminated backend) is replaced when it is checked out, found by a look
at its socket rather than by a round trip to the server on every checkout (`pool_pre_ping`).
"""

from __future__ import annotations

import contextlib
import select
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, event, exc, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, create_engine

MIGRATIONS = Path(__file__).parent / 'migrations'
SQLITE_PRAGMAS = ('journal_mode=WAL', 'synchronous=NORMAL', 'busy_timeout=15000', 'foreign_keys=ON')


def make_engine(url: str, **kwargs) -> Engine:
    """An SQLAlchemy engine for `url` (sqlite:///… or postgresql+psycopg://…)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != 'sqlite':
        kwargs.setdefault('pool_size', 20)
        kwargs.setdefault('max_overflow', 20)
        engine = create_engine(url, **kwargs)
        event.listen(engine.pool, 'checkout', _replace_if_closed_by_server)
        return engine
    if parsed.database and parsed.database != ':memory:':
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={'check_same_thread': False, 'timeout': 15}, **kwargs)
    event.listen(engine, 'connect', _sqlite_on_connect)
    event.listen(engine, 'begin', _sqlite_on_begin)
    return engine


def _replace_if_closed_by_server(dbapi_conn, _record, _proxy) -> None:
    """What `pool_pre_ping` asked (is this pooled connection still alive?) without its round trip to
    the server, which was one in six of the round trips a provisioning run makes. An idle connection
    has nothing to read; once the server closed it (a restart, pg_terminate_backend,
    idle_session_timeout) its socket holds the server's last message or the end of the stream.
    DisconnectionError makes the pool discard it and connect anew."""
    try:
        closed = dbapi_conn.closed or _readable(dbapi_conn.fileno())
    except (OSError, ValueError, psycopg.Error) as error:
        raise exc.DisconnectionError(str(error)) from error
    if closed:
        raise exc.DisconnectionError('the server closed this pooled connection')


def _readable(fd: int) -> bool:
    """Whether the socket has something to read (or is at its end) now. poll, not select: select
    cannot watch a descriptor numbered 1024 or more, which a busy process may well hand out."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


def _sqlite_on_connect(dbapi_conn, _record) -> None:
    for pragma in SQLITE_PRAGMAS:
        dbapi_conn.execute(f'PRAGMA {pragma}')
    # SQLite's lower() folds ASCII only ('École' stays 'École'); PostgreSQL's folds every letter. Case-
    # insensitive name checks and searches (lower(name) = …, ILIKE) must agree on both databases.
    dbapi_conn.create_function('lower', 1, _lower, deterministic=True)
    dbapi_conn.isolation_level = None  # stop pysqlite's implicit BEGIN; _sqlite_on_begin takes over


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def _sqlite_on_begin(conn) -> None:
    conn.exec_driver_sql('BEGIN IMMEDIATE')


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == 'postgresql'


MIGRATION_LOCK_KEY = 0x6D696772  # "migr": serialises start-up migrations of several processes


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (run on every start)."""
    config = Config()
    config.set_main_option('script_location', str(MIGRATIONS))
    with engine.connect() as connection:
        if is_postgres(engine):  # several processes starting at once: one migrates, the others wait
            connection.execute(text('SELECT pg_advisory_lock(:key)'), {'key': MIGRATION_LOCK_KEY})
            connection.commit()
        try:
            config.attributes['connection'] = connection
            command.upgrade(config, 'head')
        finally:
            if is_postgres(engine):
                connection.rollback()
                connection.execute(text('SELECT pg_advisory_unlock(:key)'), {'key': MIGRATION_LOCK_KEY})
                connection.commit()


class Database:
    """The session factory every service receives: one short unit of work per call."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # SQLite has one writer and every transaction here takes the write lock (BEGIN IMMEDIATE):
        # this process's threads queue on a lock of their own, handed over at once, instead of
        # polling SQLite's busy handler, which sleeps up to 100 ms between tries.
        self._turn = threading.RLock() if engine.dialect.name == 'sqlite' else contextlib.nullcontext()
        # PostgreSQL: one statement needs no BEGIN and COMMIT round trips around it (`statement`).
        self._autocommit = engine.execution_options(isolation_level='AUTOCOMMIT') if is_postgres(engine) else None

    @classmethod
    def from_url(cls, url: str, *, run_migrations: bool = True) -> Database:
        db = cls(make_engine(url))
        if run_migrations:
            migrate(db.engine)
        return db

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits when the block ends and rolls back on error."""
        with self._turn, Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A Core connection in a transaction that commits when the block ends: for the hot
        checkpoints of the runner, which need a few statements and no ORM unit of work."""
        with self._turn, self.engine.begin() as connection:
            yield connection

    @contextmanager
    def statement(self) -> Iterator[Connection]:
        """A Core connection for a single statement, which commits by itself: on PostgreSQL in
        autocommit (one round trip instead of three), on SQLite in a transaction like `transaction`."""
        if self._autocommit is None:
            with self.transaction() as connection:
                yield connection
            return
        with self._autocommit.connect() as connection:
            yield connection

    def dispose(self) -> None:
        self.engine.dispose()
