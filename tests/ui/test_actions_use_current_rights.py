"""An open page acts with the user's rights of the moment it acts, not with those it was loaded with
(QA: a demoted admin's open /users page created an admin, a demoted one's tenant page ran a teardown,
a deactivated support user's page queued a run, a tab signed out in another one still acted).

Each action reads the signed-in user again when it acts (dashboard.session.acting): signed out or
deactivated, or without the role the action's REST route requires, the action does nothing, the page
says why in one line and reloads; and the frame looks the session up by itself every few seconds."""

from __future__ import annotations

import asyncio
import importlib

import httpx
import pytest
from nicegui import app
from nicegui.testing import User
from test_tenant_detail import new_tenant, open_dialog, see_status
from test_tenant_lifecycle import provisioned
from test_tenants_page import make_tenant, open_list, table
from ui_helpers import ADMIN_PASSWORD, PASSWORD, SITE, ensure_user, sign_in

from dashboard.session import SESSION_COOKIE
from engine.services import audit, engines, tenant_view, users
from engine.validation import UserCreate

pytestmark = pytest.mark.nicegui_main_file('main.py')

SIGNED_OUT = 'You were signed out: nothing was done.'
DEMOTED = 'Your role no longer allows this: you are now a manager.'
SLOW = 100  # x 0.1 s: the page reloads REFUSED_RELOAD_S after a refusal; argon2 and runs take a while


async def as_another_admin(user: User, method: str, path: str, **body: object) -> httpx.Response:
    """What another admin does meanwhile, through the REST API (`boss`, made here)."""
    if not any(row.username == 'boss' for row in users.list_users(app.state.db)):
        users.create_user(app.state.db, UserCreate(username='boss', password=PASSWORD, role='admin'), actor='tests')
    login = await user.http_client.post('/api/v1/auth/token', json={'username': 'boss', 'password': PASSWORD})
    headers = {'Authorization': f"Bearer {login.json()['access_token']}"}
    answer = await user.http_client.request(method, path, headers=headers, json=body or None)
    assert answer.is_success, answer.text
    return answer


async def change_user(user: User, username: str, **fields: object) -> None:
    """Another admin changes `username` (PATCH /api/v1/users/{id}), e.g. role='manager', active=False."""
    await as_another_admin(user, 'PATCH', f'/api/v1/users/{user_named(username).id}', **fields)


def events(action: str) -> int:
    return audit.list_events(app.state.db, action=action).total


def runs_of(tenant_id: int) -> int:
    return len(tenant_view.run_history(app.state.db, tenant_id, limit=50).items)


# ---- users -----------------------------------------------------------------------------------

async def test_a_demoted_admins_open_users_page_creates_no_user(user: User) -> None:
    await sign_in(user, 'admin', next_path='/users')
    await user.should_see(marker='user-admin')
    await change_user(user, 'admin', role='manager')
    created_before = events('user.created')  # boss

    user.find(marker='user-add').click()
    user.find(marker='new-user-name').type('ann2')
    user.find(marker='new-user-password').type(ADMIN_PASSWORD)
    user.find(marker='new-user-create').click()

    await user.should_see(DEMOTED, retries=SLOW)
    assert 'ann2' not in [row.username for row in users.list_users(app.state.db)]
    assert events('user.created') == created_before
    await user.should_see('Your role (manager) does not give access to this page.', retries=SLOW)  # reloaded


async def test_a_demoted_and_deactivated_admin_deactivates_nobody(user: User) -> None:
    """The QA case: PATCH {"role": "manager", "active": false}: the open page now acts as nobody."""
    ensure_user('sam', 'support')
    await sign_in(user, 'admin', next_path='/users')
    await user.should_see(marker='user-deactivate-sam')
    await change_user(user, 'admin', role='manager', active=False)

    await open_dialog(user, 'user-deactivate-sam')
    user.find(marker='confirm-ok').click()

    await user.should_see(SIGNED_OUT, retries=SLOW)
    assert user_named('sam').active
    assert audit.list_events(app.state.db, action='user.updated', actor='admin').total == 0
    await user.should_see('Sign in', retries=SLOW)  # reloaded: the session is gone


# ---- tenant page -------------------------------------------------------------------------------

async def test_a_teardown_confirmed_after_a_demotion_does_not_run(user: User) -> None:
    tenant_id = await provisioned(user, 'admin')
    await open_dialog(user, 'action-deprovision')  # the plan is on show, then another admin demotes
    await change_user(user, 'admin', role='manager')

    user.find(marker='confirm-ok').click()

    await user.should_see(DEMOTED, retries=SLOW)
    assert runs_of(tenant_id) == 1 and events('run.deprovision_requested') == 0
    await user.should_see('admin (manager)', retries=SLOW)  # reloaded as a manager: no teardown offered
    await user.should_not_see(marker='action-deprovision')
    await see_status(user, 'tenant-status', 'PROVISIONED')


async def test_a_demoted_admin_gets_no_teardown_plan_either(user: User) -> None:
    await provisioned(user, 'admin')
    await user.should_see(marker='action-deprovision', retries=SLOW)  # the actions row is redrawn as the run ends
    await change_user(user, 'admin', role='manager')

    user.find(marker='action-deprovision').click()

    await user.should_see(DEMOTED, retries=SLOW)
    await user.should_not_see(marker='confirm-dialog')


async def test_a_deactivated_support_users_provision_queues_nothing(user: User) -> None:
    tenant_id = new_tenant()
    await sign_in(user, 'support', next_path=f'/tenants/{tenant_id}')
    await open_dialog(user, 'action-provision')
    await change_user(user, 'support', active=False)

    user.find(marker='confirm-ok').click()

    await user.should_see(SIGNED_OUT, retries=SLOW)
    assert runs_of(tenant_id) == 0 and events('run.provision_requested') == 0
    await user.should_see('Sign in', retries=SLOW)


async def test_check_drift_after_signing_out_in_another_tab_asks_nothing(user: User) -> None:
    tenant_id = await provisioned(user, 'support')
    await user.should_see(marker='action-check-drift', retries=SLOW)  # the actions row is redrawn as the run ends
    await log_out_in_another_tab(user)

    user.find(marker='action-check-drift').click()

    await user.should_see(SIGNED_OUT, retries=SLOW)
    assert tenant_view.tenant_header(app.state.db, tenant_id).drift_checked_at is None  # ERPNext not asked
    await user.should_see('Sign in', retries=SLOW)


# ---- engines -----------------------------------------------------------------------------------

@pytest.mark.parametrize('action', ['edit', 'delete'])
async def test_a_demoted_admin_neither_edits_nor_deletes_an_engine(user: User, action: str) -> None:
    sandbox = next(engine for engine in engines.list_engines(app.state.db) if engine.name == 'Sandbox')
    await sign_in(user, 'admin', next_path='/engines')
    await user.should_see(marker=f'engine-{action}-{sandbox.id}')
    await change_user(user, 'admin', role='manager')
    engine_events = events('engine.')

    if action == 'edit':
        user.find(marker=f'engine-{action}-{sandbox.id}').click()
        user.find(marker='engine-name').clear().type('Renamed')
        user.find(marker='engine-save').click()
    else:
        await open_dialog(user, f'engine-{action}-{sandbox.id}')
        user.find(marker='confirm-ok').click()

    await user.should_see(DEMOTED, retries=SLOW)
    assert [engine.name for engine in engines.list_engines(app.state.db)] == ['Sandbox']
    assert events('engine.') == engine_events
    await user.should_see('Your role (manager) does not give access to this page.', retries=SLOW)


# ---- tenants list ------------------------------------------------------------------------------

async def test_provision_after_signing_out_in_another_tab_queues_nothing(user: User) -> None:
    tenant_id = make_tenant('Acme Retail')
    await open_list(user, role='support')
    await log_out_in_another_tab(user)

    user.find(marker='tenants-table').trigger('provision', table(user).rows[0])  # the row's Provision button

    await user.should_see(SIGNED_OUT, retries=SLOW)
    assert runs_of(tenant_id) == 0
    await user.should_see('Sign in', retries=SLOW)


async def test_provision_selected_with_a_revoked_token_queues_nothing(user: User) -> None:
    ids = [make_tenant(name) for name in ('First Shop', 'Second Shop')]
    await open_list(user, role='support')
    rows = table(user).rows
    user.find(marker='tenants-table').trigger(
        'selection', {'added': True, 'rows': rows, 'keys': [row['id'] for row in rows]})
    await open_dialog(user, 'tenants-provision-selected')
    users.revoke_token(app.state.db, user.http_client.cookies[SESSION_COOKIE], actor='tests')  # e.g. by the API

    user.find(marker='confirm-ok').click()

    await user.should_see(SIGNED_OUT, retries=SLOW)
    assert [runs_of(tenant_id) for tenant_id in ids] == [0, 0]
    assert events('run.provision_requested') == 0


async def test_a_new_tenant_after_a_demotion_is_not_created(user: User) -> None:
    await open_list(user, role='support')
    await change_user(user, 'support', role='manager')

    user.find(marker='tenants-new').click()
    user.find(marker='tenant-name').type('Acme Retail')
    user.find(marker='tenant-admin-email').type('ops@acme.example.com')
    user.find(marker='tenant-country').type('United States')
    user.find(marker='tenant-currency').type('USD')
    user.find(marker='tenant-create').click()

    await user.should_see(DEMOTED, retries=SLOW)
    assert events('tenant.created') == 0
    await user.should_see('support (manager)', retries=SLOW)  # reloaded: the list without its buttons
    await user.should_not_see(marker='tenants-new')


# ---- the frame's own look at the session --------------------------------------------------------

async def test_an_open_page_whose_token_is_revoked_goes_to_the_sign_in_page(user: User, monkeypatch) -> None:
    monkeypatch.setattr(importlib.import_module('dashboard.components.frame'), 'SESSION_CHECK_S', 0.2)
    await open_list(user, role='support')
    page = user.client
    await asyncio.sleep(1)  # five looks at an unchanged session: the page stays as it is
    assert user.client is page

    users.revoke_token(app.state.db, user.http_client.cookies[SESSION_COOKIE], actor='tests')

    await user.should_see('Sign in', retries=SLOW)  # no click: the page went by itself
    assert user.client is not page


async def test_an_open_page_is_redrawn_for_a_new_role(user: User, monkeypatch) -> None:
    monkeypatch.setattr(importlib.import_module('dashboard.components.frame'), 'SESSION_CHECK_S', 0.2)
    await open_list(user, role='support')
    await user.should_see(marker='tenants-new')

    await change_user(user, 'support', role='manager')

    await user.should_see('support (manager)', retries=SLOW)
    await user.should_not_see(marker='tenants-new')
    await user.should_see(marker='nav-/charts')  # the navigation of a manager


# ---- helpers ---------------------------------------------------------------------------------------

async def log_out_in_another_tab(user: User) -> None:
    """The browser's other tab posts the header's Log out form (same cookies); this page stays open."""
    answer = await user.http_client.post('/logout', headers={'Origin': SITE}, follow_redirects=False)
    assert answer.status_code == 303


def user_named(name: str):
    return next(row for row in users.list_users(app.state.db) if row.username == name)
