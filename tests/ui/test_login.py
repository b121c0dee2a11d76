"""Login, logout and the role guard on every page."""

from __future__ import annotations

import pytest
from nicegui import app
from nicegui.testing import User
from ui_helpers import log_out, sign_in

from engine.services import audit

pytestmark = pytest.mark.nicegui_main_file('main.py')

ALL_PAGES = ['/', '/tenants', '/charts', '/engines', '/users', '/audit']
VISIBLE = {'admin': set(ALL_PAGES), 'support': {'/', '/tenants'}, 'manager': {'/', '/tenants', '/charts'}}


async def test_anonymous_visitors_are_sent_to_the_login_form(user: User) -> None:
    await user.open('/engines')
    await user.should_see('Sign in')
    await user.should_not_see('Engines')


async def test_wrong_password_is_refused_and_audited(user: User) -> None:
    await user.open('/login')
    user.find('Username').type('admin')
    user.find('Password').type('nope')
    user.find('Sign in').click()
    await user.should_see('Wrong username or password.')
    events = audit.list_events(app.state.db, action='auth.login_failed')
    assert events.total == 1


async def test_signing_in_lands_on_the_page_asked_for_and_logout_ends_the_session(user: User) -> None:
    await sign_in(user, 'admin', next_path='/users')
    await user.should_see('Log out')
    await log_out(user)  # the header's button posts its form to /logout
    await user.should_see('Sign in')
    await user.open('/users')
    await user.should_see('Sign in')  # the session token was revoked on the server


@pytest.mark.parametrize('role', ['support', 'manager'])
async def test_each_role_sees_only_its_pages(user: User, role: str) -> None:
    await sign_in(user, role)
    for path in ALL_PAGES:
        await user.open(path)
        if path in VISIBLE[role]:
            await user.should_not_see('does not give access')
        else:
            await user.should_see('does not give access')
    await user.open('/')
    await user.should_not_see('Audit log')
    await user.should_not_see('Engines')
