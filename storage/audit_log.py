"""The audit log's writing side: who did what, when, to which tenant/run/step.

Append-only by design: events are added here and read by engine/services/audit.py, nothing else
touches them, and the database refuses UPDATE and DELETE on the table (triggers in the initial
migration). `record` joins the caller's transaction, so an action and its audit event are committed
together or not at all. Below the engine and its services, which both write through it.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import Connection, insert
from sqlmodel import Session

from storage.tables import AuditEvent

SYSTEM_ACTOR = 'system'
RESUMED = 'run.resumed'  # the dispatcher's event: a claim took a run over from an expired lease


def record(session: Session, *, actor: str, action: str, tenant_id: int | None = None,
           run_id: int | None = None, step_key: str | None = None, details: dict[str, Any] | None = None,
           correlation_id: str | None = None) -> AuditEvent:
    """Add one event to the caller's unit of work (committed with it)."""
    event = _event(actor=actor, action=action, tenant_id=tenant_id, run_id=run_id, step_key=step_key,
                   details=details, correlation_id=correlation_id)
    session.add(event)
    return event


def record_in(connection: Connection, *, actor: str, action: str, tenant_id: int | None = None,
              run_id: int | None = None, step_key: str | None = None, details: dict[str, Any] | None = None,
              correlation_id: str | None = None) -> None:
    """`record` for a Core transaction (the dispatcher's claim): committed with the connection's."""
    event = _event(actor=actor, action=action, tenant_id=tenant_id, run_id=run_id, step_key=step_key,
                   details=details, correlation_id=correlation_id)
    connection.execute(insert(AuditEvent).values(event.model_dump(exclude={'id'})))


def _event(*, actor: str, action: str, tenant_id: int | None, run_id: int | None, step_key: str | None,
           details: dict[str, Any] | None, correlation_id: str | None) -> AuditEvent:
    return AuditEvent(actor=(actor or SYSTEM_ACTOR)[:64], action=action[:64], tenant_id=tenant_id,
                      run_id=run_id, step_key=step_key, details=_jsonable(details or {}),
                      correlation_id=correlation_id)


def _jsonable(value: Any) -> Any:
    """Details go into a JSON column: make dates, enums and odd numbers safe to store."""
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(item) for item in value]
    if isinstance(value, Enum):
        return _jsonable(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
