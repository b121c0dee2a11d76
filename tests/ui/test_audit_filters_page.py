"""The audit page: the Action filter offers the keys in the log (and their groups), the actor
matches whatever the case, one sign-in is one event, and a user change reads as words."""

from __future__ import annotations

import pytest
from nicegui import app
from nicegui.testing import User
from ui_helpers import ensure_user, sign_in

from engine.services import audit, users
from engine.validation import UserUpdate

pytestmark = pytest.mark.nicegui_main_file('main.py')


async def test_the_action_filter_offers_keys_and_groups_and_the_actor_ignores_case(user: User) -> None:
    ensure_user('sam', 'support')
    sam = next(row for row in users.list_users(app.state.db) if row.username == 'sam')
    users.update_user(app.state.db, sam.id, UserUpdate(role='manager'), actor='admin')
    await sign_in(user, 'admin', next_path='/audit')

    [action] = user.find(marker='audit-action').elements
    assert {'auth.', 'auth.login', 'user.', 'user.created', 'user.updated'} <= set(action.options)
    assert 'auth.token_issued' not in action.options  # the sign-in above wrote one event, auth.login

    action.value = 'user.'
    grouped = audit.list_events(app.state.db, action='user.')
    assert {event.action for event in grouped.items} == {'user.created', 'user.updated'}
    await user.should_see(f'1–{grouped.total} of {grouped.total}')
    updated = audit.list_events(app.state.db, action='user.updated').items[0]
    await user.should_see(marker=f'audit-details-{updated.id}', content='role: support → manager')

    action.value = None
    user.find(marker='audit-actor').type('ADMIN')
    user.find(marker='audit-filter').click()
    total = audit.list_events(app.state.db, actor='admin').total
    assert total >= 1
    await user.should_see(f'of {total}')
