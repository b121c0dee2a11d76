"""The metrics page: a clear empty state, then plotly charts drawn from real runs."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from nicegui import app, ui
from nicegui.testing import User
from ui_helpers import sign_in

from engine.services import runs, tenants
from engine.validation import TenantCreate

pytestmark = pytest.mark.nicegui_main_file('main.py')

CHARTS = ['chart-success-rate', 'chart-provisioning-time', 'chart-step-duration', 'chart-step-rates',
          'chart-outcomes']


async def provision(name: str) -> str:
    """Create a tenant on the embedded sandbox and let the process's dispatcher run it to its end."""
    db = app.state.db
    data = TenantCreate(name=name, country='Germany', currency='EUR', engine='Sandbox',
                        admin_email=f'ops@{name.split()[0].lower()}.example.com')
    tenant = tenants.create_tenant(db, data, actor='tests')
    run = runs.request_provision(db, tenant.id, actor='tests')
    for _ in range(300):
        await app.state.dispatcher.tick()
        await asyncio.gather(*app.state.dispatcher.tasks.values())
        status = runs.run_detail(db, run.id)['status']
        if status not in ('QUEUED', 'RUNNING'):
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f'run {run.id} did not finish')


async def sandbox_fault(**rule: object) -> None:
    """A fault rule on this process's embedded sandbox, through its control API (called in-process:
    the /sandbox mount of an earlier test's app can shadow this one's when tests share NiceGUI's app)."""
    transport = httpx.ASGITransport(app=app.state.process.sandbox_app)
    async with httpx.AsyncClient(transport=transport, base_url='http://sandbox') as client:
        answer = await client.post('/__sandbox__/faults', json=rule)
    assert answer.status_code in (200, 201), answer.text


async def chart(user: User, mark: str) -> ui.plotly:
    await user.should_see(kind=ui.plotly, marker=mark)
    [element] = user.find(kind=ui.plotly, marker=mark).elements
    return element


async def test_without_runs_the_page_says_so_instead_of_drawing_empty_charts(user: User) -> None:
    await sign_in(user, 'manager', next_path='/charts')
    await user.should_see('No data yet')
    await user.should_not_see(kind=ui.plotly)
    with user.scope(marker='kpi-success-rate'):
        await user.should_see('—')


async def test_after_runs_every_chart_is_drawn_from_the_numbers(user: User) -> None:
    await sign_in(user, 'manager')
    assert await provision('Acme Retail') == 'SUCCEEDED'
    assert await provision('Beta Shops') == 'SUCCEEDED'
    await sandbox_fault(method='POST', doctype='Company', status=403, count=10)
    assert await provision('Gamma Goods') == 'FAILED'

    await user.open('/charts')

    await user.should_not_see('No data yet')
    for mark in CHARTS:
        await user.should_see(kind=ui.plotly, marker=mark)
    with user.scope(marker='kpi-success-rate'):
        await user.should_see('66.7%')
    with user.scope(marker='kpi-finished'):
        await user.should_see('2 succeeded, 1 failed, 0 cancelled')
    timeline = (await chart(user, 'chart-success-rate')).figure
    assert [y for y in timeline.data[0].y if y is not None][-1] == pytest.approx(66.67)
    assert timeline.layout.shapes[0].y0 == 95  # the target line
    outcomes = (await chart(user, 'chart-outcomes')).figure
    assert dict(zip(outcomes.data[0].x, outcomes.data[0].y, strict=True))['FAILED'] == 1
    histogram = (await chart(user, 'chart-provisioning-time')).figure
    assert sum(histogram.data[0].y) == 2  # succeeded runs only
    assert histogram.layout.shapes[0].x0 == 6.5  # the 5-minute edge, between '4 min–5 min' and the next bar
    rates = (await chart(user, 'chart-step-rates')).figure
    error_rates = dict(zip(rates.data[0].x, rates.data[0].y, strict=True))
    assert error_rates['Create company'] == pytest.approx(33.33)


async def test_the_period_and_bucket_come_from_the_url_and_switch(user: User) -> None:
    await sign_in(user, 'admin')
    assert await provision('Acme Retail') == 'SUCCEEDED'
    await user.open('/charts?period=30d&bucket=day')

    timeline = (await chart(user, 'chart-success-rate')).figure
    assert len(timeline.data[0].x) in (30, 31)  # one point a day, empty days included
    user.find(marker='metrics-bucket').elements.pop().value = 'hour'
    for _ in range(100):  # the handler re-reads the numbers in a thread, then redraws
        points = len((await chart(user, 'chart-success-rate')).figure.data[0].x)
        if points != len(timeline.data[0].x):
            break
        await asyncio.sleep(0.05)
    assert points in (720, 721)  # one point an hour


async def test_a_bad_period_in_the_url_is_named_and_ignored(user: User) -> None:
    await sign_in(user, 'manager', next_path='/charts?period=1y')
    await user.should_see("unknown period '1y'")
    await user.should_see('No data yet')


async def test_the_summary_api_answers_managers_in_the_running_app(user: User) -> None:
    await sign_in(user, 'manager')
    token = (await user.http_client.post('/api/v1/auth/token', json={
        'username': 'manager', 'password': 'a-long-password-1'})).json()['access_token']
    answer = await user.http_client.get('/api/v1/metrics/summary',
                                        headers={'Authorization': f'Bearer {token}'})
    assert answer.status_code == httpx.codes.OK and answer.json()['runs']['finished'] == 0
