"""The whole product in a real browser: sign in, create a tenant, provision it, watch the steps."""

from __future__ import annotations

from browser_helpers import ADMIN_PASSWORD


def sign_in(page, password: str = ADMIN_PASSWORD) -> None:
    page.open('/')
    page.should_see('Sign in')
    page.type('Username', 'admin')
    page.type('Password', password)
    page.click('Sign in')
    page.should_see('admin (admin)')


def test_sign_in(page):
    page.open('/')
    page.should_see('Sign in')
    page.screenshot('login')
    sign_in(page)
