"""Questions about the audit log (read-only: the log is append-only)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, func, select

from storage.tables import AuditEvent


def audit_events(session: Session, *, limit: int, offset: int, action: str | None = None,
                 actor: str | None = None, tenant_id: int | None = None,
                 correlation_id: str | None = None) -> tuple[list[AuditEvent], int]:
    """Matching events newest first, and how many match in total."""
    action = action.lower() if action else None
    conditions = _conditions(action=action, exact_action=bool(action) and _action_exists(session, action),
                             actor=actor, tenant_id=tenant_id, correlation_id=correlation_id)
    total = session.exec(select(func.count()).select_from(AuditEvent).where(*conditions)).one()
    query = (select(AuditEvent).where(*conditions).order_by(col(AuditEvent.id).desc())
             .offset(offset).limit(limit))
    return list(session.exec(query)), total


def events_of_run(session: Session, *, tenant_id: int, run_id: int, action: str) -> list[AuditEvent]:
    """The run's events of one action, oldest first (through the tenant's index: a tenant has few)."""
    return list(session.exec(select(AuditEvent).where(AuditEvent.tenant_id == tenant_id, AuditEvent.run_id == run_id,
                                                      AuditEvent.action == action).order_by(col(AuditEvent.id))))


def distinct_actions(session: Session) -> list[str]:
    """Every action key the log holds, sorted."""
    return list(session.exec(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def _action_exists(session: Session, action: str) -> bool:
    return session.exec(select(AuditEvent.id).where(AuditEvent.action == action).limit(1)).first() is not None


def _conditions(*, action: str | None, exact_action: bool, actor: str | None,
                tenant_id: int | None, correlation_id: str | None) -> list[Any]:
    conditions: list[Any] = []
    if action and exact_action:  # a whole key: only it (`auth.login` is not `auth.login_failed`)
        conditions.append(AuditEvent.action == action)
    elif action:  # the start of keys: `run.` finds run.cancelled, run.retried, ...
        conditions.append(col(AuditEvent.action).startswith(action, autoescape=True))
    if actor:  # usernames are case-insensitive
        conditions.append(func.lower(AuditEvent.actor) == actor.lower())
    if tenant_id is not None:
        conditions.append(AuditEvent.tenant_id == tenant_id)
    if correlation_id:  # exactly: the events of one run or one CSV import (ix_auditevent_correlation_id)
        conditions.append(AuditEvent.correlation_id == correlation_id)
    return conditions
