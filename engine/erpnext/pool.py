"""One ERPNext site's connection pool: a request goes straight to an httpx transport.

httpx's `AsyncClient` layer (cookie jar, redirects, auth flows, event hooks, URL merging) is not
wanted here: ERPNext's token authentication is stateless, so its session cookies (`sid=Guest`,
`system_user`…) are not to be sent back, and an API call is never redirected. Without that layer a
request costs about half the CPU (docs/BENCHMARKS.md). The transport interface stays httpx's, so
the same code talks to a real site (aiohttp's pool, see client.py) or to the sandbox's ASGI app.

Every request has one deadline, `deadline_s`, from sending to the last byte of the answer, whatever
the transport: aiohttp's own timeouts are per socket read (an answer that trickles in never trips
them), and httpx's ASGI transport (the embedded sandbox) has none at all.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
from typing import Any
from urllib.parse import urlencode

import httpx

DEFAULT_HEADERS = {'Accept': 'application/json', 'Accept-Encoding': 'gzip, deflate', 'User-Agent': 'Provisioner'}


class Pool:
    """Sends requests to `base_url` through `transport`; answers come back read and closed.
    `owns_transport`: closing the pool closes the transport (not one its caller shares with others)."""

    def __init__(self, base_url: str, transport: httpx.AsyncBaseTransport, *, timeout: httpx.Timeout,
                 headers: dict[str, str], owns_transport: bool = True) -> None:
        self.base_url = base_url.rstrip('/')
        self.transport = transport
        self.owns_transport = owns_transport
        self.headers = {**DEFAULT_HEADERS, **headers}
        self.timeout = timeout.as_dict()
        self.deadline_s = max((value for value in self.timeout.values() if value is not None), default=None)
        self.is_closed = False

    async def request(self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None,
                      headers: dict[str, str] | None = None) -> httpx.Response:
        if self.is_closed:
            raise RuntimeError('this ERPNext client was closed')
        url = f'{self.base_url}{path}?{urlencode(params)}' if params else f'{self.base_url}{path}'
        all_headers = {**self.headers, **headers} if headers else self.headers
        content = None
        if json is not None:  # as httpx encodes it: compact UTF-8
            content = jsonlib.dumps(json, ensure_ascii=False, separators=(',', ':'), allow_nan=False).encode()
            all_headers = {**all_headers, 'Content-Type': 'application/json'}
        request = httpx.Request(method, url, headers=all_headers, content=content,
                                extensions={'timeout': self.timeout})
        async with asyncio.timeout(self.deadline_s):  # TimeoutError: the client's RequestTimeoutError
            response = await self.transport.handle_async_request(request)
            try:
                await response.aread()
            finally:
                await response.aclose()
        return response

    async def aclose(self) -> None:
        if not self.is_closed:
            self.is_closed = True
            if self.owns_transport:
                await self.transport.aclose()
