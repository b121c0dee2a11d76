"""Questions about the audit log (read-only: the log is append-only)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, func, select

from storage.tables import AuditEvent


def audit_events(session: Session, *, limit: int, offset: int, action: str | None = None,
                 actor: str | None = None, tenant_id: int | None = None) -> tuple[list[AuditEvent], int]:
    """Matching events newest first, and how many match in total."""
    conditions = _conditions(action=action, actor=actor, tenant_id=tenant_id)
    total = session.exec(select(func.count()).select_from(AuditEvent).where(*conditions)).one()
    query = (select(AuditEvent).where(*conditions).order_by(col(AuditEvent.id).desc())
             .offset(offset).limit(limit))
    return list(session.exec(query)), total


def _conditions(*, action: str | None, actor: str | None, tenant_id: int | None) -> list[Any]:
    conditions: list[Any] = []
    if action:
        conditions.append(AuditEvent.action == action)
    if actor:
        conditions.append(AuditEvent.actor == actor)
    if tenant_id is not None:
        conditions.append(AuditEvent.tenant_id == tenant_id)
    return conditions
