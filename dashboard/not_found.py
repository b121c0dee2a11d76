"""The page a browser gets for an address the dashboard does not have: "Page not found" and a way home,
instead of NiceGUI's default page, which shows the exception ("HTTPException: 404: Not Found").

An endpoint that is not a page (a static file, an API route outside /api/) keeps its plain answer:
only what NiceGUI would have answered with its HTML error page gets this one.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

import structlog
from fastapi import Request, Response
from nicegui import Client, app, ui
from nicegui.page import page
from starlette.exceptions import HTTPException as StarletteHTTPException

log = structlog.get_logger('ui')
Handler = Callable[[Request, Exception], Awaitable[Response] | Response]


async def not_found(request: Request, exc: Exception, previous: Handler | None) -> Response:
    """A friendly 404 page for a browser's unknown address; anything else as `previous` answers it."""
    if not _is_unknown_page(request, exc):
        if previous is None:
            raise exc
        answer = previous(request, exc)
        return await answer if inspect.isawaitable(answer) else answer
    log.info('ui.page_not_found', path=request.url.path)
    with Client(page(''), request=request) as client:
        with ui.column().classes('w-full items-center gap-4 py-20').mark('page-not-found'):
            ui.label('404').classes('text-6xl text-gray-400')
            ui.label('Page not found').classes('text-2xl font-semibold')
            ui.label(f'There is no page at {request.url.path}.').classes('text-gray-600 break-all')
            ui.link('Go to the Overview', '/').classes('text-lg').mark('page-not-found-home')
    return client.build_response(request, 404)


def _is_unknown_page(request: Request, exc: Exception) -> bool:
    """As NiceGUI tells its HTML error page from an endpoint's own 404 (nicegui.nicegui, the 404 handler)."""
    if request.app is not app:  # not the dashboard's (NiceGUI's) application: it has no pages
        return False
    endpoint = request.scope.get('endpoint')
    own_answer = (endpoint is not None and endpoint is not app and not request.scope.get('nicegui_page_path')
                  and isinstance(exc, StarletteHTTPException))
    return not own_answer
