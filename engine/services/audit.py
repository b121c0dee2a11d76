"""The audit log: who did what, when, to which tenant/run/step.

Append-only by design: this module can add and read events, nothing else, and the database
refuses UPDATE and DELETE on the table (triggers in the initial migration). `record` joins the
caller's transaction, so an action and its audit event are committed together or not at all.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import Connection, insert
from sqlmodel import Session

from engine.validation import MAX_ID, InvalidInput, Page
from storage.db import Database
from storage.queries import audit as queries
from storage.tables import AuditEvent

MAX_LIMIT = 500
SYSTEM_ACTOR = 'system'


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


def list_events(db: Database, *, limit: int = 50, offset: int = 0, action: str | None = None,
                actor: str | None = None, tenant_id: int | None = None) -> Page[AuditEvent]:
    """Events newest first, one page at a time. `action` matches a key or its start (`run.` finds
    `run.cancelled`), `actor` matches whatever the case."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput('limit', f'must be between 1 and {MAX_LIMIT}')
    if not 0 <= offset <= MAX_ID:
        raise InvalidInput('offset', 'must be 0 or more')
    for field, value in (('action', action), ('actor', actor)):
        if value is not None and not value.isprintable():
            raise InvalidInput(field, 'must contain only printable characters')
    with db.session() as session:
        items, total = queries.audit_events(session, limit=limit, offset=offset,
                                            action=action, actor=actor, tenant_id=tenant_id)
    return Page(items=items, total=total)


def known_actions(db: Database) -> list[str]:
    """The action keys present in the log, sorted (what the filters offer to pick from)."""
    with db.session() as session:
        return queries.distinct_actions(session)


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
