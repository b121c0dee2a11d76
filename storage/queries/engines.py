"""Questions about ERPNext engines."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from storage.name_keys import name_key
from storage.tables import Engine, Run, Tenant


def all_engines(session: Session) -> list[Engine]:
    return list(session.exec(select(Engine).order_by(col(Engine.name))))


def engine_by_name(session: Session, name: str) -> Engine | None:
    """The engine called `name`, case and spacing aside (the unique `name_key`)."""
    return session.exec(select(Engine).where(Engine.name_key == name_key(name))).first()


def engine_usage(session: Session, engine_id: int) -> tuple[int, int]:
    """How many tenants and how many runs refer to the engine."""
    tenants = session.exec(select(func.count()).select_from(Tenant).where(Tenant.engine_id == engine_id)).one()
    runs = session.exec(select(func.count()).select_from(Run).where(Run.engine_id == engine_id)).one()
    return tenants, runs
