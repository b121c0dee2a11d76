"""A run's id is never handed out again after its tenant (and with it the run) was deleted: the audit
log keeps the deleted run's events by that id, and a new run must not inherit them. Migration 0011
rebuilds the run table on SQLite with AUTOINCREMENT, keeping every row, id, reference and index (two
of them partial); PostgreSQL's sequences never reused an id."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from cryptography.fernet import Fernet
from sqlmodel import select
from test_step_history_migration import migrate

from engine.security import SecretBox
from engine.services import engines, runs, tenant_removal, tenants
from engine.validation import EngineCreate, TenantCreate
from storage.db import Database, make_engine
from storage.tables import AuditEvent


def test_a_deleted_runs_id_goes_to_no_later_run(any_db_url):
    db = Database.from_url(any_db_url)
    try:
        engine = engines.create_engine(db, SecretBox(Fernet.generate_key()), EngineCreate(
            name='ERP', base_url='https://erp.example.com', api_key='key', api_secret='secret'), actor='tests')
        make = lambda name: tenants.create_tenant(db, TenantCreate(  # noqa: E731
            name=name, country='Germany', currency='EUR', admin_email='ops@example.com', engine=engine.id),
            actor='tests').id
        first, second = make('First'), make('Second')
        runs.request_provision(db, first, actor='tests', plan=True)
        old = runs.request_provision(db, second, actor='tests', plan=True)
        runs.cancel_run(db, old.id, actor='tests')
        tenant_removal.delete_tenant(db, second, actor='tests')

        new = runs.request_provision(db, make('Third'), actor='tests', plan=True)

        assert new.id > old.id
        with db.session() as session:  # none of the deleted run's events
            assert session.exec(select(AuditEvent.action).where(AuditEvent.run_id == new.id)).all() == [
                'run.plan_requested']
    finally:
        db.dispose()


def test_the_migration_keeps_rows_ids_references_and_indexes(tmp_path):
    url = f'sqlite:///{tmp_path / "old.db"}'
    migrate(url, command.upgrade, '0010')
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            history(connection)
            before = snapshot(connection)
            assert 'AUTOINCREMENT' not in run_table_sql(connection)

        migrate(url, command.upgrade, 'head')
        with engine.begin() as connection:
            assert 'AUTOINCREMENT' in run_table_sql(connection)
            assert snapshot(connection) == before
            assert connection.exec_driver_sql('PRAGMA foreign_key_check').all() == []
            assert connection.exec_driver_sql('PRAGMA foreign_keys').scalar() == 1  # on again after the rebuild
            connection.exec_driver_sql('DELETE FROM steprun WHERE run_id = 14')
            connection.exec_driver_sql('DELETE FROM run WHERE id = 14')  # the newest
            assert new_run(connection, tenant=3) == 17  # past run 16, deleted before the upgrade
        with engine.connect() as connection:  # the partial unique index: one active run per tenant
            try:
                new_run(connection, tenant=7, status='QUEUED')  # run 13 is active
            except sa.exc.IntegrityError as exc:
                assert 'run.tenant_id' in str(exc)
            else:
                raise AssertionError('a second active run of tenant 7 was accepted')

        migrate(url, command.downgrade, '0010')
        with engine.connect() as connection:
            assert 'AUTOINCREMENT' not in run_table_sql(connection)
            after = snapshot(connection)
            assert after['indexes'] == before['indexes'] and after['columns'] == before['columns']
            assert after['references'] == before['references']
    finally:
        engine.dispose()


def history(connection: sa.Connection) -> None:
    """An engine, two tenants; runs 11 to 14 (13 active, 12 with warnings), steps of runs 11 and 14; the
    audit event of a run 16 deleted with its tenant."""
    connection.execute(sa.text(
        "INSERT INTO engine (id, name, name_key, base_url, api_key, api_secret_encrypted, max_concurrent_runs, "
        "health, created_at) VALUES (2, 'ERP', 'erp', 'http://erp', 'k', 'x', 4, 'online', CURRENT_TIMESTAMP)"))
    connection.execute(sa.text(
        "INSERT INTO tenant (id, name, name_key, company_name, country, currency, admin_email, stores, engine_id, "
        "status, created_at, updated_at) VALUES (:id, :name, lower(:name), :name, 'Germany', 'EUR', 'a@b.test', 1, "
        "2, 'PROVISIONED', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), [{'id': 3, 'name': 'Old Shop'},
                                                                   {'id': 7, 'name': 'New Shop'}])
    connection.execute(sa.text(
        "INSERT INTO run (id, tenant_id, engine_id, status, mode, trigger, correlation_id, attempt, auto_retries, "
        "metadata, warnings, queued_at) VALUES (:id, :tenant, 2, :status, 'provision', 'manual', :cid, 1, 0, "
        "'{\"intents\": {}}', :warnings, CURRENT_TIMESTAMP)"), [
        {'id': 11, 'tenant': 3, 'status': 'FAILED', 'cid': 'a', 'warnings': 0},
        {'id': 12, 'tenant': 3, 'status': 'SUCCEEDED', 'cid': 'b', 'warnings': 2},
        {'id': 13, 'tenant': 7, 'status': 'QUEUED', 'cid': 'c', 'warnings': 0},
        {'id': 14, 'tenant': 3, 'status': 'SUCCEEDED', 'cid': 'd', 'warnings': 0}])
    connection.execute(sa.text(
        "INSERT INTO steprun (id, run_id, step_key, position, critical, status, attempts, earlier_attempts, "
        "earlier_executions, earlier_failures, earlier_retries, output) VALUES (:id, :run, 'check_engine', 1, 1, "
        "'SUCCEEDED', 1, 0, 0, 0, 0, '{}')"), [{'id': 5, 'run': 11}, {'id': 9, 'run': 14}])
    connection.execute(sa.text(  # run 16 was deleted with its tenant before the upgrade: its events stay
        "INSERT INTO auditevent (at, actor, action, tenant_id, run_id, details) VALUES (CURRENT_TIMESTAMP, 'ann', "
        "'run.requested', 9, 16, '{}')"))


def snapshot(connection: sa.Connection) -> dict[str, object]:
    """Every row of run and steprun, run's columns, foreign keys and indexes (their CREATE statements)."""
    return {
        'runs': connection.exec_driver_sql('SELECT * FROM run ORDER BY id').all(),
        'steps': connection.exec_driver_sql('SELECT * FROM steprun ORDER BY id').all(),
        'columns': connection.exec_driver_sql('PRAGMA table_info(run)').all(),
        'references': sorted((table, *key[2:]) for table in ('run', 'steprun')  # (table, referred, from, to, ...)
                             for key in connection.exec_driver_sql(f'PRAGMA foreign_key_list({table})').all()),
        'indexes': connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'run' ORDER BY name").all(),
    }


def new_run(connection: sa.Connection, *, tenant: int, status: str = 'SUCCEEDED') -> int:
    connection.execute(sa.text(
        "INSERT INTO run (tenant_id, engine_id, status, mode, trigger, correlation_id, attempt, auto_retries, "
        "metadata, warnings, queued_at) VALUES (:tenant, 2, :status, 'provision', 'manual', 'new', 1, 0, '{}', 0, "
        "CURRENT_TIMESTAMP)"), {'tenant': tenant, 'status': status})
    return connection.exec_driver_sql("SELECT max(id) FROM run").scalar()


def run_table_sql(connection: sa.Connection) -> str:
    return connection.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'run'").scalar()
