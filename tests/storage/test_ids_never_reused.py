"""An engine's or a tenant's id is never handed out again after it was deleted (QA pass 8: SQLite gave
the next engine the deleted one's id, so the audit log and bookmarked `?engine=` links mixed two
engines up). Migration 0010 rebuilds both tables on SQLite with AUTOINCREMENT, keeping every row, id,
reference and index; PostgreSQL's sequences never reused an id."""

from __future__ import annotations

import sqlite3

import sqlalchemy as sa
from alembic import command
from cryptography.fernet import Fernet
from test_step_history_migration import migrate

from engine.security import SecretBox
from engine.services import audit, engines
from engine.validation import EngineCreate
from storage.db import Database, make_engine
from storage.tables import Tenant


def test_a_deleted_engines_id_goes_to_no_later_engine(any_db_url):
    db, secrets = Database.from_url(any_db_url), SecretBox(Fernet.generate_key())
    try:
        make = lambda name: engines.create_engine(db, secrets, EngineCreate(  # noqa: E731
            name=name, base_url=f'https://{name.lower()}.example.com', api_key='key', api_secret='secret'),
            actor='tests')
        make('Delta')
        echo = make('Echo')
        engines.remove_engine(db, echo.id, actor='tests')
        foxtrot = make('Foxtrot')

        assert foxtrot.id > echo.id
        events = audit.list_events(db, action='engine.created').items + \
            audit.list_events(db, action='engine.deleted').items
        assert sorted((event.details['engine_id'], event.action) for event in events
                      if event.details['name'] in ('Echo', 'Foxtrot')) == [
            (echo.id, 'engine.created'), (echo.id, 'engine.deleted'), (foxtrot.id, 'engine.created')]
    finally:
        db.dispose()


def test_a_deleted_tenants_id_goes_to_no_later_tenant(any_db_url):
    db, secrets = Database.from_url(any_db_url), SecretBox(Fernet.generate_key())
    try:
        engine = engines.create_engine(db, secrets, EngineCreate(
            name='ERP', base_url='https://erp.example.com', api_key='key', api_secret='secret'), actor='tests')
        first, second = add_tenant(db, 'First', engine.id), add_tenant(db, 'Second', engine.id)
        with db.session() as session:
            session.delete(session.get(Tenant, second))
        assert add_tenant(db, 'Third', engine.id) > second > first
    finally:
        db.dispose()


def test_the_migration_keeps_rows_ids_references_and_indexes(tmp_path):
    url = f'sqlite:///{tmp_path / "old.db"}'
    migrate(url, command.upgrade, '0009')
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            history(connection)
            before = rows(connection), indexes(connection)
            assert 'AUTOINCREMENT' not in table_sql(connection)

        migrate(url, command.upgrade, 'head')
        with engine.begin() as connection:
            assert 'AUTOINCREMENT' in table_sql(connection)
            assert (rows(connection), indexes(connection)) == before
            assert references(connection) == {'run': {('engine_id', 'engine'), ('tenant_id', 'tenant')},
                                              'tenant': {('engine_id', 'engine')}}
            assert connection.exec_driver_sql('PRAGMA foreign_key_check').all() == []
            assert connection.exec_driver_sql('PRAGMA foreign_keys').scalar() == 1  # on again after the rebuild
            connection.exec_driver_sql('DELETE FROM tenant WHERE id = 7')  # the newest, without runs
            assert new_tenant(connection) == 8

        migrate(url, command.downgrade, '0009')
        with engine.begin() as connection:
            assert 'AUTOINCREMENT' not in table_sql(connection)
            assert rows(connection)[1] == (before[0][1] - {(7, 'Newest Shop')}) | {(8, 'Later Shop')}
            assert indexes(connection) == before[1]
    finally:
        engine.dispose()


def test_the_migration_refuses_a_deleted_row_still_referenced(tmp_path):
    """Rows pointing at nothing (written while the checks were off) stop the migration, which changes nothing."""
    url = f'sqlite:///{tmp_path / "old.db"}'
    migrate(url, command.upgrade, '0009')
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            history(connection)
        with sqlite3.connect(tmp_path / 'old.db') as connection:  # foreign keys unchecked: its run stays
            connection.execute('DELETE FROM tenant WHERE id = 3')
        try:
            migrate(url, command.upgrade, 'head')
        except RuntimeError as exc:
            assert 'references without their row' in str(exc)
        else:
            raise AssertionError('the migration went on over a broken reference')
        with engine.connect() as connection:
            assert 'AUTOINCREMENT' not in table_sql(connection)
            assert connection.exec_driver_sql('SELECT version_num FROM alembic_version').scalar() == '0009'
    finally:
        engine.dispose()


def add_tenant(db: Database, name: str, engine_id: int) -> int:
    with db.session() as session:
        tenant = Tenant(name=name, company_name=name, country='Germany', currency='EUR',
                        admin_email='ops@example.com', engine_id=engine_id)
        session.add(tenant)
        session.flush()
        return tenant.id


def history(connection: sa.Connection) -> None:
    """Two engines (ids 2 and 5: gaps, as deletions leave them) and tenants 3 and 7, each with a run."""
    connection.execute(sa.text(
        "INSERT INTO engine (id, name, name_key, base_url, api_key, api_secret_encrypted, max_concurrent_runs, "
        "health, created_at) VALUES (:id, :name, lower(:name), 'http://erp', 'k', 'x', 4, 'online', "
        "CURRENT_TIMESTAMP)"), [{'id': 2, 'name': 'Bravo ERP'}, {'id': 5, 'name': 'Echo ERP'}])
    connection.execute(sa.text(
        "INSERT INTO tenant (id, name, name_key, company_name, country, currency, admin_email, stores, engine_id, "
        "status, created_at, updated_at) VALUES (:id, :name, lower(:name), :name, 'Germany', 'EUR', 'a@b.test', 1, "
        ":engine, 'PROVISIONED', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
        [{'id': 3, 'name': 'Old Shop', 'engine': 2}, {'id': 7, 'name': 'Newest Shop', 'engine': 5}])
    connection.execute(sa.text(
        "INSERT INTO run (id, tenant_id, engine_id, status, mode, trigger, correlation_id, attempt, auto_retries, "
        "metadata, warnings, queued_at) VALUES (11, 3, 2, 'SUCCEEDED', 'provision', 'manual', 'c', 1, 0, '{}', "
        "0, CURRENT_TIMESTAMP)"))


def new_tenant(connection: sa.Connection) -> int:
    connection.execute(sa.text(
        "INSERT INTO tenant (name, name_key, company_name, country, currency, admin_email, stores, engine_id, "
        "status, created_at, updated_at) VALUES ('Later Shop', 'later shop', 'Later Shop', 'Germany', 'EUR', "
        "'a@b.test', 1, 5, 'NOT_STARTED', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
    return connection.exec_driver_sql("SELECT id FROM tenant WHERE name = 'Later Shop'").scalar()


def rows(connection: sa.Connection) -> tuple[set, set]:
    return (set(connection.exec_driver_sql('SELECT id, name FROM engine').all()),
            set(connection.exec_driver_sql('SELECT id, name FROM tenant').all()))


def indexes(connection: sa.Connection) -> dict[str, list]:
    inspector = sa.inspect(connection)
    return {table: sorted((index['name'], tuple(index['column_names']), bool(index['unique']))
                          for index in inspector.get_indexes(table))
            + sorted(tuple(unique['column_names']) for unique in inspector.get_unique_constraints(table))
            for table in ('engine', 'tenant')}


def references(connection: sa.Connection) -> dict[str, set]:
    inspector = sa.inspect(connection)
    return {table: {(key['constrained_columns'][0], key['referred_table']) for key in inspector.get_foreign_keys(table)}
            for table in ('run', 'tenant')}


def table_sql(connection: sa.Connection) -> str:
    return ' '.join(connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name IN ('engine', 'tenant')").scalars())
