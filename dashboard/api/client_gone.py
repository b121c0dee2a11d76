"""A request whose client went away before it was answered ends quietly (QA pass 6, finding 5).

When a browser navigates away mid-request, the server hands the app an `http.disconnect`. What
comes next is not a server error, yet it looked like one: a static file (Starlette's FileResponse)
stops without answering, and NiceGUI's BaseHTTPMiddlewares around every route take the missing
answer for a crash ("RuntimeError: No response returned."); a handler reading the body raises
ClientDisconnect; Engine.IO's polling fails on the empty request. Each reached the 500 handler,
and uvicorn logged its traceback.

`ClientGoneMiddleware` sits inside NiceGUI's middlewares (NiceGUI adds them when it starts, after
ours). It tells the app below it that the server speaks ASGI 2.4, so a file or a stream is sent to
its end rather than stopped unanswered on the disconnect (uvicorn drops what is sent to a client
that has gone). Once the app has received the disconnect before its answer was complete, whatever
it does next is moot: an error is logged as one line (debug for ClientDisconnect, info with its
type for anything else), and an answer left unfinished is completed, a 499 (nginx's "client closed
request") when nothing was sent, so that the middlewares around it finish normally. Nobody
receives it. While the client is there, everything goes on as before: an app that ends without
answering a client that still waits remains the error it is.
"""

from __future__ import annotations

import anyio
import structlog
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger('http')
CLIENT_CLOSED_REQUEST = 499
COMPLETION_DEADLINE_S = 1.0


class ClientGoneMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope['type'] != 'http':
            await self.app(scope, receive, send)
            return
        # ASGI 2.4: a file or a stream is sent to its end instead of stopping, without an answer,
        # when it sees the disconnect (sends to a client that has gone are dropped by the server).
        scope['asgi'] = {**scope.get('asgi', {}), 'spec_version': '2.4'}
        gone = started = complete = False

        async def receive_watching() -> Message:
            nonlocal gone
            message = await receive()
            gone = gone or (message['type'] == 'http.disconnect' and not complete)
            return message

        async def send_watching(message: Message) -> None:
            nonlocal started, complete
            await send(message)  # (what a cancelled send did not pass on does not count)
            started = started or message['type'] == 'http.response.start'
            complete = complete or (message['type'] == 'http.response.body' and not message.get('more_body', False))

        try:
            await self.app(scope, receive_watching, send_watching)
        except Exception as exc:
            if not gone:
                raise
            if isinstance(exc, ClientDisconnect):
                log.debug('http.client_gone', method=scope['method'], path=scope['path'])
            else:  # something failed on the empty request: one line, in case it is more than that
                log.info('http.client_gone', method=scope['method'], path=scope['path'], error=type(exc).__name__)
        else:
            if not gone or complete:
                return
            log.debug('http.client_gone', method=scope['method'], path=scope['path'])
        # Shielded (what failed may have left a cancellation pending), within a deadline (never hang on it).
        with anyio.move_on_after(COMPLETION_DEADLINE_S, shield=True):
            if not started:
                await send({'type': 'http.response.start', 'status': CLIENT_CLOSED_REQUEST, 'headers': []})
            if not complete:
                await send({'type': 'http.response.body', 'body': b'', 'more_body': False})
