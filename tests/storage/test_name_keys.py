"""Tenant and engine names are unique in the database itself, case and spacing aside (the stored
`name_key`), on SQLite and PostgreSQL; migration 0006 fills the key on a database that already
holds colliding names without failing and without renaming anything."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.exc import IntegrityError

from engine.services import names, tenants
from engine.validation import Conflict, TenantCreate
from storage.db import MIGRATIONS, Database, make_engine
from storage.name_keys import name_key
from storage.tables import Engine, Tenant, utcnow


@pytest.fixture
def database(any_db_url):
    db = Database.from_url(any_db_url)
    yield db
    db.dispose()


def test_the_key_is_the_trimmed_single_spaced_name_as_erpnext_compares_it():
    assert name_key('  Acme \u00a0  RETAIL ') == name_key('acme retail') == 'acme retail'
    # MariaDB's utf8mb4_unicode_ci, which ERPNext's names are compared under: case, accents, composed
    # or decomposed accents and full-width letters do not count, 'ß' is 'ss'
    assert name_key('Straße') == name_key('STRASSE')
    assert name_key('École') == name_key('ÉCOLE') == name_key('Ecole') == name_key('E\u0301cole')
    assert name_key('\uff26\uff55\uff4c\uff4c') == name_key('Full')
    assert name_key('Acme Retail') != name_key('Acme Retail 2')


@pytest.mark.parametrize('second', ['ACME RETAIL', 'acme  retail', ' Acme\u2003Retail '])
def test_the_database_refuses_a_tenant_named_like_another(database, second):
    """Also when a write skips the services' check (another version of the code, a script)."""
    with database.session() as session:
        engine = _engine(session, 'ERP')
        session.add(_tenant('Acme Retail', engine.id))
    with pytest.raises(IntegrityError), database.session() as session:
        session.add(_tenant(second, engine.id))
    with database.session() as session:
        assert session.exec(sa.select(sa.func.count()).select_from(Tenant)).one() == (1,)


def test_the_database_refuses_an_engine_named_like_another(database):
    with database.session() as session:
        _engine(session, 'Main ERP')
    with pytest.raises(IntegrityError), database.session() as session:
        _engine(session, 'MAIN  erp')


def test_core_bulk_inserts_get_their_keys_too(database):
    """Benchmarks and scripts seed rows with Core executemany: each row's key comes from its name."""
    with database.session() as session:
        engine_id = _engine(session, 'ERP').id
    now = utcnow()
    rows = [dict(name=f'Shop  {n}', company_name='c', country='Germany', currency='EUR', admin_email='a@b.test',
                 engine_id=engine_id, status='NOT_STARTED', drifted=False, created_at=now, updated_at=now)
            for n in range(3)]
    with database.engine.begin() as connection:
        connection.execute(sa.insert(Tenant), rows)
    with database.session() as session:
        keys = session.exec(sa.select(Tenant.name_key).order_by(Tenant.id)).scalars().all()
    assert keys == ['shop 0', 'shop 1', 'shop 2']


# ---- migration 0006 on a database that holds colliding names ------------------------------------

COLLIDING_TENANTS = ['Acme Retail', 'ACME RETAIL', 'Acme  Retail', 'Beta Shop', 'Straße 1', 'STRASSE 1']


def test_migration_keeps_colliding_rows_and_names_them_in_a_warning(any_db_url, caplog):
    url = any_db_url
    _schema_at(url, '0005')
    raw = make_engine(url)
    with raw.begin() as connection:
        _insert_legacy_rows(connection)
    raw.dispose()

    with caplog.at_level(logging.WARNING, logger='storage.migrations'):
        db = Database.from_url(url)  # what the service does on start: migrate to head
    try:
        with db.session() as session:
            stored = session.exec(sa.select(Tenant.id, Tenant.name, Tenant.name_key).order_by(Tenant.id)).all()
            engines = session.exec(sa.select(Engine.name, Engine.name_key).order_by(Engine.id)).all()
        assert [name for _, name, _ in stored] == COLLIDING_TENANTS  # nothing renamed
        keys = [key for _, _, key in stored]
        assert len(set(keys)) == len(keys)
        assert keys[0] == 'acme retail' and keys[3] == 'beta shop' and keys[4] == 'strasse 1'
        assert engines[0] == ('Main ERP', 'main erp') and engines[1][0] == 'MAIN  ERP'

        warning = ' '.join(r.getMessage() for r in caplog.records if r.name == 'storage.migrations')
        for row_id, name, _ in (stored[1], stored[2], stored[5]):
            assert f'#{row_id} {name!r}' in warning
        assert "'Beta Shop'" not in warning and "'MAIN  ERP'" in warning

        # The service works on the migrated database, and refuses a new duplicate of the old names.
        assert names.tenant_id_named(db, 'acme   RETAIL') == stored[0][0]
        data = TenantCreate(name='acme retail', country='US', currency='USD', admin_email='ops@acme.example.com',
                            engine='main erp')
        with pytest.raises(Conflict, match="a tenant named 'Acme Retail' already exists"):
            tenants.create_tenant(db, data, actor='tests')
        with pytest.raises(IntegrityError), db.session() as session:
            session.add(_tenant('STRASSE  1', 1))
    finally:
        db.dispose()


def _schema_at(url: str, revision: str) -> None:
    engine = make_engine(url)
    config = Config()
    config.set_main_option('script_location', str(MIGRATIONS))
    with engine.connect() as connection:
        config.attributes['connection'] = connection
        command.upgrade(config, revision)
        connection.commit()
    engine.dispose()


def _insert_legacy_rows(connection: sa.Connection) -> None:
    """Rows as an older version stored them: names unique only as typed."""
    insert_engine = sa.text("INSERT INTO engine (name, base_url, api_key, api_secret_encrypted, "
                            "max_concurrent_runs, health, created_at) VALUES (:name, 'http://erp', 'k', 'x', 4, "
                            "'unknown', CURRENT_TIMESTAMP)")
    connection.execute(insert_engine, [{'name': 'Main ERP'}, {'name': 'MAIN  ERP'}])
    insert_tenant = sa.text("INSERT INTO tenant (name, company_name, country, currency, admin_email, stores, "
                            "engine_id, status, created_at, updated_at) VALUES (:name, :name, 'Germany', 'EUR', "
                            "'a@b.test', 1, 1, 'NOT_STARTED', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
    connection.execute(insert_tenant, [{'name': name} for name in COLLIDING_TENANTS])
    # A run pointing at a colliding tenant: the migration must not copy the tenant table to add
    # its column (SQLite's foreign keys would refuse dropping the old one).
    connection.execute(sa.text("INSERT INTO run (tenant_id, engine_id, status, mode, trigger, correlation_id, "
                               "attempt, auto_retries, metadata, warnings, queued_at) VALUES (2, 1, 'SUCCEEDED', "
                               "'provision', 'manual', 'c1', 1, 0, '{}', 0, CURRENT_TIMESTAMP)"))


def _engine(session, name: str) -> Engine:
    engine = Engine(name=name, base_url='http://erp', api_key='k', api_secret_encrypted='x')
    session.add(engine)
    session.flush()
    return engine


def _tenant(name: str, engine_id: int) -> Tenant:
    return Tenant(name=name, company_name=name, country='Germany', currency='EUR', admin_email='a@b.test',
                  engine_id=engine_id, created_by='tests')
