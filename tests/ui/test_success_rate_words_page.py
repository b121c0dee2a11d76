"""QA pass 8, finding 1: the Overview and the metrics page count a cancelled run the same way: finished,
but not one of the decided runs the success rate is computed from, and both say so."""

from __future__ import annotations

import pytest
from nicegui import app
from nicegui.testing import User
from test_metrics_page import provision
from ui_helpers import sign_in

from engine.services import engines, runs, tenants
from engine.validation import TenantCreate

pytestmark = pytest.mark.nicegui_main_file('main.py')

WORDS = '1 of 1 decided run (1 cancelled not counted)'


def make_tenant(name: str) -> int:
    data = TenantCreate(name=name, country='US', currency='USD', admin_email='ops@example.com',
                        engine=engines.list_engines(app.state.db)[0].id)
    return tenants.create_tenant(app.state.db, data, actor='tests').id


async def one_succeeded_one_cancelled() -> None:
    assert await provision('Acme Retail') == 'SUCCEEDED'
    cancelled = runs.request_provision(app.state.db, make_tenant('Beta Shops'), actor='tests')
    runs.cancel_run(app.state.db, cancelled.id, actor='tests')


async def test_the_overview_names_the_cancelled_run_it_leaves_out(user: User) -> None:
    await one_succeeded_one_cancelled()

    await sign_in(user, 'manager')

    with user.scope(marker='overview-success'):
        await user.should_see(WORDS)
        await user.should_see('100.0%')


async def test_the_metrics_page_gives_the_same_basis_beside_its_finished_runs(user: User) -> None:
    await one_succeeded_one_cancelled()

    await sign_in(user, 'manager', next_path='/charts')

    with user.scope(marker='kpi-success-rate'):
        await user.should_see(WORDS)
    with user.scope(marker='kpi-finished'):
        await user.should_see('1 succeeded, 0 failed, 1 cancelled')
