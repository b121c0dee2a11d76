"""Reading the audit log (the audit page, `GET /api/v1/audit`, the filters' choices); events are
written by storage/audit_log.py."""

from __future__ import annotations

from engine.validation import MAX_ID, InvalidInput, Page
from storage.db import Database
from storage.queries import audit as queries
from storage.tables import AuditEvent

MAX_LIMIT = 500
MAX_CORRELATION_ID = 64  # as long as AuditEvent.correlation_id can be


def list_events(db: Database, *, limit: int = 50, offset: int = 0, action: str | None = None,
                actor: str | None = None, tenant_id: int | None = None,
                correlation_id: str | None = None) -> Page[AuditEvent]:
    """Events newest first, one page at a time. `action` matches a key or its start (`run.` finds
    `run.cancelled`), `actor` matches whatever the case, `correlation_id` exactly (the events of one
    run or of one CSV import)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput('limit', f'must be between 1 and {MAX_LIMIT}')
    if not 0 <= offset <= MAX_ID:
        raise InvalidInput('offset', 'must be 0 or more')
    for field, value in (('action', action), ('actor', actor), ('correlation_id', correlation_id)):
        if value is not None and not value.isprintable():
            raise InvalidInput(field, 'must contain only printable characters')
    if correlation_id is not None and len(correlation_id) > MAX_CORRELATION_ID:
        raise InvalidInput('correlation_id', f'must be at most {MAX_CORRELATION_ID} characters')
    with db.session() as session:
        items, total = queries.audit_events(session, limit=limit, offset=offset, action=action, actor=actor,
                                            tenant_id=tenant_id, correlation_id=correlation_id)
    return Page(items=items, total=total)


def known_actions(db: Database) -> list[str]:
    """The action keys present in the log, sorted (what the filters offer to pick from)."""
    with db.session() as session:
        return queries.distinct_actions(session)
