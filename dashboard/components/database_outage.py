"""What the UI shows while the database cannot be reached (storage/availability.py says when):

- a page load meets it: a plain page, status 503 with Retry-After, that says so, says nothing was
  lost, and loads the page again by itself every few seconds (`page_unavailable`);
- an open page's refresh (a `ui.timer`) or an async click meets it: ONE notice on that page for
  the whole outage, which goes away by itself once the database answers again (`_show_notice`);
- work of no page meets it (a task NiceGUI runs outside any client, e.g. a page build that went on
  after its HTML was sent): nobody to tell, so ONE line for the process until the database answers
  again (`_outside_pages`).

Each is one warning line in the log (`ui.database_unreachable`), never a traceback: NiceGUI logs
every exception of a timer or handler with its traceback before our handler runs, so a filter on
its logger drops those of a lost database (the warning line says it instead). Any other database
error keeps NiceGUI's 500 page and traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import structlog
from fastapi import FastAPI, Request, status
from fastapi.responses import HTMLResponse, Response
from nicegui import Client, app, background_tasks, context, run, ui
from sqlalchemy.exc import DBAPIError

from storage.availability import RETRY_AFTER_SECONDS, database_unreachable, first_line, reachable

log = structlog.get_logger('ui')

NOTICE = ('The database cannot be reached right now. Nothing was lost: this page shows what it last read '
          'and updates itself as soon as the database is back.')
SIGN_IN_LATER = ('The database cannot be reached right now, so nobody can sign in. Nothing was lost: '
                 'try again in a few seconds.')
NOTICE_KEY = 'database_outage_notice'  # the notice on show, in the client's own storage
RECHECK_S = 2.0


def install(fastapi_app: FastAPI) -> None:
    """Answer page loads with the 503 page and open pages with the notice; call it before the API
    installs its handlers (dashboard/api/errors.py passes DBAPIError outside /api/ on to ours)."""
    fastapi_app.add_exception_handler(DBAPIError, page_unavailable)
    app.on_exception(_on_page_exception)  # (NiceGUI's test fixtures reset these between tests)
    nicegui_log = logging.getLogger('nicegui')
    if not any(isinstance(f, QuietLostDatabase) for f in nicegui_log.filters):
        nicegui_log.addFilter(QuietLostDatabase())


async def page_unavailable(request: Request, exc: Exception) -> Response:
    """A lost database while a page was built: the plain 503 page; any other error goes on."""
    if not lost(exc, path=request.url.path):
        raise exc
    return HTMLResponse(UNAVAILABLE_PAGE, status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
                        headers={'Retry-After': str(RETRY_AFTER_SECONDS), 'Cache-Control': 'no-store'})


def lost(exc: Exception, *, path: str) -> bool:
    """Whether `exc` says the database is lost; if so, its one warning line is logged (for a
    handler that tells the user itself, as the sign-in form does)."""
    if not database_unreachable(exc):
        return False
    log.warning('ui.database_unreachable', path=path, error=first_line(exc))
    return True


class QuietLostDatabase(logging.Filter):
    """Drops NiceGUI's traceback of an exception that says the database is lost."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None and isinstance(record.msg, BaseException):  # log.exception(e) outside an except block
            exc = record.msg
        return exc is None or not database_unreachable(exc)


def _on_page_exception(exc: Exception) -> None:
    """NiceGUI's handler of what a timer or a handler raised: a lost database gets the notice."""
    client = None
    with contextlib.suppress(RuntimeError):  # raised outside any page
        client = context.client
    if client is None:
        _outside_pages(exc)
        return
    notice = client.storage.get(NOTICE_KEY)
    if notice is not None and not notice.is_deleted and database_unreachable(exc):
        return  # one notice (and one log line) for the whole outage
    if lost(exc, path=client.page.path):
        client.storage[NOTICE_KEY] = _show_notice(client)


_watch: asyncio.Task | None = None  # while a lost database met outside any page is not back


def _outside_pages(exc: Exception) -> None:
    """A lost database met outside any page: one line for the process (path '?'), then quiet until
    `_until_back` sees the database answer again."""
    global _watch
    loop = None
    with contextlib.suppress(RuntimeError):  # (NiceGUI calls its handlers on its event loop)
        loop = asyncio.get_running_loop()
    watching = _watch is not None and not _watch.done() and _watch.get_loop() is loop
    if watching and database_unreachable(exc):
        return
    if lost(exc, path='?') and loop is not None:
        _watch = background_tasks.create(_until_back(), name='database outage outside pages')


async def _until_back() -> None:
    while not await run.io_bound(reachable, app.state.db):
        await asyncio.sleep(RECHECK_S)
    log.info('ui.database_back', path='?')


def _show_notice(client: Client) -> ui.page_sticky:
    """The notice at the top of `client`'s page, until the database answers again."""
    with client.content, ui.page_sticky('top', y_offset=12).classes('z-top') as notice:
        with ui.card().classes('bg-orange-100 text-orange-900 max-w-xl').props('role=alert') \
                .mark('database-outage'):
            with ui.row().classes('items-center no-wrap gap-3'):
                ui.icon('cloud_off', size='md').classes('shrink-0')
                ui.label(NOTICE)

        async def recheck() -> None:
            if await run.io_bound(reachable, app.state.db):
                log.info('ui.database_back', path=client.page.path)
                client.storage.pop(NOTICE_KEY, None)
                notice.delete()

        ui.timer(RECHECK_S, recheck)
    return notice


# A constant: nothing of the request goes into it. `href=""` is this very address.
UNAVAILABLE_PAGE = f'''<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="{RETRY_AFTER_SECONDS}">
<title>Database unreachable · Provisioner</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;line-height:1.5}}</style>
</head>
<body>
<h1>The database cannot be reached</h1>
<p>Provisioner cannot reach its database right now. Nothing was lost: tenants, runs and your
session are kept, and this page works again as soon as the database is back.</p>
<p>It tries again by itself every {RETRY_AFTER_SECONDS} seconds. <a href="">Try again now</a></p>
</body>
</html>
'''
