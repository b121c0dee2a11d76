"""Signing in and out in a real Chromium: the login page posts its one-time code in a hidden form
(never in the URL), the header's Log out posts to /logout, and opening /logout only asks."""

from __future__ import annotations

from browser_helpers import ADMIN_PASSWORD


def sign_in(page, path: str = '/') -> None:
    page.open(path)
    page.should_see('Sign in')
    page.type('Username', 'admin')
    page.type('Password', ADMIN_PASSWORD)
    page.click('Sign in')
    page.should_see('admin (admin)')


def test_sign_in_then_log_out_with_the_header_button(page):
    sign_in(page, '/users')
    page.should_see('Reset password')
    assert page.driver.current_url.endswith('/users')  # the page asked for, and no code in the address

    page.click('Log out')

    page.should_see('Sign in')
    assert page.driver.current_url.endswith('/login')
    page.open('/users')
    page.should_see('Sign in')  # the token was revoked: this browser is signed out


def test_opening_logout_asks_and_its_button_logs_out(page):
    sign_in(page)

    page.open('/logout')
    page.should_see('Log out admin?')
    page.open('/')
    page.should_see('admin (admin)')  # opening the address signed nothing out

    page.open('/logout')
    page.should_see('Log out admin?')
    page.click('Log out')
    page.should_see('Sign in')
    page.open('/')
    page.should_see('Sign in')
