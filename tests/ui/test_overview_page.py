"""The overview: tenant counts by status, success rate and mean time against the targets, runs in
progress with their current step, open alerts — all re-read by a timer, without a page reload."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from nicegui import app, ui
from nicegui.testing import User
from ui_helpers import sign_in

from engine.services import engines, runs, tenants
from engine.validation import TenantCreate
from storage.tables import Alert, TenantStatus

pytestmark = pytest.mark.nicegui_main_file('main.py')

WAIT = 150  # retries of 0.1 s: long enough for a few timer refreshes on a busy machine


def make_tenant(name: str) -> int:
    db = app.state.db
    engine = engines.list_engines(db)[0]
    data = TenantCreate(name=name, country='US', currency='USD', admin_email='ops@example.com',
                        engine=engine.id)
    return tenants.create_tenant(db, data, actor='tests').id


async def provision(tenant_id: int) -> None:
    runs.request_provision(app.state.db, tenant_id, actor='tests')
    await app.state.dispatcher.tick()


async def add_fault(**rule: Any) -> None:
    """A fault rule of the embedded sandbox (its control API, over ASGI)."""
    transport = httpx.ASGITransport(app=app.state.process.sandbox_app)
    async with httpx.AsyncClient(transport=transport, base_url='http://sandbox') as sandbox:
        (await sandbox.post('/__sandbox__/faults', json=rule)).raise_for_status()


def count_of(user: User, status: str) -> str:
    return next(iter(user.find(marker=f'count-{status}').elements)).text


async def test_counts_and_success_rate_appear_after_a_provisioning_without_reload(user: User) -> None:
    await sign_in(user, 'manager')
    await user.should_see('no finished runs yet')
    assert count_of(user, 'PROVISIONED') == '0'

    await provision(make_tenant('Acme Retail'))

    await user.should_see('1 of 1 decided run', retries=WAIT)  # the page's timer redrew it
    assert count_of(user, 'PROVISIONED') == '1'
    assert count_of(user, 'NOT_STARTED') == '0'
    await user.should_see('100.0%')
    await user.should_see('over 1 successful run, last 7 days')
    await user.should_see('Target: at least 95%')
    await user.should_see('Target: at most 5 minutes')


async def test_a_failed_run_lowers_the_success_rate(user: User) -> None:
    await sign_in(user, 'support')
    await provision(make_tenant('Good Shop'))
    await user.should_see('1 of 1 decided run', retries=WAIT)
    await add_fault(method='POST', doctype='POS Profile', status=417)  # ERPNext refuses it: critical

    await provision(make_tenant('Bad Shop'))

    await user.should_see('1 of 2 decided runs', retries=WAIT)
    await user.should_see('50.0%')
    assert count_of(user, 'FAILED') == '1'
    assert count_of(user, 'PROVISIONED') == '1'


async def test_status_counts_link_to_the_filtered_tenant_list(user: User) -> None:
    make_tenant('Waiting Shop')
    await sign_in(user, 'support')

    hrefs = [link.props.get('href', '') for link in user.find(ui.link).elements]
    filtered = sorted(href for href in hrefs if href.startswith('/tenants?'))

    assert filtered == sorted([*(f'/tenants?status={s}' for s in TenantStatus), '/tenants?drifted=1'])
    assert {'/tenants?status=NOT_STARTED', '/tenants?status=FAILED'} <= set(filtered)
    assert count_of(user, 'NOT_STARTED') == '1'


async def test_a_run_in_progress_shows_its_tenant_and_current_step(user: User) -> None:
    await sign_in(user, 'admin')
    await user.should_see('No run is queued or running.')
    await add_fault(method='POST', doctype='POS Profile', latency_ms=6000, count=1)
    tenant_id = make_tenant('Slow Shop')

    await provision(tenant_id)

    await user.should_see('Create POS profiles', retries=WAIT)
    await user.should_see('Runs in progress: 1')
    link = next(link for link in user.find(ui.link).elements if link.text == 'Slow Shop')
    assert link.props['href'] == f'/tenants/{tenant_id}'
    await user.should_see('No run is queued or running.', retries=WAIT)  # it finished; the list emptied
    assert count_of(user, 'PROVISIONED') == '1'


async def test_open_alerts_are_listed(user: User) -> None:
    with app.state.db.session() as session:
        session.add(Alert(rule='engine_offline', severity='critical', subject='Sandbox',
                          message='ERPNext does not answer'))
    await sign_in(user, 'manager')

    await user.should_see('Open alerts: 1')
    await user.should_see('Engine offline: Sandbox')  # what the rule means, then its subject
    await user.should_see('ERPNext does not answer')
