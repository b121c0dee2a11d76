"""QA pass 8, finding 7: an import's result says, line by line, what it did (created, already existed, or
skipped with errors), and its counts are those lines' counts, in words that agree with their number."""

from __future__ import annotations

import pytest

from engine.security import SecretBox
from engine.services import engines, tenant_import, tenants
from engine.services.tenant_import import LineOutcome
from engine.validation import EngineCreate, TenantCreate
from storage.db import Database

CSV = ('name,country,currency,admin_email,stores,engine\n'
       'Acme Retail,United States,USD,ops@acme.example.com,2,\n'   # line 2: new
       'Beta Shops,Germany,EUR,ops@beta.example.com,1,\n'           # line 3: exists already
       'Bad Shop,Narnia,USD,ops@bad.example.com,1,\n'               # line 4: an unknown country
       'ACME  retail,United States,USD,ops@acme.example.com,1,\n'   # line 5: repeats line 2
       'Worse Shop,France,EUR,not-an-email,1,\n')                   # line 6: a bad e-mail


@pytest.fixture
def engine_id(db: Database, secrets: SecretBox) -> int:
    return engines.create_engine(db, secrets, EngineCreate(
        name='Main ERP', base_url='https://erp.example.com', api_key='k', api_secret='s'), actor='tests').id


def test_every_line_says_what_the_import_did_and_the_counts_agree(db, engine_id) -> None:
    tenants.create_tenant(db, TenantCreate(name='Beta Shops', country='DE', currency='EUR',
                                           admin_email='ops@beta.example.com', engine=engine_id), actor='tests')

    result = tenant_import.import_csv(db, CSV.encode(), actor='support')

    assert [(line.row, line.outcome) for line in result.lines] == [
        (2, LineOutcome.CREATED), (3, LineOutcome.EXISTED), (4, LineOutcome.ERROR), (5, LineOutcome.ERROR),
        (6, LineOutcome.ERROR)]
    assert [problem.message for problem in result.lines[3].problems] == ['repeats the name of line 2']
    assert result.summary == '1 tenant created, 1 already existed, 3 rows with errors skipped.'
    assert [tenant.name for tenant in result.created] == ['Acme Retail']


def test_the_words_agree_with_one_of_each(db, engine_id) -> None:
    header, acme, _, bad = CSV.splitlines()[:4]

    result = tenant_import.import_csv(db, '\n'.join((header, acme, bad, '')).encode(), actor='support')

    assert result.summary == '1 tenant created, 0 already existed, 1 row with errors skipped.'
