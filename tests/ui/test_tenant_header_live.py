"""While a run is live, the tenant page's header follows its steps: the abbreviation shows as soon as
the company step chose it, not only when the run ends."""

from __future__ import annotations

import pytest
from nicegui import app
from nicegui.testing import User
from test_tenant_detail import add_fault, new_tenant, see_status
from ui_helpers import sign_in

from engine.services import runs

pytestmark = pytest.mark.nicegui_main_file('main.py')


async def test_the_abbreviation_shows_while_the_run_is_still_running(user: User) -> None:
    tenant_id = new_tenant()
    await add_fault(method='POST', doctype='Company', latency_ms=3000, count=1)  # time to open the page
    await add_fault(method='POST', doctype='POS Profile', latency_ms=3000, count=1)  # the run stays live after
    runs.request_provision(app.state.db, tenant_id, actor='tests')
    await app.state.dispatcher.tick()
    await sign_in(user, 'admin', next_path=f'/tenants/{tenant_id}')
    # the page re-reads every 0.5 s, so it may first show the engine check: up to 2 s of the 3 s the
    # company's POST takes
    await see_status(user, 'status-create_company', 'RUNNING', retries=20)
    await user.should_see(marker='header-abbreviation', content='set by the company step', retries=3)

    await see_status(user, 'status-create_company', 'SUCCEEDED')

    await user.should_see(marker='header-abbreviation', content='AR', retries=20)  # within 2 s, no reload
    await user.should_see(marker='doc-Company', content='Acme Retail', retries=3)
    (run_status,) = user.find(marker='run-status').elements
    assert run_status.text == 'RUNNING'  # the header did not wait for the run's end
    await see_status(user, 'run-status', 'SUCCEEDED')
