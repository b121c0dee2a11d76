"""A cap on request bodies under /api/ (the REST API, /api/v1): 413 with the API's JSON error
body, before the body is read in full.

A declared Content-Length over the cap is answered at once, without reading anything; a body
without one (chunked) is counted as it arrives and refused once it grows past the cap: the route
reading it gets an HTTPException(413), which the API's error handler answers like every other
error. Other paths (the NiceGUI pages, /metrics, the sandbox) pass through untouched.

Why not Starlette's RequestBodyLimitMiddleware (FastAPI's `max_body_size`): for a declared length
it replaces whatever the route answered with a text/plain "Content Too Large", so the API's
`{"detail": ...}` shape could not be kept. This is the same technique, kept to the API's paths.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# 1 MiB: the largest body the API takes on purpose, a bulk-provision of 1,000 ids, is about 21 kB;
# the cap leaves ample room for that and keeps what one request can make the server parse small.
MAX_BODY_BYTES = 1024 * 1024
# The rest of a refused body is never read: the server closes the connection instead of reading
# and discarding whatever the client goes on sending.
CLOSE = {'Connection': 'close'}


class BodyTooLarge(HTTPException):
    """The request body passed the cap while a route was reading it."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(status_code=413, detail=too_large_message(max_bytes), headers=dict(CLOSE))


class ApiBodyLimitMiddleware:
    """Pure ASGI middleware: caps the request bodies of the paths under `prefix`."""

    def __init__(self, app: ASGIApp, *, prefix: str, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.prefix = prefix.rstrip('/') + '/'
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope['type'] != 'http' or not scope['path'].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _too_large(self.max_bytes)(scope, receive, send)
            return
        received, started = 0, False

        async def receive_within_cap() -> Message:
            nonlocal received
            message = await receive()
            if message['type'] == 'http.request':
                received += len(message.get('body', b''))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def send_noting_start(message: Message) -> None:
            nonlocal started
            started = started or message['type'] == 'http.response.start'
            await send(message)

        try:
            await self.app(scope, receive_within_cap, send_noting_start)
        except BodyTooLarge:  # read outside a route (a route's error handler answers it as above)
            if started:
                raise
            await _too_large(self.max_bytes)(scope, receive, send)


def too_large_message(max_bytes: int) -> str:
    return f'The request body is larger than {size_in_words(max_bytes)}'


def size_in_words(size: int) -> str:
    """'1 MiB', '64 KiB', or '1000 bytes' when the size is no whole number of either."""
    for unit, factor in (('MiB', 1024 * 1024), ('KiB', 1024)):
        if size >= factor and size % factor == 0:
            return f'{size // factor} {unit}'
    return f'{size} bytes'


def _too_large(max_bytes: int) -> JSONResponse:
    return JSONResponse({'detail': too_large_message(max_bytes)}, status_code=413, headers=CLOSE)


def _content_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get('content-length')
    try:
        return int(value) if value is not None else None
    except ValueError:  # the server refuses a malformed length before we see it; count instead
        return None
