"""Where a sign-in may send the browser: only a path of this site (QA pass 8, finding 1: `/\\evil.example/`
got through, and browsers read it as `//evil.example/`)."""

from __future__ import annotations

import pytest
from nicegui.testing import User
from ui_helpers import ADMIN_PASSWORD, finish_sign_in

from dashboard.redirect_target import safe_next

pytestmark = pytest.mark.nicegui_main_file('main.py')


@pytest.mark.parametrize('target', ['/', '/users', '/tenants/3', '/tenants?status=FAILED&q=acme',
                                    '/audit#top', '/tenants/%5Cname'])
def test_a_path_of_this_site_is_kept(target: str) -> None:
    assert safe_next(target) == target


@pytest.mark.parametrize('target', [
    None, '', 'users', 'evil.example', '//evil.example/', '///evil.example/',
    '/\\evil.example/', '\\\\evil.example/', '\\/evil.example/', '/tenants\\..\\x',
    '/\t/evil.example/', '/\n/evil.example/', '/\r/evil.example', '/users\x00', '/users\x7f', '/\x85/evil.example',
    'https://evil.example/', 'http:/evil.example', 'javascript:alert(1)', ' /users',
])
def test_anything_else_becomes_the_overview(target: str | None) -> None:
    assert safe_next(target) == '/'


async def sign_in_with_next(user: User, next_query: str) -> None:
    await user.open(f'/login?next={next_query}')
    user.find('Username').type('admin')
    user.find('Password').type(ADMIN_PASSWORD)
    user.find('Sign in').click()
    await finish_sign_in(user)


async def test_signing_in_with_a_backslash_next_lands_on_the_overview(user: User) -> None:
    await sign_in_with_next(user, '%2F%5Cevil.example%2F')
    await user.should_see('admin (admin)', retries=50)
    await user.should_see('Overview')
    # Signed in, the login page sends the browser on at once: still to this site only.
    answer = await user.http_client.get('/login?next=%2F%5Cevil.example%2F', follow_redirects=False)
    assert answer.status_code in (302, 303, 307)
    assert answer.headers['location'] == '/'
    answer = await user.http_client.get('/login?next=%2Fusers', follow_redirects=False)
    assert answer.headers['location'] == '/users'
