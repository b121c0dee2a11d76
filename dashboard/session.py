"""Who is looking at a page: the browser holds a server-side token (the same kind the API uses,
named "ui session") in an HttpOnly cookie, so logging out or deactivating a user ends the session at once.

A sign-in runs on the login page's websocket, which cannot set a cookie. So it ends on an HTTP
request: `log_in` checks the password and keeps the new token in NiceGUI's user storage under a
one-time code that only that browser tab learns; the tab then opens FINISH_PATH with the code, whose
answer sets the token cookie and a new NiceGUI session id. Nothing is signed in before that, and a
cookie planted in the browser before the sign-in is worth nothing after it (session fixation)."""

from __future__ import annotations

import functools
import hashlib
import hmac
import inspect
import secrets
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from nicegui import app, context, ui

from engine.services import users
from storage.db import Database
from storage.tables import Role, User

SESSION_TTL = timedelta(hours=12)
SESSION_COOKIE = 'provisioner_session'  # the sign-in token; NiceGUI's own cookie is `session`
FINISH_PATH = '/login/finish'
HANDOFF_SECONDS = 60  # from the password check to FINISH_PATH (one redirect, normally milliseconds)
_PENDING = 'sign_in'  # the key in app.storage.user of a sign-in waiting for FINISH_PATH
MAX_CODE_LENGTH = 100
ANY_ROLE = frozenset(Role)
SUPPORT_PLUS = frozenset({Role.SUPPORT, Role.ADMIN})
MANAGER_PLUS = frozenset({Role.MANAGER, Role.ADMIN})
ADMIN_ONLY = frozenset({Role.ADMIN})


def database() -> Database:
    return app.state.db


def current_user() -> User | None:
    """The user of the page's browser (its token cookie), or None."""
    request = context.client.request
    token = request.cookies.get(SESSION_COOKIE) if request is not None else None
    return users.user_for_token(database(), token) if token else None


def log_in(username: str, password: str, *, client: str | None) -> str:
    """Check the credentials (AuthenticationFailed / AccountLocked / TooManyAttempts: the same service
    and the same limiter as the REST token endpoint) and open a session that waits for `finish_sign_in`.

    Returns the one-time code to send this browser tab to (`finish_url`)."""
    signed_in = users.sign_in(database(), app.state.process.login_limiter, username, password, client=client,
                              token_name='ui session', ttl=SESSION_TTL)
    _drop_pending()  # an earlier sign-in of this browser that never finished
    code = secrets.token_urlsafe(32)
    app.storage.user[_PENDING] = {'code': _digest(code), 'token': signed_in.token,
                                  'until': time.time() + HANDOFF_SECONDS}
    return code


def finish_url(code: str, target: str) -> str:
    return f'{FINISH_PATH}?{urlencode({"code": code, "next": target})}'


def finish_sign_in(request: Request, code: str, response: Response) -> bool:
    """On FINISH_PATH: give the browser the session `log_in` opened (the token cookie on `response`)
    and a new NiceGUI session id. False, and nothing changes, for a code that is not this browser's
    pending one; a pending one past HANDOFF_SECONDS is revoked."""
    pending = app.storage.user.get(_PENDING)
    if not isinstance(pending, dict) or not code or len(code) > MAX_CODE_LENGTH \
            or not hmac.compare_digest(pending['code'], _digest(code)):
        return False
    del app.storage.user[_PENDING]
    if time.time() > pending['until']:
        _revoke(pending['token'])
        return False
    response.set_cookie(SESSION_COOKIE, pending['token'], max_age=int(SESSION_TTL.total_seconds()),
                        **_cookie_flags())
    _new_session_id(request)
    return True


def log_out(request: Request, response: Response) -> None:
    """End the browser's session: the token is revoked, its cookie deleted, the session id new."""
    if token := request.cookies.get(SESSION_COOKIE):
        _revoke(token)
    _drop_pending()
    response.delete_cookie(SESSION_COOKIE, **_cookie_flags())
    _new_session_id(request)


def _cookie_flags() -> dict[str, Any]:
    return {'path': '/', 'httponly': True, 'samesite': 'lax', 'secure': app.state.settings.secure_cookies}


def _new_session_id(request: Request) -> None:
    """A new id in NiceGUI's `session` cookie (it keys app.storage.user): whoever knew the old one
    holds nothing. NiceGUI's middleware makes the new id's storage on the browser's next request, so
    this request must not use app.storage.user after this."""
    request.session['id'] = str(uuid.uuid4())


def _drop_pending() -> None:
    if isinstance(pending := app.storage.user.pop(_PENDING, None), dict):
        _revoke(pending['token'])


def _revoke(token: str) -> None:
    user = users.user_for_token(database(), token)
    users.revoke_token(database(), token, actor=user.username if user else 'unknown')


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


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
