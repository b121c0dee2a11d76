"""Is the database reachable? Tells a lost database (a temporary unavailability: try again in a few
seconds) from every other database error (a bug or a broken schema: an internal error).

Lost means: SQLAlchemy invalidated the connection because the driver reported a disconnect
(`connection_invalidated`, e.g. PostgreSQL restarted under an open connection); or the driver
could not connect or was told to wait — psycopg's connection failures (no SQLSTATE: refused, timed
out, closed; class 08) and the server shutting down, crashing, starting up or out of connections
(57P01-57P03, 53300); SQLite's "unable to open database file" and a lock held for longer than the
busy timeout ("database is locked"). The driver's own error counts as well as SQLAlchemy's wrapper
of it (`reachable` asks the driver directly).
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

import psycopg
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from storage.db import Database

UNREACHABLE_MESSAGE = 'The database is unreachable; try again in a few seconds.'
RETRY_AFTER_SECONDS = 5

POSTGRES_UNAVAILABLE = frozenset({'57P01', '57P02', '57P03', '53300'})  # shutdown, crash, starting, full
SQLITE_UNAVAILABLE = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN})


def database_unreachable(exc: BaseException) -> bool:
    """True when `exc` says the database cannot be reached right now (see the module docstring)."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        driver_error = exc.orig
    else:
        driver_error = exc
    if isinstance(driver_error, psycopg.OperationalError):
        state = driver_error.sqlstate
        return state is None or state.startswith('08') or state in POSTGRES_UNAVAILABLE
    if isinstance(driver_error, sqlite3.OperationalError):
        code = getattr(driver_error, 'sqlite_errorcode', None)
        return code is not None and code & 0xFF in SQLITE_UNAVAILABLE  # extended codes keep the primary low
    return False


def first_line(exc: BaseException) -> str:
    """The driver's own first line of `exc` (no SQL, no parameters, no traceback)."""
    driver_error = getattr(exc, 'orig', None) or exc
    text = str(driver_error).strip()
    return text.splitlines()[0] if text else type(driver_error).__name__


def reachable(db: Database) -> bool:
    """Whether the database answers now: a `SELECT 1` on a connection of `db`'s pool, outside any
    transaction. (Every transaction of `db` on SQLite is BEGIN IMMEDIATE: the write lock, taken every
    few seconds by each open page that shows the outage notice, and waited for behind every write.)
    False when the database is lost as the module docstring says; any other database error is raised."""
    try:
        with db.engine.connect() as connection:  # connecting begins nothing (executing through it would)
            try:
                _select_one(connection.connection.dbapi_connection)
            except (sqlite3.Error, psycopg.Error):
                connection.invalidate()  # the pool drops it instead of resetting a broken connection
                raise
    except (DBAPIError, sqlite3.Error, psycopg.Error) as exc:
        if not database_unreachable(exc):
            raise
        return False
    return True


def _select_one(driver_connection) -> None:
    """`SELECT 1` through the driver's own cursor: no BEGIN, so no lock."""
    cursor = driver_connection.cursor()
    try:
        cursor.execute('SELECT 1')
        cursor.fetchall()
    finally:
        cursor.close()
