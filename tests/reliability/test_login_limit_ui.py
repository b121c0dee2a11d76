"""The login form under the login rate limit: a polite message, not an error page, and the same
limiter as the API's (the process owns it)."""

from __future__ import annotations

import pytest
from nicegui import app
from nicegui.testing import User

from engine.rate_limits import LOGIN_PER_CLIENT
from tests.reliability.processes import PASSWORD

pytestmark = pytest.mark.nicegui_main_file('main.py')


@pytest.fixture(autouse=True)
def provisioner_environment(tmp_path, monkeypatch):
    monkeypatch.setenv('PROVISIONER_DATABASE_URL', f'sqlite:///{tmp_path / "ui.db"}')
    monkeypatch.setenv('PROVISIONER_DATA_DIR', str(tmp_path / 'data'))
    monkeypatch.setenv('PROVISIONER_ADMIN_PASSWORD', PASSWORD)
    monkeypatch.setenv('PROVISIONER_LOG_FORMAT', 'console')


async def test_too_many_sign_ins_get_a_polite_message(user: User) -> None:
    allowed = int(LOGIN_PER_CLIENT.split('/')[0])
    for _ in range(allowed):  # attempts through the API count for the form too: one limiter
        assert app.state.process.login_limiter.attempt('127.0.0.1') is None  # the simulated browser's address
    await user.open('/login')
    user.find('Username').type('ghost')
    user.find('Password').type('whatever-it-is')
    user.find('Sign in').click()

    await user.should_see('Too many sign-in attempts in a short time: please wait')
    await user.should_not_see('Wrong username or password.')
