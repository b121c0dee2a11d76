"""Names for ids: what a page shows where a table row only holds a tenant's or an engine's id."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import col, select

from storage.db import Database
from storage.queries.tenants import tenant_by_name
from storage.tables import Engine, Tenant

MAX_IDS = 1000  # a page of events, not a table scan


def tenant_names(db: Database, tenant_ids: Iterable[int | None]) -> dict[int, str]:
    """{tenant id: name} for the ids that exist (unknown and None ids are left out)."""
    wanted = sorted({tenant_id for tenant_id in tenant_ids if tenant_id is not None})[:MAX_IDS]
    if not wanted:
        return {}
    with db.session() as session:
        rows = session.exec(select(Tenant.id, Tenant.name).where(col(Tenant.id).in_(wanted))).all()
    return dict(rows)


def engine_names(db: Database) -> dict[int, str]:
    """{engine id: name} of every engine (a handful of rows)."""
    with db.session() as session:
        return dict(session.exec(select(Engine.id, Engine.name)).all())


def tenant_id_named(db: Database, name: str) -> int | None:
    """The id of the tenant called `name` (case-insensitive, as ERPNext compares), or None."""
    if not name.strip() or len(name) > 200:
        return None
    with db.session() as session:
        tenant = tenant_by_name(session, name.strip())
        return tenant.id if tenant else None


def with_engine_name(details: dict[str, Any] | None, engines: dict[int, str]) -> dict[str, Any]:
    """Audit details with an engine's id shown as its name (`engine_id: 1` → `engine: Sandbox`)."""
    details = dict(details or {})
    engine_id = details.get('engine_id')
    if not (isinstance(engine_id, int) and engine_id in engines) or 'engine' in details:
        return details
    return {('engine' if key == 'engine_id' else key): (engines[engine_id] if key == 'engine_id' else value)
            for key, value in details.items()}
