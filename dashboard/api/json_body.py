"""Refuse the JSON bodies under /api/ that FastAPI would take wrongly or answer outside the API's
format: 422 `body: duplicate key 'name'` (json.loads would keep the last value silently) and 422
`body: is not valid JSON (…)` for a body nested too deeply or not valid UTF-8 (FastAPI answers
those 400 "There was an error parsing the body").

A pure ASGI middleware with the technique of body_limit.py: it watches the body as the route reads
it and, at its last chunk, parses it once more with a hook that spots repeated keys (microseconds
for the API's small bodies). A body that is merely malformed passes on, so FastAPI names the
character where it breaks. The refusal is an HTTPException raised while the route reads its body,
answered by the API's error handler (errors.py).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

WITH_BODY = frozenset({'POST', 'PUT', 'PATCH'})


class UnreadableBody(HTTPException):
    """The body cannot be taken as the JSON object it looks like: 422 with `detail` and `errors`."""

    def __init__(self, message: str) -> None:
        super().__init__(status_code=422, detail=f'body: {message}')
        self.message = message


class JsonBodyCheckMiddleware:
    """Checks the JSON bodies of the paths under `prefix` as they are read."""

    def __init__(self, app: ASGIApp, *, prefix: str) -> None:
        self.app = app
        self.prefix = prefix.rstrip('/') + '/'

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope['type'] != 'http' or scope['method'] not in WITH_BODY
                or not scope['path'].startswith(self.prefix) or not _is_json(scope)):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def receive_checked() -> Message:
            message = await receive()
            if message['type'] == 'http.request':
                chunks.append(message.get('body', b''))
                if not message.get('more_body', False):
                    check_json_body(b''.join(chunks))
            return message

        await self.app(scope, receive_checked, send)


def check_json_body(body: bytes) -> None:
    """Raise UnreadableBody for duplicate keys, too deep nesting or bytes that are not UTF-8."""
    if not body.strip():
        return
    try:
        json.loads(body, object_pairs_hook=_refuse_duplicate_keys)
    except json.JSONDecodeError:
        return  # FastAPI answers it, with the character where the JSON breaks
    except RecursionError:
        raise UnreadableBody('is not valid JSON (nested too deeply)') from None
    except UnicodeDecodeError:
        raise UnreadableBody('is not valid JSON (not UTF-8 text)') from None


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise UnreadableBody(f'duplicate key {key!r}')
        result[key] = value
    return result


def _is_json(scope: Scope) -> bool:
    """No content type (FastAPI then reads JSON too), application/json or application/…+json."""
    content_type = Headers(scope=scope).get('content-type')
    if not content_type:
        return True
    media = content_type.split(';', 1)[0].strip().lower()
    return media == 'application/json' or (media.startswith('application/') and media.endswith('+json'))
