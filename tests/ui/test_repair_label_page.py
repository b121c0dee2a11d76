"""QA pass 8, finding 5: the tenant page calls a repair run a repair, in its header and its history."""

from __future__ import annotations

import asyncio

import pytest
from nicegui import app
from nicegui.testing import User
from ui_helpers import sign_in

from engine.services import runs, tenants
from engine.validation import TenantCreate

pytestmark = pytest.mark.nicegui_main_file('main.py')

WAIT = 100


async def run_to_its_end(run_id: int) -> None:
    for _ in range(600):
        await app.state.dispatcher.tick()
        await asyncio.gather(*app.state.dispatcher.tasks.values())
        if runs.run_detail(app.state.db, run_id)['status'] not in ('QUEUED', 'RUNNING'):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f'run {run_id} did not end')


async def test_a_repair_reads_repair_in_the_header_and_the_history(user: User) -> None:
    data = TenantCreate(name='Acme Retail', country='United States', currency='USD', admin_email='ada@example.com',
                        engine='Sandbox')
    tenant_id = tenants.create_tenant(app.state.db, data, actor='tests').id
    first = runs.request_provision(app.state.db, tenant_id, actor='tests').id
    await run_to_its_end(first)
    repair = tenants.repair(app.state.db, tenant_id, actor='tests').id
    await run_to_its_end(repair)

    await sign_in(user, 'support', next_path=f'/tenants/{tenant_id}')

    await user.should_see(marker='run-mode', content='repair', retries=WAIT)
    await user.should_see(marker=f'history-facts-{repair}', content='repair · manual')
    await user.should_see(marker=f'history-facts-{first}', content='provision · manual')
