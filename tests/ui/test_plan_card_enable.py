"""The plan card lists what a run would enable again (the plan output's `enable`: the tenant's
warehouses and POS profiles somebody disabled in ERPNext) as it lists what a run would create, not
only in the step's note."""

from __future__ import annotations

import asyncio

import pytest
from nicegui import app
from nicegui.testing import User
from test_tenant_detail import WAIT, click_and_confirm, new_tenant, sandbox_control
from ui_helpers import sign_in

from engine.services import runs

pytestmark = pytest.mark.nicegui_main_file('main.py')


async def provisioned(name: str, stores: int) -> int:
    tenant_id = new_tenant(name, stores=stores)
    run_id = runs.request_provision(app.state.db, tenant_id, actor='tests').id
    await app.state.dispatcher.tick()
    for _ in range(WAIT):
        if runs.run_detail(app.state.db, run_id)['status'] not in ('QUEUED', 'RUNNING'):
            break
        await asyncio.sleep(0.1)
    assert runs.run_detail(app.state.db, run_id)['status'] == 'SUCCEEDED'
    return tenant_id


async def disable(doctype: str, name: str) -> None:
    async with sandbox_control() as sandbox:
        answer = await sandbox.put(f'/api/resource/{doctype}/{name}', json={'disabled': 1},
                                   headers={'Authorization': 'token sandbox:sandbox', 'Host': 'localhost'})
        answer.raise_for_status()


async def test_the_plan_card_lists_what_a_run_would_enable_again(user: User) -> None:
    tenant_id = await provisioned('Acme Retail', stores=2)
    await disable('Warehouse', 'Store 1 - AR')
    await disable('POS Profile', 'AR Store 2')
    await sign_in(user, 'support', next_path=f'/tenants/{tenant_id}')

    await click_and_confirm(user, 'action-plan')

    await user.should_see(marker='plan-summary', retries=WAIT,
                          content='A provisioning run would create 0 document(s) and enable 2 again')
    with user.scope(marker='plan-step-create_warehouses'):
        await user.should_see('would enable again Warehouse Store 1 - AR (disabled in ERPNext)')
        await user.should_not_see('would enable again Warehouse Store 2 - AR')
    with user.scope(marker='plan-step-create_pos_profiles'):
        await user.should_see('would enable again POS Profile AR Store 2 (disabled in ERPNext)')
    await user.should_not_see('would enable again (disabled in ERPNext):')  # the note is not repeated
