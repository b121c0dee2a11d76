"""Who is looking at a page: the browser holds a server-side token (the same kind the API uses,
named "ui session") in an HttpOnly cookie, so logging out or deactivating a user ends the session at once.

A sign-in runs on the login page's websocket, which cannot set a cookie. So it ends on an HTTP
request: `log_in` checks the password and keeps, in NiceGUI's user storage (a file on the server),
only what finishing needs: the digest of a one-time code that only that browser tab learns, the
user's id, the deadline and the page to go to. The tab then posts the code to FINISH_PATH (in the
body, never in the URL), whose answer creates the token (the user checked again: still there,
active, not locked), sets its cookie and a new NiceGUI session id. No token exists before that,
so none is ever in the storage file, and a cookie planted in the browser before the sign-in is worth
nothing after it (session fixation). Signing out is a POST as well (FINISH_PATH and LOGOUT_PATH
refuse posts from other sites: dashboard/same_origin.py).

An open page keeps the user it was built for, but it never acts as that user: every action asks
`acting(roles)` at the moment it acts, which reads the user of the page's token again (signed out
or deactivated: nobody) and checks their current role; the frame looks the token up every few
seconds too (dashboard/components/frame.py) and reloads a page whose session ended or whose role
changed. Either also ends the page on the server (`end_page`): a browser that ignores the reload
gets nothing more. The database work of signing in and out runs off the event loop (on SQLite it may
wait for the write turn); NiceGUI's storage is read and changed on the loop."""

from __future__ import annotations

import asyncio
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
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from nicegui import Client, app, context, run, ui

from dashboard.components.notify import notify
from engine.services import users
from storage.db import Database
from storage.tables import Role, User

SESSION_TTL = timedelta(hours=12)
SESSION_COOKIE = 'provisioner_session'  # the sign-in token; NiceGUI's own cookie is `session`
FINISH_PATH = '/login/finish'
LOGOUT_PATH = '/logout'
HANDOFF_SECONDS = 60  # from the password check to FINISH_PATH (one form post, normally milliseconds)
_PENDING = 'sign_in'  # the key in app.storage.user of a sign-in waiting for FINISH_PATH
MAX_CODE_LENGTH = 100
ANY_ROLE = frozenset(Role)
SUPPORT_PLUS = frozenset({Role.SUPPORT, Role.ADMIN})
MANAGER_PLUS = frozenset({Role.MANAGER, Role.ADMIN})
ADMIN_ONLY = frozenset({Role.ADMIN})
REFUSED_RELOAD_S = 2.0  # how long a refused action's one line shows before its page reloads
PAGE_END_FLUSH_S = 1.0  # how long an ended page's reload message may take to leave before the page is deleted


def database() -> Database:
    return app.state.db


def current_user() -> User | None:
    """The user of the page's browser (its token cookie), or None."""
    request = context.client.request
    return user_of(request) if request is not None else None


def user_of(request: Request) -> User | None:
    """The user whose live token the request's cookie holds, or None."""
    token = request.cookies.get(SESSION_COOKIE)
    return users.user_for_token(database(), token) if token else None


def log_in(username: str, password: str, *, client: str | None, target: str) -> str:
    """Check the credentials (AuthenticationFailed / AccountLocked / TooManyAttempts: the same limiter
    and checks as the REST token endpoint) and keep a sign-in that waits for `finish_sign_in`.

    Returns the one-time code this browser tab is to post to FINISH_PATH; `target` is where the
    browser goes once signed in (a safe path: dashboard/redirect_target.py)."""
    user = users.check_password(database(), app.state.process.login_limiter, username, password, client=client)
    code = secrets.token_urlsafe(32)
    app.storage.user[_PENDING] = {'code': _digest(code), 'user_id': user.id,
                                  'until': time.time() + HANDOFF_SECONDS, 'next': target}
    return code


async def finish_sign_in(request: Request, code: str) -> RedirectResponse | None:
    """On FINISH_PATH: the redirect to the sign-in's target that gives the browser a new token (its
    cookie) and a new NiceGUI session id. None, and nothing signed in, for a code that is not this
    browser's pending one, one past HANDOFF_SECONDS, or a user deactivated or locked meanwhile; a
    code is good once only. NiceGUI's storage is read and changed on the event loop (its writes are
    scheduled there); the token is made off it (on SQLite it may wait for the database's write turn)."""
    pending = _pending()
    if pending is None or not code or len(code) > MAX_CODE_LENGTH \
            or not hmac.compare_digest(pending['code'], _digest(code)):
        return None
    del app.storage.user[_PENDING]
    if time.time() > pending['until']:
        return None
    client = request.client.host if request.client else None
    signed_in = await run.io_bound(users.open_session, database(), pending['user_id'], client=client,
                                   token_name='ui session', ttl=SESSION_TTL)
    if signed_in is None:  # also None from NiceGUI while the app stops
        return None
    response = RedirectResponse(pending['next'], status_code=303)
    response.set_cookie(SESSION_COOKIE, signed_in.token, max_age=int(SESSION_TTL.total_seconds()), **_cookie_flags())
    _new_session_id(request)
    return response


async def user_of_request(request: Request) -> User | None:
    """`user_of`, off the event loop: for an HTTP route."""
    return await run.io_bound(user_of, request)


async def log_out(request: Request, response: Response) -> None:
    """End the browser's session: the token is revoked (off the event loop), its cookie deleted, the
    session id new (NiceGUI's storage changed on the loop)."""
    if token := request.cookies.get(SESSION_COOKIE):
        await run.io_bound(_revoke, token)
    app.storage.user.pop(_PENDING, None)
    response.delete_cookie(SESSION_COOKIE, **_cookie_flags())
    _new_session_id(request)


def _pending() -> dict[str, Any] | None:
    """This browser's sign-in waiting for FINISH_PATH, or None (also for an entry of another shape)."""
    pending = app.storage.user.get(_PENDING)
    shape = {'code': str, 'user_id': int, 'until': (int, float), 'next': str}
    if not isinstance(pending, dict) or not all(isinstance(pending.get(k), t) for k, t in shape.items()):
        return None
    return pending


def _cookie_flags() -> dict[str, Any]:
    return {'path': '/', 'httponly': True, 'samesite': 'lax', 'secure': app.state.settings.secure_cookies}


def _new_session_id(request: Request) -> None:
    """A new id in NiceGUI's `session` cookie (it keys app.storage.user): whoever knew the old one
    holds nothing. NiceGUI's middleware makes the new id's storage on the browser's next request, so
    this request must not use app.storage.user after this."""
    request.session['id'] = str(uuid.uuid4())


def _revoke(token: str) -> None:
    user = users.user_for_token(database(), token)
    users.revoke_token(database(), token, actor=user.username if user else 'unknown')


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def may(user: User | None, roles: frozenset[Role]) -> bool:
    """Whether `user` holds one of `roles`: what a page shows (its navigation, its buttons). It guards
    nothing: the services do not check roles. What does is the REST API's role check on every request
    (dashboard/api/deps.py) and, in the dashboard, `acting`, which each action asks when it acts."""
    return user is not None and user.role in roles


async def acting(roles: frozenset[Role]) -> User | None:
    """Who does a dashboard action now: the page's user read again at this moment (its token looked up
    live: signed out, expired, deactivated or deleted is nobody), when their current role is one of
    `roles` (those the action's REST route requires). Otherwise None, and the caller does nothing: the
    page says why in one line, then reloads after REFUSED_RELOAD_S (into the sign-in page, or the page
    as the current role sees it). The actor a service gets is the name of the user this answers.

        if (user := await acting(SUPPORT_PLUS)) is None:
            return
        await run.io_bound(runs.request_provision, db, tenant_id, actor=user.username)
    """
    user = await live_user()
    if app.is_stopping:  # NiceGUI answers None then: no one to tell
        return None
    if user is not None and user.role in roles:
        return user
    with context.client:  # the element that called may be gone by now (a dialog, a redrawn row)
        notify('You were signed out: nothing was done.' if user is None else
               f'Your role no longer allows this: you are now a {user.role}.', type='warning')
        stop_timers(context.client)  # nothing more goes to the page, even if its browser ignores the reload
        page = context.client
        ui.timer(REFUSED_RELOAD_S, lambda: end_page(page), once=True)
    return None


def stop_timers(client: Client) -> None:
    """Cancel every timer of the page (its refreshes of tenants, alerts, forms)."""
    for element in list(client.elements.values()):
        if isinstance(element, ui.timer):
            element.cancel()


async def end_page(client: Client) -> None:
    """A page whose session ended or whose role changed: tell its browser to reload (into the sign-in
    page, or the page as the new role sees it), then delete it on the server: its timers stop, its
    elements go, its events are ignored, so a browser that ignores the reload learns nothing more.
    The reload is a message in the page's outbox: it gets up to PAGE_END_FLUSH_S to go out first."""
    if client.is_deleted:
        return
    with client:
        ui.navigate.reload()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PAGE_END_FLUSH_S
    while client.outbox.messages and client.has_socket_connection and loop.time() < deadline:
        await asyncio.sleep(0.05)
    if client.has_socket_connection:
        await asyncio.sleep(0.05)  # the outbox empties its queue first, then sends what it took
    if not client.is_deleted:
        client.delete()  # last: it cancels the timer callback that may be running this


async def live_user() -> User | None:
    """The user of the page's token as the database has it now (one token look-up, off the event
    loop), or None: no token, or one revoked (signed out), expired, of a deactivated or deleted user."""
    request = context.client.request
    token = request.cookies.get(SESSION_COOKIE) if request is not None else None
    return await run.io_bound(users.user_for_token, database(), token) if token else None


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
