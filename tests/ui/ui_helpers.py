"""Signing in through the real login form, as any role, and out again.

The simulated `User` runs no JavaScript, so where the browser would submit one of the page's hidden
forms (dashboard/components/post_form.py: the sign-in's one-time code, the sign-out), `post_page_form`
posts what the form holds, from this site's Origin, and opens the page the answer redirects to."""

from __future__ import annotations

import asyncio

import httpx
from nicegui import app
from nicegui.testing import User

from engine.services import users
from engine.validation import UserCreate

ADMIN_PASSWORD = 'admin-password-1'
PASSWORD = 'a-long-password-1'


def ensure_user(username: str, role: str) -> None:
    if username == 'admin':
        return
    if not any(u.username == username for u in users.list_users(app.state.db)):
        users.create_user(app.state.db, UserCreate(username=username, password=PASSWORD, role=role), actor='tests')


SIGN_IN_RETRIES = 50  # 5 s


async def sign_in(user: User, role: str = 'admin', *, next_path: str = '/') -> None:
    """Open `next_path`, get sent to the login form, sign in as a user of `role`, land back."""
    username = 'admin' if role == 'admin' else role
    ensure_user(username, role)
    await user.open(next_path)
    await user.should_see('Sign in', retries=SIGN_IN_RETRIES)
    user.find('Username').type(username)
    user.find('Password').type(ADMIN_PASSWORD if username == 'admin' else PASSWORD)
    user.find('Sign in').click()
    await finish_sign_in(user)
    # the password check (argon2) and the next page take longer than NiceGUI's 0.3 s under load
    await user.should_see(f'{username} ({role})', retries=SIGN_IN_RETRIES)


SITE = 'http://test'  # the simulated browser's origin (the `user` fixture's base URL)


async def finish_sign_in(user: User, *, origin: str = SITE) -> httpx.Response:
    """What the login page's browser does once the password checked out: post the one-time code."""
    return await post_page_form(user, 'finish-sign-in', origin=origin, wait_for='code')


async def log_out(user: User, *, origin: str = SITE) -> httpx.Response:
    """Click the header's Log out, then post its form as the browser would."""
    user.find('Log out').click()
    return await post_page_form(user, 'log-out-form', origin=origin)


async def post_page_form(user: User, marker: str, *, origin: str = SITE, wait_for: str | None = None
                         ) -> httpx.Response:
    """Post the page's form marked `marker` (once its field `wait_for` holds a value) and, when the
    answer redirects, go to that page as `ui.navigate.to` does in the simulation (in the background:
    wait for what it shows with `should_see`); the answer."""
    action, fields = await form_fields(user, marker, wait_for=wait_for)
    answer = await user.http_client.post(action, data=fields, headers={'Origin': origin}, follow_redirects=False)
    if answer.status_code == 303:
        user.navigate.to(answer.headers['location'])
    return answer


async def form_fields(user: User, marker: str, *, wait_for: str | None = None) -> tuple[str, dict[str, str]]:
    """The action and the fields of the page's form marked `marker`, once its field `wait_for` is filled."""
    for _ in range(SIGN_IN_RETRIES):
        form = next(iter(user.find(marker=marker).elements))
        fields = {child.props['name']: child.props.get('value', '') for child in form.default_slot.children}
        if wait_for is None or fields.get(wait_for):
            return form.props['action'], fields
        await asyncio.sleep(0.1)
    raise AssertionError(f'the form {marker!r} was never filled in')
