"""An engine by what a person typed (`?engine=` on the tenants page): the service rule of
`engines.find_engine` (the name as ERPNext compares names, then a bounded id), in a session of its own."""

from __future__ import annotations

from engine.services.engines import find_engine
from storage.db import Database
from storage.tables import Engine


def engine_by_ref(db: Database, ref: str) -> Engine | None:
    """The engine `ref` names (`ecole` finds 'École') or whose id it is; None for none."""
    if not ref.strip():
        return None
    with db.session() as session:
        return find_engine(session, ref)
