"""Every API error is JSON `{"detail": ...}` with the right status, and bad input never becomes 500.

Status per error: service errors as engine/validation.py draws them (AccountLocked → 429 with
Retry-After, AuthenticationFailed → 401), request validation → 422 with readable
`field: message` lines (also listed in `errors`), a body over the cap → 413 (body_limit.py), a
body that is not valid JSON or repeats a key → 422 `body: …` (json_body.py).
A lost database (storage/availability.py: refused, restarted, locked for too long) is a 503 with
Retry-After and one warning line, never a 500. Under /api/ an unexpected exception becomes a JSON
500; elsewhere (NiceGUI pages) the handlers installed before ours keep working. A request whose
client went away before it was answered is no error at all: one debug line, no traceback
(client_gone.py).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

import structlog

from fastapi import FastAPI, Request, status
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from dashboard.api.body_limit import MAX_BODY_BYTES, ApiBodyLimitMiddleware, size_in_words
from dashboard.api.client_gone import ClientGoneMiddleware
from dashboard.api.json_body import JsonBodyCheckMiddleware, UnreadableBody
from dashboard.not_found import not_found
from engine.services.users import AccountLocked, AuthenticationFailed
from engine.validation import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    ServiceError,
    describe_errors,
)
from storage.availability import RETRY_AFTER_SECONDS, UNREACHABLE_MESSAGE, database_unreachable, first_line

log = structlog.get_logger('api')
API_PREFIX = '/api/'


class FieldError(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    """Every error answer of the API: `detail` in words; `errors` per field for invalid input."""

    detail: str
    errors: list[FieldError] | None = None


# Declared on the API router, so the OpenAPI document shows the bodies these handlers really send
# (instead of FastAPI's default 422 body, whose `detail` is a list).
ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    422: {'model': ErrorBody, 'description': 'invalid input'},
    '4XX': {'model': ErrorBody, 'description': 'refused: 401 sign in, 403 role, 404 unknown id, 409 conflict, '
                                               f'413 body larger than {size_in_words(MAX_BODY_BYTES)}, '
                                               '429 rate limited (see Retry-After)'},
    503: {'model': ErrorBody, 'description': 'the database is unreachable for now: try again after Retry-After '
                                             'seconds'},
}
Handler = Callable[[Request, Exception], Awaitable[Response]]
PagesHandler = Callable[[Request, Exception, Handler | None], Awaitable[Response]]

STATUS_BY_ERROR: tuple[tuple[type[ServiceError], int], ...] = (
    (AccountLocked, status.HTTP_429_TOO_MANY_REQUESTS),
    (AuthenticationFailed, status.HTTP_401_UNAUTHORIZED),
    (NotFound, status.HTTP_404_NOT_FOUND),
    (Conflict, status.HTTP_409_CONFLICT),
    (InvalidInput, status.HTTP_422_UNPROCESSABLE_CONTENT),
    (PermissionDenied, status.HTTP_403_FORBIDDEN),
)


def install_error_handlers(app: FastAPI) -> None:
    """Install the API's handlers and its body cap (413, body_limit.py), and let a request whose
    client went away end quietly (client_gone.py); safe to call again (main.py runs once per
    NiceGUI test)."""
    if not any(layer.cls is ApiBodyLimitMiddleware for layer in app.user_middleware):
        # Added first, so it runs inside the cap: it never sees more than the cap lets through.
        app.add_middleware(JsonBodyCheckMiddleware, prefix=API_PREFIX)
        app.add_middleware(ApiBodyLimitMiddleware, prefix=API_PREFIX)
        # Around those, but inside NiceGUI's middlewares, which ui.run adds later.
        app.add_middleware(ClientGoneMiddleware)
    app.add_exception_handler(ServiceError, service_error_handler)
    _install_for_api(app, RequestValidationError, validation_error_handler,
                     request_validation_exception_handler)
    _install_for_api(app, 404, http_error_handler, http_exception_handler, pages=not_found)
    _install_for_api(app, StarletteHTTPException, http_error_handler, http_exception_handler)
    _install_for_api(app, DBAPIError, database_error_handler, None)
    _install_for_api(app, Exception, internal_error_handler, None)


async def service_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    code = next((code for kind, code in STATUS_BY_ERROR if isinstance(exc, kind)),
                status.HTTP_400_BAD_REQUEST)
    content: dict[str, object] = {'detail': exc.message}
    headers = {}
    if isinstance(exc, AccountLocked):
        headers['Retry-After'] = str(exc.retry_after_seconds)
    if isinstance(exc, InvalidInput):
        content['errors'] = [{'field': exc.field, 'message': exc.message.removeprefix(f'{exc.field}: ')}]
    return JSONResponse(content, status_code=code, headers=headers)


async def validation_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    pairs = describe_errors(list(exc.errors()))
    content = {'detail': '; '.join(f'{field}: {message}' for field, message in pairs),
               'errors': [{'field': field, 'message': message} for field, message in pairs]}
    return JSONResponse(content, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


# FastAPI's answer to a body it failed to parse for a reason json_body.py does not foresee.
FASTAPI_PARSE_ERROR = 'There was an error parsing the body'


async def http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == status.HTTP_400_BAD_REQUEST and exc.detail == FASTAPI_PARSE_ERROR:
        exc = UnreadableBody('is not valid JSON')
    if isinstance(exc, UnreadableBody):
        return JSONResponse({'detail': exc.detail, 'errors': [{'field': 'body', 'message': exc.message}]},
                            status_code=exc.status_code)
    return JSONResponse({'detail': exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def database_error_handler(request: Request, exc: Exception) -> Response:
    """A lost database → 503 with Retry-After and one warning line; any other database error goes on
    to the 500 handler (which logs its traceback)."""
    if not database_unreachable(exc):
        raise exc
    log.warning('api.database_unreachable', method=request.method, path=request.url.path, error=first_line(exc))
    return JSONResponse({'detail': UNREACHABLE_MESSAGE}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
                        headers={'Retry-After': str(RETRY_AFTER_SECONDS)})


async def internal_error_handler(request: Request, exc: Exception) -> Response:
    # Starlette logs and re-raises the exception after sending this answer.
    return JSONResponse({'detail': 'internal error: the operator can find the cause in the server log'},
                        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR)


def _install_for_api(app: FastAPI, key: int | type[Exception], api_handler: Handler,
                     default: Handler | None, *, pages: PagesHandler | None = None) -> None:
    """Use `api_handler` under /api/, and whatever handled `key` before everywhere else (or `pages`,
    given that previous handler to fall back on)."""
    previous = app.exception_handlers.get(key)
    previous = getattr(previous, 'provisioner_previous', previous) or default

    async def handler(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith(API_PREFIX):
            return await api_handler(request, exc)
        if pages is not None:
            return await pages(request, exc, previous)
        if previous is None:
            raise exc
        answer = previous(request, exc)
        return await answer if inspect.isawaitable(answer) else answer

    handler.provisioner_previous = previous  # type: ignore[attr-defined]
    app.add_exception_handler(key, handler)
