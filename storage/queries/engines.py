"""Questions about ERPNext engines."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from storage.tables import Engine


def all_engines(session: Session) -> list[Engine]:
    return list(session.exec(select(Engine).order_by(col(Engine.name))))


def engine_by_name(session: Session, name: str) -> Engine | None:
    """Names are matched case-insensitively, the way people type them."""
    return session.exec(select(Engine).where(func.lower(col(Engine.name)) == name.lower())).first()
