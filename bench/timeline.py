"""Every ERPNext exchange of a run, timed at the httpx transport, and what can be read from them:
the critical path, all requests laid end to end, counts by method and DocType."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from urllib.parse import unquote

import httpx

from engine.erpnext.client import network_transport


@dataclass(frozen=True)
class Exchange:
    """One request and its answer, as the engine sent it."""

    method: str
    url: str
    content: bytes
    status: int
    started: float
    ended: float
    body: bytes  # not kept (b''): a queue of 500 tenants would hold hundreds of MB of answers
    request_id: str | None = None
    received: int = 0  # the answer's size in bytes

    @property
    def traffic(self) -> int:
        """Bytes of the request's body and of its answer."""
        return len(self.content) + self.received

    @property
    def duration(self) -> float:
        return self.ended - self.started

    @property
    def target(self) -> str:
        """`Company`, `Mode of Payment` or `method:frappe.auth.get_logged_user`."""
        path = unquote(httpx.URL(self.url).path)
        kind, _, rest = path.removeprefix('/api/').partition('/')
        name = rest.split('/', 1)[0]
        return f'method:{name}' if kind == 'method' else name

    @property
    def label(self) -> str:
        return f'{self.method} {self.target}'


class RecordingTransport(httpx.AsyncBaseTransport):
    """Wraps the real network transport and keeps every exchange (the body is read inside the timing,
    so the timing is the whole exchange; the response goes on as it came, already read)."""

    def __init__(self) -> None:
        self.inner = network_transport()  # the pool the engine's own client would have
        self.exchanges: list[Exchange] = []
        self.keep = True

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        content = request.content
        started = time.perf_counter()
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        ended = time.perf_counter()
        if self.keep:
            self.exchanges.append(Exchange(request.method, str(request.url), content, response.status_code, started,
                                           ended, b'', request.headers.get('x-request-id'), len(body)))
        return response  # read already: the client's own read takes the body as it is

    def take(self) -> list[Exchange]:
        taken, self.exchanges = self.exchanges, []
        return sorted(taken, key=lambda x: x.started)

    async def aclose(self) -> None:
        await self.inner.aclose()


def critical_path(exchanges: list[Exchange]) -> float:
    """The longest chain of requests that ran one after another (each began after the previous
    answered): the run cannot be faster than this chain with these requests."""
    ordered = sorted(exchanges, key=lambda x: x.started)
    longest: list[float] = []
    for i, this in enumerate(ordered):
        before = [longest[j] for j, other in enumerate(ordered[:i]) if other.ended <= this.started]
        longest.append(max(before, default=0.0) + this.duration)
    return max(longest, default=0.0)


def critical_chain_length(exchanges: list[Exchange]) -> int:
    """How many round trips the critical chain holds."""
    ordered = sorted(exchanges, key=lambda x: x.started)
    best: list[tuple[float, int]] = []
    for i, this in enumerate(ordered):
        before = [best[j] for j, other in enumerate(ordered[:i]) if other.ended <= this.started]
        length, count = max(before, default=(0.0, 0))
        best.append((length + this.duration, count + 1))
    return max(best, default=(0.0, 0))[1]


def end_to_end(exchanges: list[Exchange]) -> float:
    """All requests laid end to end: what a strictly sequential client would wait for."""
    return sum(x.duration for x in exchanges)


def by_run(exchanges: list[Exchange]) -> list[list[Exchange]]:
    """The exchanges of each run (the runner tags each with the run's correlation id), in run order."""
    runs: dict[str | None, list[Exchange]] = {}
    for x in sorted(exchanges, key=lambda x: x.started):
        runs.setdefault(x.request_id, []).append(x)
    return list(runs.values())


def counts(exchanges: list[Exchange]) -> Counter[str]:
    return Counter(x.label for x in exchanges)
