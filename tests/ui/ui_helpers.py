"""Signing in through the real login form, as any role."""

from __future__ import annotations

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
    # the password check (argon2) and the next page take longer than NiceGUI's 0.3 s under load
    await user.should_see(f'{username} ({role})', retries=SIGN_IN_RETRIES)
