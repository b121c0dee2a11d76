"""Questions about ERPNext engines."""

from __future__ import annotations

from sqlmodel import Session, col, select

from storage.name_keys import name_key
from storage.tables import Engine


def all_engines(session: Session) -> list[Engine]:
    return list(session.exec(select(Engine).order_by(col(Engine.name))))


def engine_by_name(session: Session, name: str) -> Engine | None:
    """The engine called `name`, case and spacing aside (the unique `name_key`)."""
    return session.exec(select(Engine).where(Engine.name_key == name_key(name))).first()
