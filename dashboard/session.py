"""Who is looking at a page: the browser session holds a server-side token (the same kind the API
uses, named "ui session"), so logging out or deactivating a user ends the session at once."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import app, ui

from engine.services import users
from storage.db import Database
from storage.tables import Role, User

SESSION_TTL = timedelta(hours=12)
ANY_ROLE = frozenset(Role)
SUPPORT_PLUS = frozenset({Role.SUPPORT, Role.ADMIN})
MANAGER_PLUS = frozenset({Role.MANAGER, Role.ADMIN})
ADMIN_ONLY = frozenset({Role.ADMIN})


def database() -> Database:
    return app.state.db


def current_user() -> User | None:
    token = app.storage.user.get('token')
    return users.user_for_token(database(), token) if token else None


def log_in(username: str, password: str, *, client: str | None) -> User:
    """Check the credentials (AuthenticationFailed / AccountLocked) and open a session: the same
    service and the same limiter as the REST token endpoint."""
    signed_in = users.sign_in(database(), app.state.process.login_limiter, username, password, client=client,
                              token_name='ui session', ttl=SESSION_TTL)
    app.storage.user['token'] = signed_in.token
    return signed_in.user


def log_out() -> None:
    token = app.storage.user.pop('token', None)
    user = users.user_for_token(database(), token) if token else None
    if token:
        users.revoke_token(database(), token, actor=user.username if user else 'unknown')


def may(user: User | None, roles: frozenset[Role]) -> bool:
    """Whether `user` holds one of `roles` (the UI hides what this says no to; the services refuse it too)."""
    return user is not None and user.role in roles


def guarded_page(path: str, *, title: str, roles: frozenset[Role] = ANY_ROLE) -> Callable:
    """`@ui.page` that requires a logged-in user with one of `roles` and draws the common frame.

    The decorated function receives the user as its first argument, then its path parameters.
    Anonymous visitors are sent to /login (and back afterwards); a wrong role sees a refusal.
    """
    from dashboard.components.frame import forbidden, frame  # the frame imports this module

    def decorate(build: Callable) -> Callable:
        signature = inspect.signature(build)
        params = [p for name, p in signature.parameters.items() if name != 'user']
        wants_request = 'request' in signature.parameters

        @functools.wraps(build)
        async def page(request: Request, **kwargs):
            user = current_user()
            if user is None:
                target = request.url.path + (f'?{request.url.query}' if request.url.query else '')
                return RedirectResponse(f'/login?next={quote(target, safe="")}')
            with frame(title, user):
                if user.role not in roles:
                    forbidden(user)
                    return None
                if wants_request:
                    kwargs['request'] = request
                result = build(user, **kwargs)
                if inspect.isawaitable(result):
                    await result
            return None

        if not wants_request:
            params.insert(0, inspect.Parameter('request', inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                               annotation=Request))
        page.__signature__ = signature.replace(parameters=params)
        del page.__wrapped__  # NiceGUI must see the signature above, not the builder's
        return ui.page(path, title=f'{title} · Provisioner')(page)

    return decorate
