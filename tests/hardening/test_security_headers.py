"""Security headers on pages and API answers, and the session cookie's flags, through the app that
main.py builds (NiceGUI's simulated `User`)."""

from __future__ import annotations

import pytest
from nicegui import app
from nicegui.testing import User

from dashboard.security_headers import CONTENT_SECURITY_POLICY
from dashboard.session import SESSION_COOKIE
from engine.services import users
from tests.ui.ui_helpers import finish_sign_in, log_out

pytestmark = pytest.mark.nicegui_main_file('main.py')
ADMIN_PASSWORD = 'admin-password-1'


@pytest.fixture(autouse=True)
def provisioner_environment(tmp_path, monkeypatch):
    """Settings for the main.py the `user` fixture starts (autouse: set before it runs)."""
    for name in ('PROVISIONER_SECURE_COOKIES', 'PROVISIONER_SECRET_KEY'):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv('PROVISIONER_DATABASE_URL', f'sqlite:///{tmp_path / "ui.db"}')
    monkeypatch.setenv('PROVISIONER_DATA_DIR', str(tmp_path / 'data'))
    monkeypatch.setenv('PROVISIONER_ADMIN_PASSWORD', ADMIN_PASSWORD)
    monkeypatch.setenv('PROVISIONER_LOG_FORMAT', 'console')


def assert_hardened(headers) -> None:
    assert headers['content-security-policy'] == CONTENT_SECURITY_POLICY
    policy = dict(part.strip().split(' ', 1) for part in headers['content-security-policy'].split(';'))
    assert policy['frame-ancestors'] == "'none'"
    assert policy['default-src'] == "'self'" and policy['connect-src'] == "'self'"
    assert headers['x-content-type-options'] == 'nosniff'
    assert headers['referrer-policy'] == 'no-referrer'
    assert headers['x-frame-options'] == 'DENY'


async def test_headers_on_a_page_an_api_answer_an_error_and_the_ops_endpoints(user: User):
    for path in ('/login', '/api/v1/engines', '/api/v1/tenants/999', '/healthz', '/metrics'):
        answer = await user.http_client.get(path)
        assert answer.status_code < 500, (path, answer.text)
        assert_hardened(answer.headers)
    token = await user.http_client.post('/api/v1/auth/token', json={'username': 'admin', 'password': ADMIN_PASSWORD})
    assert token.status_code == 200
    assert_hardened(token.headers)


async def test_the_swagger_page_may_load_its_cdn_assets_but_not_be_framed(user: User):
    answer = await user.http_client.get('/api/v1/docs')
    assert answer.status_code == 200
    assert "frame-ancestors 'none'" in answer.headers['content-security-policy']
    assert answer.headers['x-content-type-options'] == 'nosniff'


async def test_session_cookie_is_httponly_and_samesite_lax_but_not_secure_on_plain_http(user: User):
    answer = await user.http_client.get('/login')
    cookie = answer.headers['set-cookie'].lower()
    assert cookie.startswith('session=')
    assert 'httponly' in cookie and 'samesite=lax' in cookie
    assert 'secure' not in cookie  # PROVISIONER_SECURE_COOKIES is off: the cookie must still work on http://


async def test_logging_out_ends_the_session_on_the_server(user: User):
    await user.open('/login')
    user.find('Username').type('admin')
    user.find('Password').type(ADMIN_PASSWORD)
    user.find('Sign in').click()
    await finish_sign_in(user)
    await user.should_see('admin (admin)')
    token = user.http_client.cookies[SESSION_COOKIE]
    assert users.user_for_token(app.state.db, token) is not None
    await log_out(user)
    await user.should_see('Sign in')
    assert users.user_for_token(app.state.db, token) is None  # a stolen cookie is worth nothing now
