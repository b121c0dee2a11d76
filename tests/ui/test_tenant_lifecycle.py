"""The tenant page's lifecycle actions: drift check and Repair, Deprovision with its plan."""

from __future__ import annotations

import pytest
from nicegui import app
from nicegui.testing import User
from test_tenant_detail import click_and_confirm, new_tenant, sandbox_control, see_status
from test_tenants_page import wait_for_rows
from ui_helpers import sign_in

from engine.services import runs

pytestmark = pytest.mark.nicegui_main_file('main.py')


async def provisioned(user: User, role: str = 'admin') -> int:
    tenant_id = new_tenant(stores=2)
    runs.request_provision(app.state.db, tenant_id, actor='tests')
    await app.state.dispatcher.tick()
    await sign_in(user, role, next_path=f'/tenants/{tenant_id}')
    await see_status(user, 'tenant-status', 'PROVISIONED')
    return tenant_id


async def test_drift_is_shown_and_repair_recreates_what_is_missing(user: User) -> None:
    await provisioned(user, 'support')
    async with sandbox_control() as sandbox:
        deleted = await sandbox.delete('/api/resource/POS Profile/AR Store 2',
                                       headers={'Authorization': 'token sandbox:sandbox'})
        assert deleted.status_code == 202

    await user.should_see(marker='action-check-drift')  # the actions row is redrawn as the run ends
    user.find(marker='action-check-drift').click()

    await user.should_see(marker='tenant-drift', content='AR Store 2')
    await user.should_not_see(marker='action-deprovision')  # support: no teardown
    await click_and_confirm(user, 'action-repair')
    await user.should_not_see(marker='tenant-drift', retries=100)
    await see_status(user, 'tenant-status', 'PROVISIONED')
    async with sandbox_control() as sandbox:
        profiles = [d['name'] for d in (await sandbox.get('/__sandbox__/documents/POS Profile')).json()]
    assert 'AR Store 2' in profiles


async def test_deprovision_lists_the_plan_then_tears_down(user: User) -> None:
    await provisioned(user, 'admin')

    await user.should_see(marker='action-deprovision')
    user.find(marker='action-deprovision').click()
    await user.should_see('delete Company Acme Retail')
    await user.should_see('delete POS Profile AR Store 2')
    user.find(marker='confirm-ok').click()

    await see_status(user, 'tenant-status', 'DEPROVISIONED')
    await user.should_not_see(marker='action-deprovision')
    async with sandbox_control() as sandbox:
        companies = [d['name'] for d in (await sandbox.get('/__sandbox__/documents/Company')).json()]
    assert 'Acme Retail' not in companies


async def test_a_manager_sees_no_lifecycle_actions(user: User) -> None:
    await provisioned(user, 'manager')
    for marker in ('action-check-drift', 'action-deprovision', 'action-repair'):
        await user.should_not_see(marker=marker)


async def test_drifted_tenants_are_counted_on_the_overview_and_filtered_in_the_list(user: User) -> None:
    from engine import drift

    tenant_id = await provisioned(user, 'support')
    new_tenant('Beta Shops')  # not drifted: filtered out
    async with sandbox_control() as sandbox:
        await sandbox.delete('/api/resource/POS Profile/AR Store 1',
                             headers={'Authorization': 'token sandbox:sandbox'})
    await drift.check_tenant(app.state.db, app.state.process.clients.get, tenant_id)

    await user.open('/')
    await user.should_see(marker='count-DRIFTED', content='1')
    await user.open('/tenants?drifted=1')
    await user.should_see(marker='tenants-table')
    rows = await wait_for_rows(user, lambda rows: bool(rows))
    assert [(row['name'], row['drifted']) for row in rows] == [('Acme Retail', True)]
