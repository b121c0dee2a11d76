"""QA pass 8, finding 4: the run page says when a run's automatic retries are used up, and what to do."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from nicegui import app
from nicegui.testing import User
from ui_helpers import sign_in

from engine.services import runs, tenants
from engine.validation import TenantCreate

pytestmark = pytest.mark.nicegui_main_file('main.py')

WAIT = 300  # x 0.1 s


async def run_to_its_end(run_id: int) -> dict:
    for _ in range(600):
        await app.state.dispatcher.tick()
        await asyncio.gather(*app.state.dispatcher.tasks.values())
        detail = runs.run_detail(app.state.db, run_id)
        if detail['status'] not in ('QUEUED', 'RUNNING'):
            return detail
        await asyncio.sleep(0.05)
    raise AssertionError(f'run {run_id} did not end')


async def test_the_run_page_says_no_automatic_retries_are_left(user: User) -> None:
    transport = httpx.ASGITransport(app=app.state.process.sandbox_app)
    async with httpx.AsyncClient(transport=transport, base_url='http://sandbox') as sandbox:
        (await sandbox.post('/__sandbox__/faults', json={'method': 'POST', 'doctype': 'Company',
                                                          'status': 502})).raise_for_status()
    data = TenantCreate(name='Acme Retail', country='United States', currency='USD', admin_email='ada@example.com',
                        engine='Sandbox')
    tenant_id = tenants.create_tenant(app.state.db, data, actor='tests').id
    run_id = runs.request_provision(app.state.db, tenant_id, actor='tests').id
    detail = await run_to_its_end(run_id)
    await sign_in(user, 'support', next_path=f'/tenants/{tenant_id}')
    await user.should_see(marker='run-next-retry', retries=WAIT)
    await user.should_not_see(marker='run-retry-hint')

    limit = app.state.settings.auto_retry_limit
    for _ in range(limit):  # what the auto-retry job does when each retry is due
        assert await app.state.process.auto_retry.tick(now=detail['next_retry_at']) == [run_id]
        detail = await run_to_its_end(run_id)

    await user.should_see(marker='run-retry-hint', retries=WAIT,
                          content=f'No automatic retries left ({limit} used): click Retry run once ERPNext is back.')
    await user.should_not_see(marker='run-next-retry')
    # The failed step says what its own retries did, in the numbers the API gives (no '(retried
    # automatically)' beside a run that no longer is).
    step = next(step for step in detail['steps'] if step['key'] == 'create_company')
    assert (step['status'], step['error_category'], step['attempts']) == ('FAILED', 'transient', 4)
    await user.should_see(marker='error-create_company', content='Temporary ERPNext problem, the run stopped here '
                                                                 'after 3 automatic retries of the step: ')
