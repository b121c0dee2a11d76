"""A tenant or engine name that differs from an existing one only in case or spacing is refused with
the same 409 / Conflict, always: through the services and the REST API, for rows stored before the
spacing rule, and when two people submit at the same moment (SQLite and PostgreSQL). Searches and
the audit log's tenant filter ignore extra spaces in what the user typed."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from api_helpers import tenant_body
from cryptography.fernet import Fernet
from sqlalchemy import event
from sqlmodel import func, select

from engine.security import SecretBox
from engine.services import engines, names, tenant_import, tenants
from engine.validation import Conflict, EngineCreate, EngineUpdate, TenantCreate
from storage.db import Database
from storage.tables import Tenant

SECRETS = SecretBox(Fernet.generate_key())


@pytest.fixture
def database(any_db_url):
    db = Database.from_url(any_db_url)
    engines.create_engine(db, SECRETS, _engine_data('Main ERP'), actor='tests')
    yield db
    db.dispose()


# ---- services ----------------------------------------------------------------------------------

@pytest.mark.parametrize(('stored', 'typed'), [
    ('Acme Retail', 'ACME   retail'),
    ('Acme  Retail', 'acme retail'),  # a row stored before names were single-spaced
    ('Straße 1', 'STRASSE 1'),        # Unicode case folding, as ERPNext's MariaDB compares
])
def test_a_tenant_named_like_another_is_a_conflict(database, stored, typed):
    _store_tenant(database, stored)

    with pytest.raises(Conflict) as refused:
        tenants.create_tenant(database, _tenant_data(typed), actor='tests')

    assert refused.value.message == f"a tenant named '{stored}' already exists"
    assert _tenant_count(database) == 1


def test_engine_names_are_single_spaced_and_unique_regardless_of_case_and_spacing(database):
    other = engines.create_engine(database, SECRETS, _engine_data('  Second \u00a0 ERP '), actor='tests')
    assert other.name == 'Second ERP'

    with pytest.raises(Conflict, match="an engine named 'Main ERP' already exists"):
        engines.create_engine(database, SECRETS, _engine_data('MAIN  erp'), actor='tests')
    with pytest.raises(Conflict, match="an engine named 'Main ERP' already exists"):
        engines.update_engine(database, SECRETS, other.id, EngineUpdate(name='main   ERP'), actor='tests')

    renamed = engines.update_engine(database, SECRETS, other.id, EngineUpdate(name='Backup  ERP'), actor='tests')
    assert renamed.name == 'Backup ERP'
    with pytest.raises(Conflict, match="an engine named 'Backup ERP' already exists"):
        engines.create_engine(database, SECRETS, _engine_data('backup erp'), actor='tests')
    engines.create_engine(database, SECRETS, _engine_data('second erp'), actor='tests')  # the old name is free


def test_two_creates_racing_with_names_in_another_case_make_one_tenant(any_db_url, database):
    """Two processes (two session factories) submit 'Acme' and 'ACME' at once. On PostgreSQL both
    pass the look-up before either inserts (the test holds each INSERT until both are there): the
    unique key refuses the loser, whose service rolls back and answers with the usual Conflict.
    SQLite's writers queue (BEGIN IMMEDIATE), so there the second simply finds the first."""
    url = any_db_url
    first, second = database, Database.from_url(url)
    racing = url.startswith('postgresql')
    refused: list[str] = []
    both_checked = threading.Barrier(2, timeout=30)
    for db in (first, second):
        event.listen(db.engine, 'handle_error', lambda context: refused.append(str(context.original_exception)))
        if racing:
            event.listen(db.engine, 'before_cursor_execute', _wait_for_the_other_insert(both_checked))

    def create(db: Database, name: str) -> str:
        try:
            return tenants.create_tenant(db, _tenant_data(name), actor='tests').name
        except Conflict as exc:
            return exc.message

    try:
        with ThreadPoolExecutor(2) as pool:
            outcomes = list(pool.map(create, (first, second), ('Acme', 'ACME')))
    finally:
        second.dispose()

    assert _tenant_count(database) == 1
    if racing:  # the loser's INSERT reached the database and its unique key refused it
        assert len(refused) == 1 and 'uq_tenant_name_key' in refused[0]
    winner = next(outcome for outcome in outcomes if outcome in ('Acme', 'ACME'))
    assert sorted(outcomes) == sorted([winner, f"a tenant named '{winner}' already exists"])


def test_an_import_skips_rows_named_like_existing_tenants_or_earlier_rows(database):
    _store_tenant(database, 'Acme  Retail')
    csv = ('name,country,currency,admin_email,engine\n'
           'ACME retail,US,USD,a@acme.example.com,main  erp\n'
           'Straße 1,DE,EUR,s@strasse.example.com,Main ERP\n'
           'STRASSE  1,DE,EUR,t@strasse.example.com,Main ERP\n').encode()

    preview = tenant_import.preview_csv(database, csv)

    outcomes = [row.outcome for row in preview.rows]
    assert outcomes == [tenant_import.RowOutcome.EXISTS, tenant_import.RowOutcome.NEW,
                        tenant_import.RowOutcome.INVALID]
    assert preview.rows[2].problems[0].message == 'repeats the name of line 3'
    result = tenant_import.import_csv(database, csv, actor='tests')
    assert [tenant.name for tenant in result.created] == ['Straße 1'] and _tenant_count(database) == 2


def test_search_and_the_audit_filter_ignore_extra_spaces_in_what_was_typed(database):
    new = tenants.create_tenant(database, _tenant_data('Acme Retail'), actor='tests')
    old = _store_tenant(database, 'Globex  Foods')  # stored before names were single-spaced

    assert [t.name for t in tenants.list_tenants(database, q='  acme \u00a0  retail ').items] == ['Acme Retail']
    assert [t.name for t in tenants.list_tenants(database, q='GLOBEX FOODS').items] == ['Globex  Foods']
    assert names.tenant_id_named(database, 'acme   retail') == new.id
    assert names.tenant_id_named(database, 'globex foods') == old.id


# ---- REST API ----------------------------------------------------------------------------------

async def test_the_api_answers_409_for_a_name_differing_only_in_case_or_spacing(api, admin, db, engine_id):
    _store_tenant(db, 'Acme  Retail', engine_id=engine_id)  # stored before the spacing rule

    tenant = await api.post('/api/v1/tenants', headers=admin, json=tenant_body('ACME retail'))
    engine = await api.post('/api/v1/engines', headers=admin, json=_engine_body(' main   ERP'))
    renamed = await api.post('/api/v1/engines', headers=admin, json=_engine_body('Spare ERP'))
    rename = await api.patch(f'/api/v1/engines/{renamed.json()["id"]}', headers=admin,
                             json={'name': 'MAIN  erp'})

    assert (tenant.status_code, tenant.json()) == (409, {'detail': "a tenant named 'Acme  Retail' already exists"})
    assert (engine.status_code, engine.json()) == (409, {'detail': "an engine named 'Main ERP' already exists"})
    assert (rename.status_code, rename.json()) == (409, {'detail': "an engine named 'Main ERP' already exists"})
    for answer in (tenant, engine, rename):
        assert answer.headers['content-type'] == 'application/json' and 'Traceback' not in answer.text


async def test_the_api_search_collapses_spaces(api, admin, engine_id):
    await api.post('/api/v1/tenants', headers=admin, json=tenant_body('Acme Retail'))

    page = (await api.get('/api/v1/tenants', headers=admin, params={'q': 'acme   retail'})).json()

    assert [tenant['name'] for tenant in page['items']] == ['Acme Retail'] and page['total'] == 1


# ---- helpers -----------------------------------------------------------------------------------

def _wait_for_the_other_insert(barrier: threading.Barrier):
    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith('INSERT INTO tenant '):
            barrier.wait()
    return before_cursor_execute


def _tenant_data(name: str) -> TenantCreate:
    return TenantCreate(name=name, country='United States', currency='USD', admin_email='ops@acme.example.com',
                        engine='Main ERP')


def _engine_data(name: str) -> EngineCreate:
    return EngineCreate(**_engine_body(name))


def _engine_body(name: str) -> dict[str, str]:
    return {'name': name, 'base_url': 'https://erp.example.com', 'api_key': 'key-1', 'api_secret': 'secret-1'}


def _store_tenant(db: Database, name: str, *, engine_id: int = 1) -> Tenant:
    """A row written as it is, the way earlier versions stored names (no spacing rule)."""
    with db.session() as session:
        tenant = Tenant(name=name, company_name=name, country='United States', currency='USD',
                        admin_email='old@acme.example.com', engine_id=engine_id, created_by='tests')
        session.add(tenant)
    return tenant


def _tenant_count(db: Database) -> int:
    with db.session() as session:
        return session.exec(select(func.count()).select_from(Tenant)).one()
