"""The tenant page follows an active run (or plan) by id while it is on show; when that run vanishes
under the page (an older backup restored), the page falls back to the tenant's current run (or its
newest plan) instead of failing every read. (The User fixture fails a test that logged anything at
ERROR, which each failed timer tick would.)

The runs wait in the queue for an engine that refuses its key, so they stay active without a runner
writing to them."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from nicegui import app
from nicegui.testing import User
from test_tenant_detail import new_tenant, see_status
from test_waiting_for_engine_page import offline_engine
from ui_helpers import sign_in

from engine.services import runs

pytestmark = pytest.mark.nicegui_main_file('main.py')

FAST_TICKS_S = 1.5  # three reads of a page showing an active run
RETRIES = 30  # x 0.1 s: a few reads of the page


def remove_run(run_id: int) -> None:
    """Delete the run and its steps behind the service's back, as restoring an older backup would."""
    connection = sqlite3.connect(app.state.db.engine.url.database, isolation_level=None)
    try:
        connection.execute('DELETE FROM steprun WHERE run_id = ?', (run_id,))
        connection.execute('DELETE FROM run WHERE id = ?', (run_id,))
    finally:
        connection.close()


async def queued_run(tenant_id: int, *, plan: bool = False) -> int:
    run_id = runs.request_provision(app.state.db, tenant_id, actor='tests', plan=plan).id
    await app.state.dispatcher.tick()  # holds it: the engine is offline
    assert runs.run_detail(app.state.db, run_id)['status'] == 'QUEUED'
    return run_id


async def test_a_followed_run_that_vanishes_gives_way_to_the_current_run(user: User) -> None:
    tenant_id = new_tenant(engine=await offline_engine())
    earlier = await queued_run(tenant_id)
    runs.cancel_run(app.state.db, earlier, actor='tests')
    followed = await queued_run(tenant_id)
    await sign_in(user, 'admin', next_path=f'/tenants/{tenant_id}')
    await user.should_see(marker='run-id', content=f'Run #{followed}')
    await see_status(user, 'run-status', 'QUEUED')

    remove_run(followed)

    await user.should_see(marker='run-id', content=f'Run #{earlier}', retries=RETRIES)
    await see_status(user, 'run-status', 'CANCELLED')
    await user.should_see(marker='action-retry-run')  # the current run's actions came back with it
    await asyncio.sleep(FAST_TICKS_S)  # later reads of the page keep it
    await user.should_see(marker='run-id', content=f'Run #{earlier}')


async def test_a_followed_plan_that_vanishes_gives_way_to_the_newest_plan(user: User) -> None:
    tenant_id = new_tenant(engine=await offline_engine())
    earlier = await queued_run(tenant_id, plan=True)
    runs.cancel_run(app.state.db, earlier, actor='tests')
    followed = await queued_run(tenant_id, plan=True)
    await sign_in(user, 'admin', next_path=f'/tenants/{tenant_id}')
    await see_plan(user, followed)
    await see_status(user, 'plan-status', 'QUEUED')

    remove_run(followed)

    await see_plan(user, earlier, retries=RETRIES)
    await see_status(user, 'plan-status', 'CANCELLED')
    await asyncio.sleep(FAST_TICKS_S)
    await see_plan(user, earlier)


async def see_plan(user: User, run_id: int, *, retries: int = 3) -> None:
    """The plan card's facts line names the run (no other line reads 'run #n · by')."""
    await user.should_see(f'run #{run_id} · by tests', retries=retries)
