"""QA pass 8, finding 7: after an import, the dialog's notice and its table tell the same story, line by
line: the row just created reads "created" (not "already exists"), a repeat of it "has errors"."""

from __future__ import annotations

import pytest
from nicegui import app
from nicegui.testing import User
from test_tenants_page import open_list, upload

from engine.services import tenants
from engine.validation import TenantCreate

pytestmark = pytest.mark.nicegui_main_file('main.py')

CSV = ('name,country,currency,admin_email,stores,engine\n'
       'Acme Retail,United States,USD,ops@acme.example.com,2,Sandbox\n'   # line 2: new
       'Beta Shops,Germany,EUR,ops@beta.example.com,1,Sandbox\n'           # line 3: exists already
       'Bad Shop,Narnia,USD,ops@bad.example.com,1,\n'                      # line 4: an unknown country
       'Acme Retail,United States,USD,ops@acme.example.com,1,\n'           # line 5: repeats line 2
       'Worse Shop,France,EUR,not-an-email,1,\n')                          # line 6: a bad e-mail


async def test_the_notice_and_the_table_agree_line_by_line(user: User) -> None:
    tenants.create_tenant(app.state.db, TenantCreate(name='Beta Shops', country='DE', currency='EUR',
                                                     admin_email='ops@beta.example.com', engine='Sandbox'),
                          actor='tests')
    await open_list(user, '/tenants', role='support')
    user.find('Import CSV').click()
    await upload(user, CSV.encode())
    await user.should_see('5 rows: 1 will be created, 1 already exists, 3 have errors.')

    user.find(marker='import-run').click()

    await user.should_see('Imported: 1 tenant created, 1 already existed, 3 rows with errors skipped.')
    (table,) = user.find(marker='import-preview').elements
    assert [(row['row'], row['outcome']) for row in table.rows] == [
        (2, 'created'), (3, 'already existed: skipped'), (4, 'has errors: skipped'), (5, 'has errors: skipped'),
        (6, 'has errors: skipped')]
    (problems,) = user.find(marker='import-problems').elements
    assert sorted({problem['row'] for problem in problems.rows}) == [4, 5, 6]
