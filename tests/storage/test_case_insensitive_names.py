"""Names are compared without regard to case (or accents, as ERPNext compares them) on both
databases, for every letter: SQLite's own lower() folds ASCII only, PostgreSQL's folds 'É' too."""

from __future__ import annotations

import pytest

from storage.db import Database
from storage.queries.engines import engine_by_name
from storage.queries.tenants import tenant_by_name, tenants_page
from storage.tables import Engine, Tenant


@pytest.fixture
def database(any_db_url):
    db = Database.from_url(any_db_url)
    yield db
    db.dispose()


def test_accented_capitals_match_their_small_letters(database):
    with database.session() as session:
        engine = Engine(name='Érable ERP', base_url='http://erp', api_key='k', api_secret_encrypted='x')
        session.add(engine)
        session.flush()
        session.add(Tenant(name='École Öko', company_name='École Öko', country='France', currency='EUR',
                           admin_email='a@ecole.test', engine_id=engine.id, created_by='tests'))

    with database.session() as session:
        assert tenant_by_name(session, 'école öko').name == 'École Öko'
        assert tenant_by_name(session, 'ÉCOLE ÖKO').name == 'École Öko'
        assert tenant_by_name(session, 'ecole oko').name == 'École Öko'  # ERPNext: one company name
        assert tenant_by_name(session, 'ecole oko 2') is None
        assert engine_by_name(session, 'érable erp').name == 'Érable ERP'
        found, total = tenants_page(session, limit=10, offset=0, q='éCOLE')
        assert total == 1 and found[0].name == 'École Öko'
