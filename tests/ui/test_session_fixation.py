"""A sign-in gives the browser new cookies (QA pass 8, finding 2: the `session` cookie kept its value
across the sign-in and held the sign-in, so a cookie planted before it was signed in too).

Over HTTP with httpx against the app: the `user` fixture's client is the victim's browser, a second
client holding the cookies of before the sign-in is the attacker's."""

from __future__ import annotations

from contextlib import asynccontextmanager

import httpx
import pytest
from nicegui import app
from nicegui.testing import User
from ui_helpers import ADMIN_PASSWORD, SITE, finish_sign_in, form_fields, log_out

from dashboard.session import SESSION_COOKIE

pytestmark = pytest.mark.nicegui_main_file('main.py')

ADMIN_PAGE = '/users'


@asynccontextmanager
async def browser_with(cookies: dict[str, str]):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url='http://test',
                                 cookies=cookies) as client:
        yield client


async def signed_in(client: httpx.AsyncClient) -> bool:
    answer = await client.get(ADMIN_PAGE, follow_redirects=False)
    assert answer.status_code in (200, 307), answer.text[:300]
    return answer.status_code == 200


async def sign_in_on_the_form(user: User) -> None:
    await user.open('/login')
    user.find('Username').type('admin')
    user.find('Password').type(ADMIN_PASSWORD)
    user.find('Sign in').click()
    await finish_sign_in(user)
    await user.should_see('admin (admin)', retries=50)


async def test_a_cookie_planted_before_the_sign_in_is_not_signed_in_after_it(user: User) -> None:
    await user.open('/login')
    planted = dict(user.http_client.cookies)  # what an attacker could have set in the victim's browser
    assert 'session' in planted

    await sign_in_on_the_form(user)

    assert await signed_in(user.http_client)
    async with browser_with(planted) as attacker:
        assert not await signed_in(attacker)
    assert user.http_client.cookies['session'] != planted['session']  # a new session id
    token_cookie = next(c for c in user.http_client.cookies.jar if c.name == SESSION_COOKIE)
    assert token_cookie.has_nonstandard_attr('HttpOnly') and token_cookie.get_nonstandard_attr('SameSite') == 'lax'
    assert not token_cookie.secure  # PROVISIONER_SECURE_COOKIES is off: it must still work on http://


async def test_the_sign_in_ends_once_only(user: User) -> None:
    await user.open('/login')
    planted = dict(user.http_client.cookies)
    user.find('Username').type('admin')
    user.find('Password').type(ADMIN_PASSWORD)
    user.find('Sign in').click()
    finish, fields = await form_fields(user, 'finish-sign-in', wait_for='code')
    await finish_sign_in(user)
    await user.should_see('admin (admin)', retries=50)

    async with browser_with(planted) as attacker:  # the same code a second time, from the old session
        again = await attacker.post(finish, data=fields, headers={'Origin': SITE}, follow_redirects=False)
        assert again.status_code == 303 and again.headers['location'] == '/login'
        assert not await signed_in(attacker)
        guessed = await attacker.post(finish, data={'code': 'guess'}, headers={'Origin': SITE},
                                      follow_redirects=False)
        assert guessed.headers['location'] == '/login'
        assert not await signed_in(attacker)
    assert await signed_in(user.http_client)


async def test_signing_out_gives_a_new_session_id_and_ends_the_old_one(user: User) -> None:
    await sign_in_on_the_form(user)
    before = dict(user.http_client.cookies)

    await log_out(user)
    await user.should_see('Sign in')

    assert user.http_client.cookies['session'] != before['session']
    assert not await signed_in(user.http_client)
    async with browser_with(before) as stolen:
        assert not await signed_in(stolen)
