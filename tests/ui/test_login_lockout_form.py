"""The login form and the REST token endpoint share one sign-in service and one limiter: five wrong
passwords in the form lock that username for this browser's address only."""

from __future__ import annotations

import httpx
import pytest
from nicegui import app
from nicegui.testing import User
from ui_helpers import ADMIN_PASSWORD

from engine.services import audit

pytestmark = pytest.mark.nicegui_main_file('main.py')


async def _try(user: User, username: str, password: str) -> None:
    user.find('Username').clear().type(username)
    user.find('Password').clear().type(password)
    user.find('Sign in').click()


async def test_five_wrong_passwords_lock_the_form_but_not_another_address(user: User) -> None:
    await user.open('/login')
    for _ in range(5):
        await _try(user, 'admin', 'wrong-password')
        await user.should_see('Wrong username or password.')

    await _try(user, 'admin', ADMIN_PASSWORD)
    await user.should_see('Too many failed sign-ins: try again in')
    await user.should_not_see('Log out')

    transport = httpx.ASGITransport(app=app, client=('198.51.100.20', 40000))
    async with httpx.AsyncClient(transport=transport, base_url='http://test') as elsewhere:
        answer = await elsewhere.post('/api/v1/auth/token',
                                      json={'username': 'admin', 'password': ADMIN_PASSWORD})
    assert answer.status_code == 200


async def test_an_unknown_name_is_locked_after_the_same_count_in_the_form(user: User) -> None:
    await user.open('/login')
    for _ in range(5):
        await _try(user, 'ghost', 'wrong-password')
        await user.should_see('Wrong username or password.')

    await _try(user, 'ghost', 'wrong-password')

    await user.should_see('Too many failed sign-ins: try again in')
    assert audit.list_events(app.state.db, action='auth.login_failed', actor='ghost').total == 6
