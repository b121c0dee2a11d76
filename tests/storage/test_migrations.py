"""The Alembic migrations build exactly the schema the SQLModel tables describe, and go back down."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import storage.tables  # noqa: F401  (registers the tables on the metadata)
from storage.db import Database


def test_migrations_match_the_models(tmp_path):
    db = Database.from_url(f'sqlite:///{tmp_path / "m.db"}')
    with db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) == []
    db.dispose()


def _alembic(db: Database, action, revision: str) -> None:
    config = Config('alembic.ini')
    with db.engine.connect() as connection:
        config.attributes['connection'] = connection
        action(config, revision)
        connection.commit()


def test_migrations_downgrade_to_nothing_and_up_again(tmp_path):
    db = Database.from_url(f'sqlite:///{tmp_path / "m.db"}')
    _alembic(db, command.downgrade, 'base')
    assert set(inspect(db.engine).get_table_names()) <= {'alembic_version'}
    _alembic(db, command.upgrade, 'head')
    assert {'tenant', 'run', 'steprun', 'auditevent'} <= set(inspect(db.engine).get_table_names())
    db.dispose()
