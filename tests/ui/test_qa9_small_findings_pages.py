"""QA pass 9's smaller findings, as the pages say them."""

from __future__ import annotations

import pytest
from nicegui import app
from nicegui.testing import User
from test_metrics_page import chart, provision
from test_tenant_detail import add_fault, new_tenant, see_status
from ui_helpers import sign_in

from engine.services import runs

pytestmark = pytest.mark.nicegui_main_file('main.py')


async def test_a_company_being_created_reads_so_not_created_and_maybe_missing(user: User) -> None:
    """Finding 9: while the company step runs, its Company (an intent, not yet in any output) is
    being created; it read 'it may not exist' beside 'created by Provisioner'."""
    tenant_id = new_tenant()
    await add_fault(method='POST', doctype='Company', latency_ms=3000, count=1)  # time to read the page
    runs.request_provision(app.state.db, tenant_id, actor='tests')
    await app.state.dispatcher.tick()
    await sign_in(user, 'admin', next_path=f'/tenants/{tenant_id}')
    await see_status(user, 'status-create_company', 'RUNNING', retries=20)

    await user.should_see(marker='doc-fate-Company', content='being created by Provisioner', retries=20)
    await user.should_see('its step is creating it now')
    await user.should_not_see('it may not exist')

    await see_status(user, 'status-create_company', 'SUCCEEDED')
    await user.should_see(marker='doc-fate-Company', content='created by Provisioner', retries=20)
    await user.should_see('abbreviation AR')


async def test_the_success_rate_chart_counts_decided_runs(user: User) -> None:
    """Finding 5: the chart plots succeeded / (succeeded + failed), cancelled runs left out."""
    await sign_in(user, 'manager')
    assert await provision('Acme Retail') == 'SUCCEEDED'

    await user.open('/charts')

    figure = (await chart(user, 'chart-success-rate')).figure
    assert figure.layout.yaxis.title.text == '% of decided runs'
