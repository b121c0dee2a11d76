"""The tenants table's columns: Status right after the tenant (in view on a phone), the row's
Provision an icon button with a tooltip (the table fits a 1366 px window; tests/browser measures it)."""

from __future__ import annotations

import pytest
from nicegui.testing import User
from test_tenants_page import table
from ui_helpers import sign_in

pytestmark = pytest.mark.nicegui_main_file('main.py')


async def test_status_follows_the_tenant_and_the_action_is_an_icon(user: User) -> None:
    await sign_in(user, 'support', next_path='/tenants')
    await user.should_see(marker='tenants-table')

    tenants = table(user)
    assert [column['name'] for column in tenants.columns][:3] == ['name', 'status', 'last_run']
    action = tenants.slots['body'].template
    assert 'aria-label="Provision"' in action and '<q-tooltip>Provision</q-tooltip>' in action
    assert 'label="Provision"' not in action.replace('aria-label="Provision"', '')
