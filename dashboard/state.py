"""The process objects that API routes and pages reach through `app.state`, in one place.

`dashboard/app.py: setup` puts the running `Process` there (with `db`, `settings`, `secrets`,
`dispatcher` and, with the embedded sandbox, `erpnext_transport`). A bare API app (the REST tests)
has no process: it sets `db`, `settings`, `secrets` and maybe `erpnext_transport` and `dispatcher`
itself. What "no process" means is decided here, once, not by each caller.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import httpx
from starlette.applications import Starlette

from engine.clients import EngineClients
from engine.process import Process
from storage.db import Database

T = TypeVar('T')


def process(app: Starlette) -> Process | None:
    """The running process, or None for an app without one."""
    return getattr(app.state, 'process', None)


def database(app: Starlette) -> Database | None:
    return getattr(app.state, 'db', None)


def erpnext_transport(app: Starlette) -> httpx.AsyncBaseTransport | None:
    """The transport for ERPNext calls (the embedded sandbox's, or a test's); None: the network."""
    return getattr(app.state, 'erpnext_transport', None)


def process_clients(app: Starlette) -> EngineClients | None:
    """The process's shared engine clients (each engine's request budget and 429 pause), or None."""
    running = process(app)
    return running.clients if running is not None else None


@asynccontextmanager
async def engine_clients(app: Starlette) -> AsyncIterator[EngineClients]:
    """The process's shared engine clients; an app without a process gets clients for this use
    only (through its `erpnext_transport`), closed afterwards."""
    shared = process_clients(app)
    if shared is not None:
        yield shared
        return
    transport = erpnext_transport(app)
    temporary = EngineClients(app.state.db, app.state.secrets, transport_for=lambda engine: transport,
                              owns_transports=False)  # the app's transport outlives these clients
    try:
        yield temporary
    finally:
        await temporary.aclose()


async def wake_dispatcher(app: Starlette) -> None:
    """Let the dispatcher claim new work now instead of at its next tick (no dispatcher: nothing)."""
    dispatcher = getattr(app.state, 'dispatcher', None)
    if dispatcher is not None:
        await dispatcher.tick()


def limiter(app: Starlette, name: str, factory: Callable[[], T]) -> T:
    """The process's limiter `name` (shared by the API and the UI), else one kept on `app.state`."""
    running = process(app)
    if running is not None:
        return getattr(running, name)
    kept = getattr(app.state, name, None)
    if kept is None:
        kept = factory()
        setattr(app.state, name, kept)
    return kept
