"""A run queued for an engine that is offline says why it waits, on the tenant page and on the
tenants list (QA pass 2, finding 5): here the engine's ERPNext refuses its API key."""

from __future__ import annotations

import pytest
from nicegui import app, ui
from nicegui.testing import User
from test_tenant_detail import new_tenant, see_status
from test_tenants_page import wait_for_rows
from ui_helpers import sign_in

from engine.services import engines, runs
from engine.validation import EngineCreate

pytestmark = pytest.mark.nicegui_main_file('main.py')


async def offline_engine() -> str:
    """An engine on the embedded sandbox with a key pair it refuses, checked: offline."""
    process = app.state.process
    engine = engines.create_engine(process.db, process.secrets, EngineCreate(
        name='SB Bad', base_url=process.sandbox_url, api_key='nokey4', api_secret='AnotherWrong4'), actor='tests')
    transport = process.transport_for(engine)
    try:
        check = await engines.check_engine(process.db, process.secrets, engine.id, transport=transport)
    finally:
        await transport.aclose()
    assert check.health == 'offline', check.error
    return engine.name


async def test_the_tenant_page_and_the_list_say_the_run_waits_for_its_offline_engine(user: User) -> None:
    tenant_id = new_tenant(engine=await offline_engine())
    runs.request_provision(app.state.db, tenant_id, actor='tests')
    await app.state.dispatcher.tick()  # holds it: the engine is offline

    await sign_in(user, 'support', next_path=f'/tenants/{tenant_id}')
    await see_status(user, 'run-status', 'QUEUED')
    await user.should_see(marker='run-waiting', content="Waiting: engine 'SB Bad' is offline: ERPNext at ")
    await user.should_see(marker='run-waiting', content="refused the API key 'nokey4'")
    await user.should_see(marker='run-waiting', content='the run starts by itself once the engine answers.')

    await user.open('/tenants')
    await user.should_see(marker='tenants-range', content=' tenants')
    rows = await wait_for_rows(user, lambda rows: len(rows) == 1)
    assert (rows[0]['status'], rows[0]['waiting_for']) == ('QUEUED', 'SB Bad')
    (table,) = user.find(marker='tenants-table').elements
    assert 'waiting for engine {{ props.row.waiting_for }} (offline)' in table.slots['body'].template


@pytest.mark.parametrize(('role', 'action'), [
    ('support', 'Ask an admin to fix it (on Engines, a page for admins); the run starts by itself'),
    ('manager', 'Ask an admin to fix it (on Engines, a page for admins); the run starts by itself'),
    ('admin', 'Fix it on Engines; the run starts by itself'),
])
async def test_the_wait_says_what_this_role_can_do_as_the_offline_engine_alert_does(user: User, role: str,
                                                                                    action: str) -> None:
    """Only admins may manage engines: the others read whom to ask, and get no link to a page they cannot open."""
    tenant_id = new_tenant(engine=await offline_engine())
    runs.request_provision(app.state.db, tenant_id, actor='tests')
    await app.state.dispatcher.tick()

    await sign_in(user, role, next_path=f'/tenants/{tenant_id}')

    await user.should_see(marker='run-waiting', content=action)
    if role != 'admin':
        await user.should_not_see('Fix it on Engines')
        (panel,) = user.find(marker='run-panel').elements
        assert not [link for link in panel.descendants() if isinstance(link, ui.link)]


async def test_a_run_on_an_online_engine_shows_no_wait(user: User) -> None:
    tenant_id = new_tenant()
    runs.request_provision(app.state.db, tenant_id, actor='tests')
    await app.state.dispatcher.tick()
    await sign_in(user, 'support', next_path=f'/tenants/{tenant_id}')
    await see_status(user, 'run-status', 'SUCCEEDED')
    await user.should_not_see(marker='run-waiting')
