"""`python main.py backup PATH` / `restore PATH`: SQLite through the online backup API while the
service writes, and PostgreSQL through pg_dump / pg_restore."""

from __future__ import annotations

import shutil
import threading

import pytest
from hardening_helpers import environment, provision, run_command, start_service, table_rows
from sqlalchemy import text

from storage import audit_log
from storage.db import Database
from storage.tables import Engine, Tenant
from tests.support.postgres import skip_or_fail

# Rows of these tables never change once written while the service is idle, so a consistent
# snapshot of them is exactly a prefix of the live table. (Tokens, engine health and alerts
# are updated in place by the running service.)
APPEND_ONLY = ('tenant', 'run', 'steprun', 'auditevent', 'user')


def test_backup_while_the_service_writes_then_restore_gives_the_same_data(tmp_path):
    env = environment(tmp_path)
    service = start_service(env, tmp_path / 'service.log')
    try:
        api = service.client()
        runs = [provision(api, f'Backup Retail {number}') for number in (1, 2)]
        assert [run['status'] for run in runs] == ['SUCCEEDED', 'SUCCEEDED']
        created, refused, first, stop = [], [], threading.Event(), threading.Event()

        def keep_writing() -> None:  # tenants (and their audit events) keep arriving during the backup
            writer = service.client()
            while not stop.is_set():
                answer = writer.post('/api/v1/tenants', json={
                    'name': f'Writer {len(created)}', 'country': 'DE', 'currency': 'EUR',
                    'admin_email': 'writer@example.com', 'engine': 'Sandbox'})
                (created if answer.status_code == 201 else refused).append(answer.text)
                first.set()
            writer.close()

        thread = threading.Thread(target=keep_writing)
        thread.start()
        try:
            assert first.wait(30)
            backup = run_command(env, 'backup', str(tmp_path / 'backups' / 'provisioner-backup.db'))
        finally:
            stop.set()
            thread.join()
        assert not refused, refused
        assert backup.returncode == 0, backup.stderr
        assert 'backed up (sqlite)' in backup.stdout
    finally:
        service.stop()
    live, copy = table_rows(tmp_path / 'provisioner.db'), table_rows(tmp_path / 'backups' / 'provisioner-backup.db')
    assert created, 'the writer made no tenant while the backup ran'
    for table in APPEND_ONLY:  # one consistent snapshot: a prefix of every table, nothing torn
        assert copy[table] == live[table][:len(copy[table])], table
    assert len(copy['tenant']) >= 2 and len(copy['run']) == 2 and len(copy['steprun']) == 22

    # Restore on a new machine: the data folder's secret key goes along (the runbook says so).
    restored_env = environment(tmp_path / 'restored')
    (tmp_path / 'restored' / 'data').mkdir(parents=True)
    shutil.copy(tmp_path / 'data' / 'secret.key', tmp_path / 'restored' / 'data' / 'secret.key')
    restore = run_command(restored_env, 'restore', str(tmp_path / 'backups' / 'provisioner-backup.db'))
    assert restore.returncode == 0, restore.stderr
    assert 'warning' not in restore.stderr  # the engine secrets decrypt with the key that came along
    restored = table_rows(tmp_path / 'restored' / 'provisioner.db')
    for table in (*APPEND_ONLY, 'engine', 'apitoken', 'alembic_version'):
        assert restored[table] == copy[table], table

    service = start_service(restored_env, tmp_path / 'restored.log')
    try:
        api = service.client()
        assert api.get('/api/v1/tenants').json()['total'] == len(copy['tenant'])
        provisioned = api.get('/api/v1/tenants', params={'q': 'Backup Retail'}).json()['items']
        assert sorted((t['name'], t['status']) for t in provisioned) == [
            ('Backup Retail 1', 'PROVISIONED'), ('Backup Retail 2', 'PROVISIONED')]
        again = provision(service.client(), 'After Restore Retail')  # the restored engine secret works
        assert again['status'] == 'SUCCEEDED', again
    finally:
        service.stop()


def test_restore_refuses_a_file_that_is_not_a_backup_and_leaves_the_database_alone(tmp_path):
    env = environment(tmp_path)
    Database.from_url(env['PROVISIONER_DATABASE_URL']).dispose()
    before = table_rows(tmp_path / 'provisioner.db')
    (tmp_path / 'notes.txt').write_text('not a database')
    for path in (tmp_path / 'notes.txt', tmp_path / 'missing.db'):
        result = run_command(env, 'restore', str(path))
        assert result.returncode == 1
        assert result.stderr.startswith('provisioner: ') and len(result.stderr.strip().splitlines()) == 1
        assert 'Traceback' not in result.stderr
    assert table_rows(tmp_path / 'provisioner.db') == before


def test_backup_of_a_missing_database_is_one_clear_line(tmp_path):
    result = run_command(environment(tmp_path), 'backup', str(tmp_path / 'out.db'))
    assert result.returncode == 1
    assert 'no database at' in result.stderr and 'Traceback' not in result.stderr
    assert not (tmp_path / 'out.db').exists()


# ---- PostgreSQL -------------------------------------------------------------------------------------

@pytest.fixture
def postgres(pg_cluster) -> tuple[str, str]:
    """Two fresh databases on the session's PostgreSQL cluster: the source and the restore target."""
    if not shutil.which('pg_dump'):
        skip_or_fail('PostgreSQL client tools are not installed (apt-get install postgresql)')
    return pg_cluster.new_database(), pg_cluster.new_database()


def pg_rows(url: str) -> dict[str, list[tuple]]:
    db = Database.from_url(url, run_migrations=False)
    try:
        with db.engine.connect() as connection:
            return {table: [tuple(row) for row in connection.execute(text(f'SELECT * FROM "{table}" ORDER BY id'))]
                    for table in ('tenant', 'engine', 'auditevent')}
    finally:
        db.dispose()


def add_tenant(db: Database, name: str) -> None:
    with db.session() as session:
        engine = session.get(Engine, 1) or Engine(name='ERP', base_url='https://erp.example.com', api_key='k',
                                                  api_secret_encrypted='x')
        session.add(engine)
        session.flush()
        session.add(Tenant(name=name, company_name=name, country='Germany', currency='EUR',
                           admin_email='ops@example.com', engine_id=engine.id))
        audit_log.record(session, actor='tests', action='tenant.created', details={'name': name})


def test_postgresql_backup_and_restore_with_pg_dump_and_pg_restore(postgres, tmp_path):
    source_url, target_url = postgres
    db = Database.from_url(source_url)
    try:
        add_tenant(db, 'Postgres Retail')
        add_tenant(db, 'Postgres Shops')
        at_backup = pg_rows(source_url)
        backup = run_command(environment(tmp_path, PROVISIONER_DATABASE_URL=source_url), 'backup',
                             str(tmp_path / 'provisioner.dump'))
        assert backup.returncode == 0, backup.stderr
        assert 'backed up (pg_dump)' in backup.stdout and '2 tenants' in backup.stdout
        add_tenant(db, 'Added After The Backup')
    finally:
        db.dispose()

    for url in (source_url, target_url):  # over the changed database, and into an empty one
        restore = run_command(environment(tmp_path, PROVISIONER_DATABASE_URL=url), 'restore',
                              str(tmp_path / 'provisioner.dump'))
        assert restore.returncode == 0, restore.stderr
        assert pg_rows(url) == at_backup
