"""One ERPNext client (and so one connection pool and one request budget) per engine, built from
its stored settings."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx

from engine.erpnext import ERPNextClient
from engine.erpnext.client import DEFAULT_TIMEOUT, network_transport
from engine.erpnext.throttle import Throttle
from engine.security import SecretBox
from storage.db import Database
from storage.tables import Engine

TransportFor = Callable[[Engine], httpx.AsyncBaseTransport | None]
# Outbound requests per second to one engine from one process (a burst ceiling: real runs are
# latency-bound well below it); ERPNext's 429 Retry-After pauses the engine on top of this.
ENGINE_REQUESTS_PER_SECOND = 50


class EngineClients:
    """Hands out the shared client of an engine; `forget` it when the engine's settings change."""

    def __init__(self, db: Database, secrets: SecretBox, *, timeout: float = DEFAULT_TIMEOUT,
                 transport_for: TransportFor | None = None,
                 requests_per_second: int = ENGINE_REQUESTS_PER_SECOND) -> None:
        self.db = db
        self.secrets = secrets
        self.timeout = timeout
        self.requests_per_second = requests_per_second
        self.transport_for = transport_for or (lambda engine: None)
        self._clients: dict[int, ERPNextClient] = {}
        self._lock = asyncio.Lock()

    async def get(self, engine_id: int) -> ERPNextClient:
        async with self._lock:
            if engine_id not in self._clients:
                engine = await asyncio.to_thread(self._load, engine_id)
                self._clients[engine_id] = self.build(engine)
            return self._clients[engine_id]

    def build(self, engine: Engine) -> ERPNextClient:
        """A new client for `engine` (its own pool and budget); callers close it unless it came from get()."""
        return ERPNextClient(engine.base_url, engine.api_key, self.secrets.decrypt(engine.api_secret_encrypted),
                             timeout=self.timeout, transport=self.transport_for(engine),
                             throttle=Throttle(self.requests_per_second))

    async def forget(self, engine_id: int) -> None:
        async with self._lock:
            client = self._clients.pop(engine_id, None)
        if client is not None:
            await client.aclose()

    async def aclose(self) -> None:
        async with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()

    def _load(self, engine_id: int) -> Engine:
        with self.db.session() as session:
            engine = session.get(Engine, engine_id)
            if engine is None:
                raise LookupError(f'engine {engine_id} does not exist')
            return engine


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
