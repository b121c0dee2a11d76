"""A step that succeeded with warnings shows them under its row on the run timeline, in orange."""

from __future__ import annotations

import pytest
from nicegui import app
from nicegui.testing import User
from test_tenant_detail import new_tenant, sandbox_control, see_status
from ui_helpers import sign_in

from engine.services import deprovision, runs

pytestmark = pytest.mark.nicegui_main_file('main.py')

SANDBOX_AUTH = {'Authorization': 'token sandbox:sandbox'}


async def provision(tenant_id: int) -> None:
    runs.request_provision(app.state.db, tenant_id, actor='tests')
    await app.state.dispatcher.tick()


async def test_a_teardown_step_shows_why_it_kept_the_shared_admin(user: User) -> None:
    one = new_tenant('Shared One', admin_email='boss@example.com')
    two = new_tenant('Shared Two', admin_email='boss@example.com')
    await provision(one)
    await sign_in(user, 'admin', next_path=f'/tenants/{two}')
    await provision(two)
    await see_status(user, 'tenant-status', 'PROVISIONED')

    deprovision.request(app.state.db, one, actor='tests')
    await app.state.dispatcher.tick()
    await user.open(f'/tenants/{one}')

    await see_status(user, 'run-status', 'SUCCEEDED · 1 warning')
    await user.should_see(marker='warning-remove_tenant_admin',
                          content="User 'boss@example.com' was left in ERPNext: it is still the admin of")
    (badge,) = user.find(marker='status-remove_tenant_admin').elements
    assert badge.props['color'] == 'orange-8'
    await user.should_not_see(marker='warning-delete_company')


async def test_a_provisioning_step_shows_its_warning_and_a_clean_step_none(user: User) -> None:
    tenant_id = new_tenant()
    await sign_in(user, 'admin', next_path=f'/tenants/{tenant_id}')
    await provision(tenant_id)
    await see_status(user, 'tenant-status', 'PROVISIONED')
    async with sandbox_control() as sandbox:  # somebody changes our price list's currency in ERPNext
        changed = await sandbox.put('/api/resource/Price List/AR Selling', json={'currency': 'EUR'},
                                    headers=SANDBOX_AUTH)
        assert changed.status_code == 200, changed.text

    await provision(tenant_id)  # a repair adopts the price list as it is

    await user.should_see(marker='warning-create_price_list',
                          content="Warning: Price List 'AR Selling' is in EUR, not the tenant's USD.", retries=100)
    await user.should_not_see(marker='warning-create_company')
