"""Sign in and out."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui
from sqlalchemy.exc import DBAPIError

from dashboard import session
from dashboard.components import database_outage
from dashboard.redirect_target import safe_next
from engine.rate_limits import wait_message
from engine.services.users import AccountLocked, AuthenticationFailed, TooManyAttempts


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
        try:  # the same service and limiter as POST /api/v1/auth/token
            code = session.log_in(username.value, password.value, client=client)
        except TooManyAttempts as exc:
            error.set_text(wait_message('sign-in attempts', exc.retry_after_seconds))
            return
        except AccountLocked as exc:
            error.set_text(f'Too many failed sign-ins: try again in {exc.retry_after_seconds} seconds.')
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
        ui.navigate.to(session.finish_url(code, target))  # an HTTP request: it can set the cookies

    with ui.card().classes('absolute-center w-96'):
        ui.label('Provisioner').classes('text-2xl font-bold')
        username = ui.input('Username').props('autofocus autocomplete=username').classes('w-full')
        password = ui.input('Password', password=True).props('autocomplete=current-password').classes('w-full')
        password.on('keydown.enter', submit)
        error = ui.label('').classes('text-red-700')
        ui.button('Sign in', on_click=submit).classes('w-full')
    return None


@ui.page(session.FINISH_PATH)
def finish_sign_in_page(request: Request, code: str = '', next: str = '/') -> RedirectResponse:  # noqa: A002
    """The end of a sign-in (see dashboard.session): new cookies, then the page asked for."""
    target = safe_next(next)
    response = RedirectResponse(target, status_code=303)
    if session.finish_sign_in(request, code, response) or session.current_user() is not None:
        return response  # (a browser signed in already may open the link again: Back)
    return RedirectResponse(f'/login?next={quote(target, safe="")}', status_code=303)


@ui.page('/logout')
def logout_page(request: Request) -> RedirectResponse:
    response = RedirectResponse('/login', status_code=303)
    session.log_out(request, response)
    return response
