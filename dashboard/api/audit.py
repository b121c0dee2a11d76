"""The audit log, newest first (admin only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from dashboard.api.deps import AdminOnly, DbDep
from dashboard.api.query import OptionalId, blank_is, optional_text
from engine.services import audit
from engine.validation import MAX_ID
from storage.tables import AuditEvent

router = APIRouter(prefix='/audit', tags=['audit'])
DEFAULT_LIMIT = 50
FilterText = optional_text(64)
CorrelationId = optional_text(audit.MAX_CORRELATION_ID)


class AuditEventPublic(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    tenant_id: int | None
    run_id: int | None
    step_key: str | None
    details: dict[str, Any]
    correlation_id: str | None

    @classmethod
    def of(cls, event: AuditEvent) -> AuditEventPublic:
        return cls.model_validate(event, from_attributes=True)


class AuditPage(BaseModel):
    items: list[AuditEventPublic]
    total: int


@router.get('')
def list_audit_events(
    _: AdminOnly, db: DbDep,
    limit: Annotated[int, Query(ge=1, le=audit.MAX_LIMIT), blank_is(DEFAULT_LIMIT)] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_ID), blank_is(0)] = 0,
    action: Annotated[FilterText, Query(description='a key (tenant.created) or a start (run.)')] = None,
    actor: Annotated[FilterText, Query(description='a username, whatever the case')] = None,
    tenant_id: Annotated[OptionalId, Query()] = None,
    correlation_id: Annotated[CorrelationId, Query(
        description="exactly: the events of one run or of one CSV import (its tenant.imported's id)")] = None,
) -> AuditPage:
    """Newest first. An empty parameter is the same as leaving it out. `action` matches that key
    exactly when events with it exist, else every key it begins (`run.` → run.cancelled, ...)."""
    page = audit.list_events(db, limit=limit, offset=offset, action=action, actor=actor, tenant_id=tenant_id,
                             correlation_id=correlation_id)
    return AuditPage(items=[AuditEventPublic.of(event) for event in page.items], total=page.total)


@router.get('/actions')
def list_audit_actions(_: AdminOnly, db: DbDep) -> list[str]:
    """The action keys present in the log, sorted: what the `action` filter can take."""
    return audit.known_actions(db)
