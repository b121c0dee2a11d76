"""Sign in and out (how the two steps of a sign-in fit together: dashboard/session.py)."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from nicegui import app, ui
from sqlalchemy.exc import DBAPIError

from dashboard import session
from dashboard.components import database_outage
from dashboard.components.post_form import post_form
from dashboard.redirect_target import safe_next
from dashboard.same_origin import refused, same_origin
from engine.rate_limits import seconds_text, wait_message
from engine.services.users import AccountLocked, AuthenticationFailed, TooManyAttempts

MAX_FORM_BYTES = 4096  # a code is 43 characters: a bigger body is not our form


@ui.page('/login', title='Sign in · Provisioner')
def login_page(request: Request, next: str = '/') -> RedirectResponse | None:  # noqa: A002 (query name)
    target = safe_next(next)
    if session.current_user() is not None:
        return RedirectResponse(target)
    client = request.client.host if request.client else None

    def submit() -> None:
        error.set_text('')
        if not username.value or not password.value:
            error.set_text('Enter your username and password.')
            return
        try:  # the same limiter and checks as POST /api/v1/auth/token
            code = session.log_in(username.value, password.value, client=client, target=target)
        except TooManyAttempts as exc:
            error.set_text(wait_message('sign-in attempts', exc.retry_after_seconds))
            return
        except AccountLocked as exc:
            error.set_text(f'Too many failed sign-ins: try again in {seconds_text(exc.retry_after_seconds)}.')
            password.set_value('')
            return
        except AuthenticationFailed:
            error.set_text('Wrong username or password.')
            password.set_value('')
            return
        except DBAPIError as exc:
            if not database_outage.lost(exc, path='/login'):
                raise
            error.set_text(database_outage.SIGN_IN_LATER)
            return
        finish.submit(code=code)  # an HTTP request: its answer can set the cookies

    with ui.card().classes('absolute-center w-96'):
        ui.label('Provisioner').classes('text-2xl font-bold')
        username = ui.input('Username').props('autofocus autocomplete=username').classes('w-full')
        password = ui.input('Password', password=True).props('autocomplete=current-password').classes('w-full')
        password.on('keydown.enter', submit)
        error = ui.label('').classes('text-red-700')
        ui.button('Sign in', on_click=submit).classes('w-full')
        finish = post_form(session.FINISH_PATH, 'code').mark('finish-sign-in')
    return None


@app.post(session.FINISH_PATH, include_in_schema=False)
async def finish_sign_in(request: Request) -> Response:
    """The end of a sign-in (see dashboard.session): new cookies, then the page asked for. A code
    that does not check out signs nothing in and goes back to the form."""
    if not same_origin(request):
        return refused(request)
    code = await _form_field(request, 'code')
    if (signed_in := await session.finish_sign_in(request, code)) is not None:
        return signed_in
    if await session.user_of_request(request) is not None:  # signed in already (a form posted twice)
        return RedirectResponse('/', status_code=303)
    return RedirectResponse('/login', status_code=303)


@ui.page(session.LOGOUT_PATH, title='Log out · Provisioner')
def logout_page() -> RedirectResponse | None:
    """Opening the address signs nothing out (any page could make a browser open it): it asks."""
    user = session.current_user()
    if user is None:
        return RedirectResponse('/login')
    with ui.card().classes('absolute-center w-96'):
        ui.label(f'Log out {user.username}?').classes('text-xl font-semibold')
        with ui.row().classes('w-full justify-end'):
            ui.link('Cancel', '/').classes('self-center')
            form = post_form(session.LOGOUT_PATH).mark('log-out-form')
            ui.button('Log out', on_click=lambda: form.submit()).mark('log-out-confirm')
    return None


@app.post(session.LOGOUT_PATH, include_in_schema=False)
async def log_out(request: Request) -> Response:  # async: on the loop, like NiceGUI's storage it changes
    if not same_origin(request):  # (the token's revocation runs off the loop: see session.log_out)
        return refused(request)
    response = RedirectResponse('/login', status_code=303)
    await session.log_out(request, response)
    return response


async def _form_field(request: Request, name: str) -> str:
    """The one value of `name` in a small url-encoded form body; '' when it is absent, repeated, or
    the body is too big or not such a form (read no further than MAX_FORM_BYTES)."""
    body = b''
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return ''
    try:
        values = parse_qs(body.decode('ascii'), max_num_fields=4).get(name, [])
    except (UnicodeDecodeError, ValueError):
        return ''
    return values[0] if len(values) == 1 else ''
