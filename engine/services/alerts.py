"""Alerts as the dashboard and the API read them (the rules that open and resolve them live in
engine/alerting.py)."""

from __future__ import annotations

from sqlmodel import col, func, select

from storage.db import Database
from storage.tables import Alert


def open_alerts(db: Database, *, limit: int = 20) -> list[Alert]:
    """Alerts not resolved yet, newest first."""
    with db.session() as session:
        query = select(Alert).where(col(Alert.resolved_at).is_(None)).order_by(col(Alert.opened_at).desc())
        return list(session.exec(query.limit(limit)).all())


def recent_alerts(db: Database, *, limit: int = 50) -> list[Alert]:
    """Open and resolved alerts, newest first (an alert history for operators)."""
    with db.session() as session:
        query = select(Alert).order_by(col(Alert.opened_at).desc(), col(Alert.id).desc())
        return list(session.exec(query.limit(limit)).all())


def count_open(db: Database) -> int:
    """How many alerts are not resolved yet."""
    with db.session() as session:
        return session.exec(select(func.count()).select_from(Alert).where(col(Alert.resolved_at).is_(None))).one()
