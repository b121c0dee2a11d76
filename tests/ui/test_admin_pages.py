"""The admin pages: engines (add, edit, test connection, the secret never shown), users (create,
role, deactivate, reset password, the last admin kept) and the audit log (filter, pages)."""

from __future__ import annotations

import asyncio

import pytest
from nicegui import app
from nicegui.testing import User
from ui_helpers import ADMIN_PASSWORD, sign_in

from engine.services import audit, engines, users
from engine.services.engines import engine_secret

pytestmark = pytest.mark.nicegui_main_file('main.py')

SECRET = 'very-secret-value-42'
SLOW = 100  # x 0.1 s: for actions that hash a password (argon2) or call ERPNext


def engine_named(name: str):
    return next(engine for engine in engines.list_engines(app.state.db) if engine.name == name)


def user_named(name: str):
    return next(row for row in users.list_users(app.state.db) if row.username == name)


def set_value(user: User, marker: str, value: object) -> None:
    """Pick a value in a select/toggle (what a click on one of its options does)."""
    [element] = user.find(marker=marker).elements
    element.value = value


# ---- engines -----------------------------------------------------------------------------------

async def test_the_sandbox_engine_is_listed_and_its_connection_tested(user: User) -> None:
    await sign_in(user, 'admin', next_path='/engines')
    sandbox = engine_named('Sandbox')
    await user.should_see('Sandbox')
    await user.should_see('stored (write-only)')

    user.find(marker=f'engine-test-{sandbox.id}').click()

    await user.should_see(marker=f'engine-check-{sandbox.id}', retries=SLOW)
    await user.should_see("Connection to 'Sandbox' works")
    assert engine_named('Sandbox').health == 'online'
    await user.should_see(marker=f'engine-health-{sandbox.id}', content='online')
    assert audit.list_events(app.state.db, action='engine.checked').total == 1


async def test_add_an_engine_with_inline_errors_then_edit_it_keeping_the_secret(user: User) -> None:
    await sign_in(user, 'admin', next_path='/engines')
    user.find(marker='engine-add').click()
    user.find(marker='engine-name').type('Main ERP')
    user.find(marker='engine-url').type('ftp://erp.example.com')
    user.find(marker='engine-key').type('key-1')
    user.find(marker='engine-secret').type(SECRET)
    user.find(marker='engine-save').click()
    await user.should_see('must be an http:// or https:// URL')
    assert not any(e.name == 'Main ERP' for e in engines.list_engines(app.state.db))

    user.find(marker='engine-url').clear().type('https://erp.example.com')
    user.find(marker='engine-save').click()
    await user.should_see("Engine 'Main ERP' added.", retries=SLOW)
    created = engine_named('Main ERP')
    assert engine_secret(app.state.secrets, created) == SECRET
    await user.should_see('https://erp.example.com')
    await user.should_not_see(SECRET)

    user.find(marker=f'engine-edit-{created.id}').click()
    [secret_field] = user.find(marker='engine-secret').elements
    assert secret_field.value == ''  # write-only: never filled in
    user.find(marker='engine-max-runs').clear().type('9')
    user.find(marker='engine-save').click()
    await user.should_see("Engine 'Main ERP' updated.", retries=SLOW)
    edited = engine_named('Main ERP')
    assert edited.max_concurrent_runs == 9
    assert engine_secret(app.state.secrets, edited) == SECRET  # empty on edit: kept
    await user.should_not_see(SECRET)


async def test_a_taken_engine_name_is_shown_under_the_field(user: User) -> None:
    await sign_in(user, 'admin', next_path='/engines')
    user.find(marker='engine-add').click()
    user.find(marker='engine-name').type('Sandbox')
    user.find(marker='engine-url').type('https://other.example.com')
    user.find(marker='engine-key').type('k')
    user.find(marker='engine-secret').type('s')
    user.find(marker='engine-save').click()
    await user.should_see("an engine named 'Sandbox' already exists", retries=SLOW)
    assert len(engines.list_engines(app.state.db)) == 1


async def test_a_failing_connection_test_shows_the_error(user: User) -> None:
    await sign_in(user, 'admin', next_path='/engines')
    user.find(marker='engine-add').click()
    user.find(marker='engine-name').type('Nowhere')
    user.find(marker='engine-url').type('http://127.0.0.1:9')  # nothing listens on the discard port
    user.find(marker='engine-key').type('k')
    user.find(marker='engine-secret').type('s')
    user.find(marker='engine-save').click()
    await user.should_see("Engine 'Nowhere' added.", retries=SLOW)
    nowhere = engine_named('Nowhere')

    user.find(marker=f'engine-test-{nowhere.id}').click()

    await user.should_see("Connection to 'Nowhere' failed", retries=SLOW)
    await user.should_see(marker=f'engine-error-{nowhere.id}')
    assert engine_named('Nowhere').health == 'offline'


# ---- users -------------------------------------------------------------------------------------

async def test_create_a_user_change_role_deactivate_and_reactivate(user: User) -> None:
    await sign_in(user, 'admin', next_path='/users')
    user.find(marker='user-add').click()
    user.find(marker='new-user-name').type('jane')
    user.find(marker='new-user-password').type('short')
    user.find(marker='new-user-create').click()
    await user.should_see('at least 10 characters long')
    user.find(marker='new-user-password').clear().type('a-long-password-9')
    set_value(user, 'new-user-role', 'manager')
    user.find(marker='new-user-create').click()
    await user.should_see("User 'jane' created.", retries=SLOW)
    await user.should_see(marker='user-jane')
    assert user_named('jane').role == 'manager'

    set_value(user, 'user-role-jane', 'support')
    await user.should_see("Change the role of 'jane'?")
    user.find(marker='confirm-ok').click()
    await user.should_see("User 'jane' updated.", retries=SLOW)
    assert user_named('jane').role == 'support'

    user.find(marker='user-deactivate-jane').click()
    await user.should_see("Deactivate 'jane'?")
    user.find(marker='confirm-ok').click()
    await user.should_see(marker='user-reactivate-jane', retries=SLOW)
    assert user_named('jane').active is False
    user.find(marker='user-reactivate-jane').click()
    await user.should_see(marker='user-deactivate-jane', retries=SLOW)
    assert user_named('jane').active is True
    events = audit.list_events(app.state.db, action='user.updated').items
    changes = [event.details['changes'] for event in events]
    assert changes[::-1] == [{'role': ['manager', 'support']}, {'active': [True, False]},
                             {'active': [False, True]}]  # oldest first


async def test_a_taken_username_is_shown_under_the_field(user: User) -> None:
    await sign_in(user, 'admin', next_path='/users')
    user.find(marker='user-add').click()
    user.find(marker='new-user-name').type('admin')
    user.find(marker='new-user-password').type('a-long-password-9')
    user.find(marker='new-user-create').click()
    await user.should_see("a user named 'admin' already exists", retries=SLOW)


async def test_the_last_admin_cannot_be_deactivated_or_demoted(user: User) -> None:
    await sign_in(user, 'admin', next_path='/users')

    user.find(marker='user-deactivate-admin').click()
    await user.should_see("Deactivate 'admin'?")
    user.find(marker='confirm-ok').click()

    await user.should_see("'admin' is the last active admin", retries=SLOW)
    await user.should_see(marker='users-message', content='make another user admin first')
    assert user_named('admin').active is True
    [refused] = user.find(marker='user-role-admin').elements
    refused.value = 'manager'
    await user.should_see("Change the role of 'admin'?")
    user.find(marker='confirm-ok').click()
    for _ in range(SLOW):  # the list is re-read after the refusal: a new select shows the stored role
        [shown] = user.find(marker='user-role-admin').elements
        if shown is not refused:
            break
        await asyncio.sleep(0.1)
    assert shown.value == 'admin' and user_named('admin').role == 'admin'
    await user.should_see(marker='users-message', content='last active admin')


async def test_an_admin_resets_a_password(user: User) -> None:
    await sign_in(user, 'admin', next_path='/users')
    user.find(marker='user-add').click()
    user.find(marker='new-user-name').type('sam')
    user.find(marker='new-user-password').type('first-password-1')
    user.find(marker='new-user-create').click()
    await user.should_see(marker='user-password-sam', retries=SLOW)

    user.find(marker='user-password-sam').click()
    user.find(marker='reset-password').type('tiny')
    user.find(marker='reset-password-save').click()
    await user.should_see('at least 10 characters long')
    user.find(marker='reset-password').clear().type('second-password-2')
    user.find(marker='reset-password-save').click()

    await user.should_see("Password of 'sam' changed.", retries=SLOW)
    assert users.authenticate(app.state.db, 'sam', 'second-password-2').username == 'sam'
    with pytest.raises(users.AuthenticationFailed):
        users.authenticate(app.state.db, 'sam', 'first-password-1')
    await user.should_not_see('second-password-2')


# ---- audit log ---------------------------------------------------------------------------------

async def test_the_audit_log_filters_and_pages_newest_first(user: User) -> None:
    await sign_in(user, 'admin', next_path='/audit')
    for _ in range(30):  # 30 failed logins of 'nobody': more than one page
        with pytest.raises(users.AuthenticationFailed):
            users.authenticate(app.state.db, 'nobody', 'wrong-password')
    await user.open('/audit')
    total = audit.list_events(app.state.db).total
    newest = audit.list_events(app.state.db, limit=1).items[0]
    await user.should_see(marker=f'audit-event-{newest.id}')
    await user.should_see(f'1–25 of {total}')

    user.find(marker='audit-actor').type('nobody')
    user.find(marker='audit-filter').click()
    await user.should_see('1–25 of 30')
    failures = audit.list_events(app.state.db, actor='nobody', limit=30).items
    await user.should_see(marker=f'audit-event-{failures[0].id}')
    await user.should_not_see(marker=f'audit-event-{failures[25].id}')
    await user.should_see(marker=f'audit-details-{failures[0].id}', content='reason: unknown_user')

    set_value(user, 'audit-pager', 2)
    await user.should_see('26–30 of 30')
    await user.should_see(marker=f'audit-event-{failures[25].id}')
    await user.should_not_see(marker=f'audit-event-{failures[0].id}')

    user.find(marker='audit-actor').clear()
    set_value(user, 'audit-action', 'auth.login')  # picking a key applies it
    await user.should_see('1–1 of 1')  # the admin's own sign-in


async def test_audit_filters_come_from_the_url_and_bad_ones_are_explained(user: User) -> None:
    await sign_in(user, 'admin', next_path='/audit?action=user.created')
    await user.should_see('1–1 of 1')  # the first admin, created by the system on first start
    await user.should_see(marker='audit-details-1', content='username: admin')
    await user.open('/audit?action=nothing.here')
    await user.should_see('0 of 0')
    await user.should_see('No events match.')
    await user.open('/audit?tenant=abc')
    await user.should_see("No tenant is named 'abc' (and it is no tenant id).")
    await user.open('/audit?action=auth.login&actor=admin')
    await user.should_see('1–1 of 1')
    assert ADMIN_PASSWORD not in str(audit.list_events(app.state.db).items)
