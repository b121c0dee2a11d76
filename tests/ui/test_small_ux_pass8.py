"""QA pass 8's small UX findings: number fields that clamped silently, the users' sign-in locks, the
offline-engine alert for roles that cannot open Engines, New tenant's default engine and Enter, the
engines page's health-check sentence."""

from __future__ import annotations

from datetime import timedelta

import pytest
from nicegui import app
from nicegui.testing import User
from sqlmodel import select
from test_engine_removal_page import add_alert, add_engine
from test_engines_page import fill_new_engine
from test_tenants_page import open_list
from ui_helpers import ensure_user, sign_in

from engine.services import engines, tenants
from storage.tables import Engine, EngineHealth, utcnow
from storage.tables import User as UserRow

pytestmark = pytest.mark.nicegui_main_file('main.py')


def leave(user: User, marker: str, typed: str) -> None:
    """Type into a number field and leave it (the blur is where ui.number used to clamp)."""
    user.find(marker=marker).clear().type(typed).trigger('blur')


async def test_out_of_range_stores_are_refused_with_the_apis_words_not_clamped(user: User) -> None:
    await open_list(user, '/tenants', role='support')
    user.find(marker='tenants-new').click()
    user.find(marker='tenant-name').type('Big Shop')
    user.find(marker='tenant-country').type('Germany')
    user.find(marker='tenant-currency').type('EUR')
    user.find(marker='tenant-admin-email').type('ops@example.com')
    leave(user, 'tenant-stores', '200')
    user.find(marker='tenant-create').click()
    await user.should_see('must be at most 20')
    assert tenants.list_tenants(app.state.db).total == 0


async def test_out_of_range_engine_numbers_are_refused_not_clamped(user: User) -> None:
    await sign_in(user, 'admin', next_path='/engines')
    fill_new_engine(user, 'Big ERP')
    for marker, typed, error in (('engine-max-runs', '100000', 'must be at most 64'),
                                 ('engine-rps', '0', 'must be at least 1')):
        leave(user, marker, typed)
        user.find(marker='engine-save').click()
        await user.should_see(error)
        leave(user, marker, '4')
    assert 'Big ERP' not in [engine.name for engine in engines.list_engines(app.state.db)]


async def test_new_tenant_starts_on_the_online_engine_and_enter_creates_it(user: User) -> None:
    add_engine('Another ERP')  # never checked: health unknown, and listed before 'Sandbox'
    sandbox = next(engine for engine in engines.list_engines(app.state.db) if engine.name == 'Sandbox')
    with app.state.db.session() as session:
        session.get(Engine, sandbox.id).health = EngineHealth.ONLINE
    await open_list(user, '/tenants', role='support')
    user.find(marker='tenants-new').click()
    [choice] = user.find(marker='tenant-engine').elements
    assert choice.value == sandbox.id

    user.find(marker='tenant-name').type('Enter Shop')
    user.find(marker='tenant-country').type('Germany')
    user.find(marker='tenant-currency').type('EUR')
    user.find(marker='tenant-admin-email').type('ops@example.com').trigger('keydown.enter')
    await user.should_see("Tenant 'Enter Shop' created.")
    [tenant] = tenants.list_tenants(app.state.db).items
    assert tenant.engine_id == sandbox.id


async def test_the_users_page_says_whether_a_name_is_locked(user: User) -> None:
    ensure_user('support', 'support')
    with app.state.db.session() as session:
        row = session.exec(select(UserRow).where(UserRow.username == 'support')).one()
        row.failed_logins, row.locked_until = 3, utcnow() + timedelta(minutes=4)
    await sign_in(user, 'admin', next_path='/users')
    await user.should_see(marker='user-lock-admin', content='not locked')
    await user.should_see(marker='user-lock-support', content='locked for sign-ins from every address until')
    await user.should_not_see('Locked until')


@pytest.mark.parametrize(('role', 'action'), [
    ('support', "Ask an admin to fix engine 'Typo ERP'"),
    ('manager', "Ask an admin to fix engine 'Typo ERP'"),
    ('admin', 'Fix it on Engines'),
])
async def test_the_offline_engine_alert_says_what_this_role_can_do(user: User, role: str, action: str) -> None:
    add_alert('engine_offline', 'Typo ERP', "Engine 'Typo ERP' is offline (no answer).")
    await sign_in(user, role, next_path='/tenants')
    await user.should_see(marker='alert-count', content='1 open alert')
    [summary] = user.find(marker='alert-summary').elements
    summary.value = True
    await user.should_see(marker='alert-action', content=action)
    if role != 'admin':
        await user.should_not_see('Fix it on Engines')


async def test_the_engines_page_says_how_often_health_is_checked(user: User) -> None:
    await sign_in(user, 'admin', next_path='/engines')
    await user.should_see(marker='engines-health-text',
                          content='every 30 seconds, and every 5 seconds while an engine is offline')
