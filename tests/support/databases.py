"""Fresh SQLite database files with the newest schema, made by copying one migrated template.

Running Alembic from nothing costs about 30 ms, several hundred times a run; copying a file that
was migrated once per test process costs well under 1 ms. The copy is a whole database file
(schema, indexes and `alembic_version` at head), and `Database.from_url` still runs the migration
step on it, which then finds nothing to do, as on every restart of the service. Migrating from
nothing stays covered by tests/storage/test_migrations.py and every test that starts the service
on an empty data directory."""

from __future__ import annotations

import atexit
import shutil
import sqlite3
import tempfile
from pathlib import Path

from storage.db import Database

_template: Path | None = None


def template_file() -> Path:
    """The migrated template of this test process (made on first use, removed with its folder)."""
    global _template
    if _template is None:
        folder = Path(tempfile.mkdtemp(prefix='provisioner-template-'))
        path = folder / 'template.db'
        Database.from_url(f'sqlite:///{path}').dispose()
        with sqlite3.connect(path) as connection:  # everything in the main file, no -wal beside it
            connection.execute('PRAGMA wal_checkpoint(TRUNCATE)')
        _template = path
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return _template


def migrated_sqlite_file(path: Path) -> str:
    """Put a migrated, empty database file at `path`; its sqlite:/// URL."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template_file(), path)
    return f'sqlite:///{path}'


def migrated_sqlite(path: Path) -> Database:
    """A Database on a fresh copy of the template at `path`."""
    return Database.from_url(migrated_sqlite_file(path))
