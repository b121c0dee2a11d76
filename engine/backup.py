"""Backups of the database, and putting one back.

- SQLite: SQLite's online backup API copies the database in one read transaction, so the copy is
  one consistent snapshot even while the service writes (WAL mode: writers are not blocked). The
  copy is checked (`PRAGMA integrity_check`), written next to the target and renamed into place,
  so a half-written backup never carries the target's name. Restoring copies the backup back
  through the same API and then applies any newer migrations.
- PostgreSQL: `pg_dump --format=custom` and `pg_restore --clean --if-exists --single-transaction`
  (the PostgreSQL client tools, same major version as the server or newer). Connection details go
  to them through PG* environment variables, so the password never shows up in a process list.

The engine API secrets in a backup stay encrypted: restoring needs the secret key that was in use
when the backup was taken (`<data_dir>/secret.key` or PROVISIONER_SECRET_KEY); keep it apart.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from storage.db import Database, make_engine

COUNTED_TABLES = {'tenants': 'tenant', 'runs': 'run', 'audit events': 'auditevent', 'engines': 'engine',
                  'users': 'user'}
REQUIRED_TABLES = ('alembic_version', 'tenant', 'run', 'auditevent')
PG_TIMEOUT_SECONDS = 3600


class BackupError(RuntimeError):
    """A backup or restore could not be made; str() is one line saying why and what to do."""


@dataclass(frozen=True)
class BackupSummary:
    """What a backup or restore covered: the file and the number of rows of the main tables."""

    path: Path
    kind: str
    counts: dict[str, int] = field(default_factory=dict)

    def describe(self, verb: str) -> str:
        counted = ', '.join(f'{number} {name}' for name, number in self.counts.items())
        return f'{verb} ({self.kind}): {self.path}' + (f' — {counted}' if counted else '')


def backup(database_url: str, target: Path) -> BackupSummary:
    """Write a backup of the database at `database_url` to `target`."""
    url = make_url(database_url)
    if url.get_backend_name() == 'sqlite':
        source = _sqlite_file(url)
        copy_sqlite(source, target.resolve())
        return BackupSummary(target.resolve(), 'sqlite', sqlite_counts(target.resolve()))
    _pg_dump(url, target.resolve())
    return BackupSummary(target.resolve(), 'pg_dump', database_counts(database_url))


def restore(database_url: str, source: Path) -> BackupSummary:
    """Replace the database at `database_url` with the backup at `source`, then migrate it."""
    source = source.resolve()
    if not source.is_file():
        raise BackupError(f'no backup file at {source}')
    url = make_url(database_url)
    if url.get_backend_name() == 'sqlite':
        check_sqlite_backup(source)
        restore_sqlite(source, _sqlite_file(url, must_exist=False))
    else:
        _pg_restore(url, source)
    _migrate(database_url)
    return BackupSummary(source, 'sqlite' if url.get_backend_name() == 'sqlite' else 'pg_restore',
                         database_counts(database_url))


# ---- SQLite -------------------------------------------------------------------------------------

def copy_sqlite(source: Path, target: Path) -> None:
    """An online, consistent copy of `source` at `target` (one self-contained file, mode 0600)."""
    if not source.is_file():
        raise BackupError(f'no database at {source}: check PROVISIONER_DATABASE_URL')
    if target == source:
        raise BackupError('the backup file must not be the database itself')
    if target.is_dir():
        raise BackupError(f'{target} is a directory: give the backup a file name')
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f'.{target.name}.{os.getpid()}.partial')
    try:
        _copy_pages(source, partial)
        os.chmod(partial, 0o600)
        os.replace(partial, target)
    except (sqlite3.Error, OSError) as exc:
        raise BackupError(f'backup failed: {exc}') from None
    finally:
        partial.unlink(missing_ok=True)


def _copy_pages(source: Path, partial: Path) -> None:
    partial.unlink(missing_ok=True)
    reader = sqlite3.connect(source, timeout=30)
    writer = sqlite3.connect(partial)
    try:
        # pages=-1: every page in one step, i.e. one read transaction = one snapshot. In WAL mode
        # the service's writers carry on meanwhile; a stepwise copy would restart on each write.
        reader.backup(writer, pages=-1)
        writer.execute('PRAGMA journal_mode=DELETE')  # no -wal/-shm companions: one file to keep
        _check_integrity(writer, partial)
    finally:
        writer.close()
        reader.close()


def check_sqlite_backup(path: Path) -> None:
    """Raise BackupError unless `path` is an intact Provisioner SQLite database."""
    try:
        connection = sqlite3.connect(f'{path.as_uri()}?mode=ro', uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f'cannot open {path}: {exc}') from None
    try:
        _check_integrity(connection, path)
    finally:
        connection.close()


def _check_integrity(connection: sqlite3.Connection, path: Path) -> None:
    try:
        verdict = connection.execute('PRAGMA integrity_check').fetchone()[0]
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f'{path} is not a SQLite database ({exc})') from None
    if verdict != 'ok':
        raise BackupError(f'{path} is damaged (integrity check: {verdict})')
    missing = [name for name in REQUIRED_TABLES if name not in tables]
    if missing:
        raise BackupError(f'{path} is not a Provisioner database (no {", ".join(missing)} table)')


def restore_sqlite(source: Path, database: Path) -> None:
    """Copy the backup's pages over the database file (created when missing)."""
    database.parent.mkdir(parents=True, exist_ok=True)
    reader = sqlite3.connect(f'{source.as_uri()}?mode=ro', uri=True)
    writer = sqlite3.connect(database, timeout=30)
    try:
        reader.backup(writer, pages=-1)
    except sqlite3.Error as exc:
        raise BackupError(f'restore failed: {exc} (is the service still running? stop it first)') from None
    finally:
        writer.close()
        reader.close()


def sqlite_counts(path: Path) -> dict[str, int]:
    connection = sqlite3.connect(f'{path.as_uri()}?mode=ro', uri=True)
    try:
        return {name: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
                for name, table in COUNTED_TABLES.items()}
    finally:
        connection.close()


def _sqlite_file(url: URL, *, must_exist: bool = True) -> Path:
    if not url.database or url.database == ':memory:':
        raise BackupError('an in-memory SQLite database cannot be backed up or restored')
    path = Path(url.database).resolve()
    if must_exist and not path.is_file():
        raise BackupError(f'no database at {path}: check PROVISIONER_DATABASE_URL')
    return path


# ---- PostgreSQL ---------------------------------------------------------------------------------

def _pg_dump(url: URL, target: Path) -> None:
    if target.is_dir():
        raise BackupError(f'{target} is a directory: give the backup a file name')
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f'.{target.name}.{os.getpid()}.partial')
    try:
        _run_pg_tool(url, ['pg_dump', '--format=custom', '--no-owner', '--no-privileges', f'--file={partial}'])
        os.chmod(partial, 0o600)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _pg_restore(url: URL, source: Path) -> None:
    _run_pg_tool(url, ['pg_restore', '--clean', '--if-exists', '--no-owner', '--no-privileges',
                       '--single-transaction', '--exit-on-error', f'--dbname={url.database}', str(source)])


def _run_pg_tool(url: URL, argv: list[str]) -> None:
    if shutil.which(argv[0]) is None:
        raise BackupError(f'{argv[0]} not found: install the PostgreSQL client tools '
                          '(the same major version as the server, or newer)')
    try:
        finished = subprocess.run(argv, env=pg_environment(url), capture_output=True, text=True,
                                  timeout=PG_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise BackupError(f'{argv[0]} did not finish within {PG_TIMEOUT_SECONDS} seconds') from None
    if finished.returncode != 0:
        last_line = (finished.stderr.strip().splitlines() or ['no output'])[-1]
        raise BackupError(f'{argv[0]} failed (exit status {finished.returncode}): {last_line}')


def pg_environment(url: URL) -> dict[str, str]:
    """The PG* variables libpq reads, from an SQLAlchemy URL (the password never on a command line)."""
    env = dict(os.environ)
    values = {'PGHOST': url.host or url.query.get('host'), 'PGPORT': url.port or url.query.get('port'),
              'PGUSER': url.username, 'PGPASSWORD': url.password, 'PGDATABASE': url.database,
              'PGSSLMODE': url.query.get('sslmode')}
    env.update({name: str(value) for name, value in values.items() if value})
    return env


# ---- both -----------------------------------------------------------------------------------------

def database_counts(database_url: str) -> dict[str, int]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return {name: connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()
                    for name, table in COUNTED_TABLES.items()}
    finally:
        engine.dispose()


def _migrate(database_url: str) -> None:
    """A backup from an older version gets the newer migrations now rather than at the next start."""
    Database.from_url(database_url).dispose()
