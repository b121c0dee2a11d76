"""The tenants list's "Succeeded with warnings" filter: the tenants support staff must follow up
after a run that succeeded with warnings; a view in the URL and a step in the browser history."""

from __future__ import annotations

import pytest
from nicegui import app, ui
from nicegui.testing import User
from test_tenant_detail import add_fault, new_tenant
from test_tenants_page import names, open_list, table, wait_for_rows

from engine.services import runs

pytestmark = pytest.mark.nicegui_main_file('main.py')


async def provisioned(name: str, email: str) -> None:
    runs.request_provision(app.state.db, new_tenant(name, admin_email=email), actor='tests')
    await app.state.dispatcher.tick()


async def test_the_filter_lists_tenants_whose_run_succeeded_with_warnings_and_back_leaves_it(user: User) -> None:
    await add_fault(method='POST', doctype='User', status=417, count=1)  # ERPNext refuses the admin user
    await provisioned('Warned Shop', 'ada@warned.example.com')
    await open_list(user, '/tenants', role='support')
    await wait_for_rows(user, lambda rows: any('1 warning' in row['last_run'] for row in rows))
    await provisioned('Clean Shop', 'bob@clean.example.com')
    await wait_for_rows(user, lambda rows: any('SUCCEEDED' == row['last_run'].split(' ', 1)[-1] for row in rows))

    user.find(marker='tenants-warnings').click()

    await user.should_see('1–1 of 1 tenants')
    assert names(user) == ['Warned Shop']
    assert user.back_history[-1] == '/tenants?warnings=1'
    with user:
        ui.navigate.back()
    await user.should_see('1–2 of 2 tenants')
    assert names(user) == ['Clean Shop', 'Warned Shop']


async def test_the_filter_is_read_from_the_url(user: User) -> None:
    new_tenant('Never Run')
    await open_list(user, '/tenants?warnings=1', role='manager')

    (checkbox,) = user.find(marker='tenants-warnings').elements
    assert checkbox.value is True
    await user.should_see('0 of 0 tenants')
    assert table(user).props['no-data-label'].startswith('No tenant matches this search or these filters')
