"""The users page asks before a role change or a deactivation; Cancel changes nothing."""

from __future__ import annotations

import pytest
from nicegui import app
from nicegui.testing import User
from ui_helpers import ensure_user, sign_in

from engine.services import audit, users

pytestmark = pytest.mark.nicegui_main_file('main.py')
SLOW = 100


def user_named(name: str):
    return next(row for row in users.list_users(app.state.db) if row.username == name)


async def test_a_role_change_asks_first_and_cancel_keeps_the_role(user: User) -> None:
    ensure_user('sam', 'support')
    await sign_in(user, 'admin', next_path='/users')
    [select] = user.find(marker='user-role-sam').elements

    select.value = 'admin'
    await user.should_see("Change the role of 'sam'?")
    await user.should_see("'sam' becomes admin (now support).")
    user.find(marker='confirm-cancel').click()

    await user.should_not_see("Change the role of 'sam'?")
    for _ in range(SLOW):  # the list is re-read: a new select shows the stored role
        [shown] = user.find(marker='user-role-sam').elements
        if shown is not select:
            break
        await user.should_see(marker='user-role-sam')
    assert shown.value == 'support' and user_named('sam').role == 'support'
    assert audit.list_events(app.state.db, action='user.updated').total == 0


async def test_deactivation_asks_first_and_cancel_keeps_the_user_active(user: User) -> None:
    ensure_user('sam', 'support')
    await sign_in(user, 'admin', next_path='/users')

    user.find(marker='user-deactivate-sam').click()
    await user.should_see("Deactivate 'sam'?")
    user.find(marker='confirm-cancel').click()
    await user.should_not_see("Deactivate 'sam'?")

    assert user_named('sam').active is True
    user.find(marker='user-deactivate-sam').click()
    await user.should_see("Deactivate 'sam'?")
    user.find(marker='confirm-ok').click()
    await user.should_see(marker='user-reactivate-sam', retries=SLOW)
    assert user_named('sam').active is False


async def test_a_password_of_spaces_is_refused_under_the_field(user: User) -> None:
    await sign_in(user, 'admin', next_path='/users')
    user.find(marker='user-add').click()
    user.find(marker='new-user-name').type('jane')
    user.find(marker='new-user-password').type(' ' * 12)
    user.find(marker='new-user-create').click()

    await user.should_see('must not be blank (spaces alone are no password)')
    assert not any(row.username == 'jane' for row in users.list_users(app.state.db))
