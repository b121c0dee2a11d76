"""Check one tenant for drift now (*Check drift* on the tenant page, POST /tenants/{id}/drift-check).

Both callers pass the process's shared `EngineClients`, so an asked-for check counts against the
engine's requests per second and waits out a 429 pause like the runs do (engine/drift.py does the
look-ups and stores the outcome)."""

from __future__ import annotations

import asyncio

from engine import drift
from engine.clients import EngineClients
from engine.drift import DriftResult
from engine.services import tenants
from storage.db import Database


async def check_tenant(db: Database, clients: EngineClients, tenant_id: int, *, actor: str) -> DriftResult:
    """Look the tenant's documents up in ERPNext again and store the outcome; NotFound (404) for
    an unknown tenant."""
    await asyncio.to_thread(tenants.get_tenant, db, tenant_id)
    return await drift.check_tenant(db, clients.get, tenant_id, actor=actor)
