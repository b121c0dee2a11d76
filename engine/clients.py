"""One ERPNext client (and so one connection pool and one request budget) per engine, built from
its stored settings.

Each engine's budget is its own `requests_per_second` (a moving window in `Throttle`; ERPNext's
429 Retry-After pauses the engine on top of it). A client is rebuilt when its engine's settings
change: at once in the process that made the edit (`forget`), and within SETTINGS_RECHECK_S in
every other process sharing the database. Runs already holding the old client (through a bound
view) finish with it; it is closed at the first hand-out after the last of them has ended.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from engine.erpnext import ERPNextClient
from engine.erpnext.client import DEFAULT_TIMEOUT, network_transport
from engine.erpnext.throttle import Throttle
from engine.security import SecretBox, SecretKeyError
from engine.validation import url_refusal
from storage.db import Database
from storage.tables import Engine

TransportFor = Callable[[Engine], httpx.AsyncBaseTransport | None]


class EngineUnusable(Exception):
    """No client can be built for the engine, so no request may be sent: the run fails saying why."""
SETTINGS_RECHECK_S = 10.0  # how stale a process's view of an engine's settings may get


@dataclass
class _Cached:
    client: ERPNextClient
    settings: tuple
    checked_at: float  # time.monotonic() of the last look at the engine row


class EngineClients:
    """Hands out the shared client of an engine; `forget` it when the engine's settings change."""

    def __init__(self, db: Database, secrets: SecretBox, *, timeout: float = DEFAULT_TIMEOUT,
                 transport_for: TransportFor | None = None, owns_transports: bool = True,
                 recheck_after: float = SETTINGS_RECHECK_S) -> None:
        """`transport_for` builds each client's transport, which closing the client closes too, unless
        `owns_transports` is False (it hands out one its caller shares and closes)."""
        self.db = db
        self.secrets = secrets
        self.timeout = timeout
        self.recheck_after = recheck_after
        self.transport_for = transport_for or (lambda engine: None)
        self.owns_transports = owns_transports
        self._clients: dict[int, _Cached] = {}
        self._retired: list[ERPNextClient] = []  # replaced while runs may still use them (see _close_idle)
        self._lock = asyncio.Lock()

    async def get(self, engine_id: int) -> ERPNextClient:
        async with self._lock:
            await self._close_idle()
            cached = self._clients.get(engine_id)
            if cached is not None and time.monotonic() - cached.checked_at < self.recheck_after:
                return cached.client
            try:
                engine = await asyncio.to_thread(self._load, engine_id)
            except Exception:
                if cached is None:
                    raise
                return cached.client  # a recheck that fails (database blip) keeps the client; next time again
            if cached is not None and cached.settings == _settings(engine):
                cached.checked_at = time.monotonic()
                return cached.client
            if cached is not None:  # edited by another process since we built it
                self._retired.append(cached.client)
            self._clients[engine_id] = _Cached(self.build(engine), _settings(engine), time.monotonic())
            return self._clients[engine_id].client

    def build(self, engine: Engine) -> ERPNextClient:
        """A new client for `engine` (its own pool and budget); callers close it unless it came from get().
        EngineUnusable for a URL Provisioner refuses (stored before the rule) or a secret it cannot read."""
        refusal = url_refusal(engine.base_url)
        if refusal is not None:  # the URL itself is not repeated: it may hold a user name and password
            raise EngineUnusable(f"Provisioner refuses the URL of engine '{engine.name}', so no request was sent: "
                                 f'the URL {refusal}. Change it on Engines → Edit, then retry the run.')
        try:
            secret = self.secrets.decrypt(engine.api_secret_encrypted)
        except SecretKeyError as exc:
            raise EngineUnusable(f"The API secret of engine '{engine.name}' cannot be used: {exc}. Enter the "
                                 'secret again on Engines → Edit (or restore the key), then retry the run.') from None
        return ERPNextClient(engine.base_url, engine.api_key, secret, timeout=self.timeout,
                             transport=self.transport_for(engine), owns_transport=self.owns_transports,
                             throttle=Throttle(engine.requests_per_second))

    async def forget(self, engine_id: int) -> None:
        """The engine's settings changed: the next get() builds a client from them. Runs holding the
        old client keep it (closing it would break their requests) until they end."""
        async with self._lock:
            cached = self._clients.pop(engine_id, None)
            if cached is not None:
                self._retired.append(cached.client)

    async def _close_idle(self) -> None:
        """Close the replaced clients no run holds any more (their pools and connections)."""
        idle = [client for client in self._retired if not client.in_use]
        if idle:
            self._retired = [client for client in self._retired if client.in_use]
            for client in idle:
                await client.aclose()

    async def aclose(self) -> None:
        async with self._lock:
            clients = [cached.client for cached in self._clients.values()] + self._retired
            self._clients, self._retired = {}, []
        for client in clients:
            await client.aclose()

    def _load(self, engine_id: int) -> Engine:
        with self.db.session() as session:
            engine = session.get(Engine, engine_id)
            if engine is None:
                raise LookupError(f'engine {engine_id} does not exist')
            return engine


def _settings(engine: Engine) -> tuple:
    """What a client is built from: a change of any of these needs a new client."""
    return engine.base_url, engine.api_key, engine.api_secret_encrypted, engine.requests_per_second


class EmbeddedSandboxTransport(httpx.AsyncBaseTransport):
    """Sends requests for the sandbox this process serves straight to its ASGI app (no socket back
    to ourselves); every other URL goes over the network as usual."""

    def __init__(self, prefix: str, app) -> None:
        self.prefix = prefix.rstrip('/') + '/'
        self.mount_path = httpx.URL(self.prefix).path.rstrip('/')
        self.sandbox = httpx.ASGITransport(app=app)
        self.network = network_transport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not str(request.url).startswith(self.prefix):
            return await self.network.handle_async_request(request)
        # The sandbox app is mounted under the prefix's path but knows its routes without it.
        request.url = request.url.copy_with(path=request.url.path[len(self.mount_path):] or '/')
        return await self.sandbox.handle_async_request(request)

    async def aclose(self) -> None:
        await self.network.aclose()
