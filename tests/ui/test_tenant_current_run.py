"""The tenant page keeps showing the run it acts on: a plan gets a card of its own, a cancelled run's
steps in flight settle on screen, warnings and retriers are shown, the cancel dialog's buttons say
what they do, and the bulk Provision asks first."""

from __future__ import annotations

import asyncio

import pytest
from nicegui import app
from nicegui.testing import User
from test_tenant_detail import (
    WAIT,
    add_fault,
    clear_faults,
    click_and_confirm,
    fail_at_pos_profiles,
    new_tenant,
    open_dialog,
    sandbox_writes,
    see_status,
)
from ui_helpers import sign_in

from engine.services import runs
from engine.steps import STEPS

pytestmark = pytest.mark.nicegui_main_file('main.py')

UNFINISHED = 'creation recorded, but its step did not finish'


def text_of(user: User, marker: str) -> str:
    (element,) = user.find(marker=marker).elements
    return element.text


async def test_a_plan_on_a_failed_tenant_leaves_the_failed_run_and_its_actions(user: User) -> None:
    tenant_id = await fail_at_pos_profiles(user)
    failed = runs.current_run_detail(app.state.db, tenant_id)['id']

    await click_and_confirm(user, 'action-plan')

    await user.should_see(marker='plan-summary', retries=WAIT)
    await user.should_see(marker='plan-title', content='Plan (nothing written)')
    plan = runs.latest_plan_detail(app.state.db, tenant_id)
    assert plan is not None and plan['id'] != failed
    with user.scope(marker='run-panel'):
        await user.should_see(f'Run #{failed}')
    await see_status(user, 'run-status', 'FAILED', retries=3)
    await see_status(user, 'status-create_pos_profiles', 'FAILED', retries=3)
    await see_status(user, 'status-verify_provisioning', 'PENDING', retries=3)
    for marker in ('action-retry-run', 'retry-step-create_pos_profiles', 'skip-step-create_pos_profiles'):
        await user.should_see(marker=marker)


async def test_a_plan_on_a_new_tenant_shows_no_step_as_succeeded(user: User) -> None:
    tenant_id = new_tenant('Plan Shop')
    await sign_in(user, 'support', next_path=f'/tenants/{tenant_id}')

    await click_and_confirm(user, 'action-plan')

    await user.should_see(marker='plan-summary', retries=WAIT)
    await user.should_see('This tenant has not been provisioned yet.')
    for step in STEPS:  # the timeline is the tenant's (none yet), not the plan's look-ups
        await see_status(user, f'status-{step.key}', 'PENDING', retries=3)
    with user.scope(marker='plan-step-create_company'):
        await user.should_see('would create Company Plan Shop (PS)')
    assert await sandbox_writes() == {}


async def test_the_cancel_dialog_says_keep_running_or_cancel_run(user: User) -> None:
    tenant_id = new_tenant()
    await add_fault(latency_ms=500)
    runs.request_provision(app.state.db, tenant_id, actor='tests')
    await sign_in(user, 'admin', next_path=f'/tenants/{tenant_id}')

    await open_dialog(user, 'action-cancel')

    assert (text_of(user, 'confirm-cancel'), text_of(user, 'confirm-ok')) == ('Keep running', 'Cancel run')
    user.find(marker='confirm-cancel').click()
    await clear_faults()
    await see_status(user, 'run-status', 'SUCCEEDED', retries=WAIT)  # kept running


async def test_after_a_cancel_the_steps_in_flight_and_the_documents_settle_without_a_reload(user: User) -> None:
    tenant_id = new_tenant()
    await add_fault(latency_ms=1500)  # the company's insert is still on its way when Cancel is confirmed
    await sign_in(user, 'admin', next_path=f'/tenants/{tenant_id}')
    await click_and_confirm(user, 'action-provision')
    await wait_for_intent(tenant_id, 'Company')

    await click_and_confirm(user, 'action-cancel')

    await see_status(user, 'run-status', 'CANCELLED')
    await clear_faults()
    await see_status(user, 'status-create_company', 'SUCCEEDED', retries=WAIT)
    await user.should_see('abbreviation AR', retries=WAIT)  # the company step's output, in the documents
    await user.should_not_see(UNFINISHED)


async def wait_for_intent(tenant_id: int, doctype: str) -> None:
    """Until the run recorded that it is about to create a `doctype` (its insert is then on its way)."""
    for _ in range(WAIT * 2):
        detail = runs.current_run_detail(app.state.db, tenant_id)
        if detail and (detail['metadata'] or {}).get('intents', {}).get(doctype):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f'no {doctype} intent recorded')


async def test_a_run_with_a_warning_is_marked_in_the_history_and_the_tenants_list(user: User) -> None:
    tenant_id = new_tenant()
    await add_fault(method='POST', doctype='User', status=417)  # the optional invite step fails
    run_id = runs.request_provision(app.state.db, tenant_id, actor='tests').id
    await app.state.dispatcher.tick()
    await sign_in(user, 'manager', next_path=f'/tenants/{tenant_id}')

    await see_status(user, 'run-status', 'SUCCEEDED · 1 warning')
    await user.should_see(marker=f'history-status-{run_id}', content='SUCCEEDED · 1 warning')

    await user.open('/tenants')
    await user.should_see(marker='tenants-range', content=' tenants')  # the list's first page is read
    rows: list[dict] = []
    for _ in range(WAIT):
        (table,) = user.find(marker='tenants-table').elements
        rows = table.rows
        if rows and rows[0]['last_run']:
            break
        await asyncio.sleep(0.1)
    assert (rows[0]['last_run'], rows[0]['last_run_color']) == (f'#{run_id} SUCCEEDED · 1 warning', 'orange-8')


async def test_a_retry_by_support_shows_who_asked_and_who_retried(user: User) -> None:
    tenant_id = await fail_at_pos_profiles(user, 'support')
    run_id = runs.current_run_detail(app.state.db, tenant_id)['id']
    await clear_faults()

    await click_and_confirm(user, 'action-retry-run')

    await see_status(user, 'run-status', 'SUCCEEDED')
    await user.should_see(marker=f'history-facts-{run_id}', content='by tests, retried by support')
    await user.should_see(marker='run-requested', content='tests, retried by support')
    await user.should_see(marker='facts-create_pos_profiles', content='attempts: 1 (+1 earlier)')
    await user.should_see(marker='facts-create_pos_profiles', content='failed once before')


async def test_a_long_name_without_spaces_wraps_on_the_tenant_page(user: User) -> None:
    name = 'Long' * 35  # 140 characters, no space to break at
    tenant_id = new_tenant(name)
    await sign_in(user, 'support', next_path=f'/tenants/{tenant_id}')
    await user.should_see(marker='tenant-name', content=name)

    (page,) = user.find(marker='tenant-page').elements
    assert 'wrap-anywhere' in page.classes  # overflow-wrap: anywhere, inherited by every text on the page
