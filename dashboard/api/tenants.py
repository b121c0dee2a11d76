"""Tenants: list and read (anyone), create and correct (support+), delete (admin). Provisioning routes
live in runs.py, the lifecycle (deprovision, drift, repair) in lifecycle.py."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, Field

from dashboard.api.deps import AdminOnly, AnyUser, DbDep, IdPath, SettingsDep, SupportPlus
from dashboard.api.query import OptionalId, blank_is, optional_text
from dashboard.api.runs import EngineWait, RunDetail, worded_for
from engine.services import runs, tenant_edit, tenant_removal, tenants
from engine.validation import MAX_ID, TenantCreate, TenantUpdate
from storage.tables import Tenant, TenantStatus

router = APIRouter(prefix='/tenants', tags=['tenants'])
DEFAULT_LIMIT = 50
SearchText = optional_text(tenants.MAX_QUERY_LENGTH)


class TenantPublic(BaseModel):
    id: int
    name: str
    company_name: str
    abbr: str | None
    country: str
    currency: str
    admin_email: str
    stores: int
    engine_id: int
    status: str
    last_error: str | None
    drifted: bool = False
    drift_detail: str | None = None
    drift_checked_at: datetime | None = None
    created_by: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, tenant: Tenant) -> TenantPublic:
        return cls.model_validate(tenant, from_attributes=True)


class TenantDetail(TenantPublic):
    """A tenant with its latest run and its current run, both in GET /runs/{id}'s shape."""

    latest_run: RunDetail | None = Field(None, description=(
        'the newest run of any mode, a plan (look-ups only) included; null before the first'))
    current_run: RunDetail | None = Field(None, description=(
        'the newest run that is not a plan: the one the tenant page shows and acts on (retry, skip, '
        'mark succeeded); a plan never replaces it. Null until the tenant was provisioned or '
        'deprovisioned once'))
    waiting_for_engine: EngineWait | None = Field(None, description=(
        "the current run's waiting_for_engine: why the tenant stays QUEUED (its engine is offline)"))


class TenantPage(BaseModel):
    items: list[TenantPublic]
    total: int


@router.get('')
def list_tenants(
    _: AnyUser, db: DbDep,
    status_: Annotated[TenantStatus | None, Query(alias='status'), blank_is(None)] = None,
    q: Annotated[SearchText, Query(description='part of the name, company or admin email')] = None,
    engine_id: Annotated[OptionalId, Query()] = None,
    drifted: Annotated[bool | None, Query(description='only tenants whose drift check found (true) or '
                                                      'did not find (false) a difference'),
                       blank_is(None)] = None,
    warnings: Annotated[bool | None, Query(description='only tenants whose current run (the newest that is '
                                                       'not a plan) succeeded with at least one warning (true), '
                                                       'or only the others (false)'),
                        blank_is(None)] = None,
    limit: Annotated[int, Query(ge=1, le=tenants.MAX_LIMIT), blank_is(DEFAULT_LIMIT)] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_ID), blank_is(0)] = 0,
) -> TenantPage:
    """Newest first. An empty parameter (`?status=&q=`) is the same as leaving it out."""
    page = tenants.list_tenants(db, status=status_, q=q, engine_id=engine_id, drifted=drifted, warnings=warnings,
                                limit=limit, offset=offset)
    return TenantPage(items=[TenantPublic.of(tenant) for tenant in page.items], total=page.total)


@router.post('', status_code=status.HTTP_201_CREATED)
def create_tenant(body: TenantCreate, user: SupportPlus, db: DbDep) -> TenantPublic:
    """A new tenant in status NOT_STARTED; `engine` is an engine id or name."""
    return TenantPublic.of(tenants.create_tenant(db, body, actor=user.username))


@router.get('/{tenant_id}')
def get_tenant(tenant_id: IdPath, user: AnyUser, db: DbDep, settings: SettingsDep) -> TenantDetail:
    """The tenant with its latest run (`latest_run`, a plan included) and its current run
    (`current_run`, never a plan); what a waiting run's message says to do is worded for the caller's role."""
    tenant = tenants.get_tenant(db, tenant_id)
    latest, current = runs.latest_and_current_run(db, tenant_id, stuck_after_minutes=settings.stuck_after_minutes)
    latest, current = (worded_for(run, user) if run else None for run in (latest, current))
    return TenantDetail(**TenantPublic.of(tenant).model_dump(),
                        latest_run=RunDetail(**latest) if latest else None,
                        current_run=RunDetail(**current) if current else None,
                        waiting_for_engine=current and current['waiting_for_engine'])


@router.patch('/{tenant_id}', responses={404: {'description': 'no tenant with this id'}})
def update_tenant(tenant_id: IdPath, body: TenantUpdate, user: SupportPlus, db: DbDep) -> TenantPublic:
    """Correct a tenant: only the fields given change, each checked as on creation. A field may change
    while ERPNext holds nothing made from it: name at any time (the Company is named by company_name,
    which follows a new name only while it may change itself); company_name, country and currency until
    a run created the company; admin_email until the admin was invited; engine while no run recorded
    any document; stores up at any time (Provision, or Repair, then makes the new ones), down only while
    the dropped stores have no documents. What runs before a completed teardown made no longer counts.
    409 naming what blocks a field, or while a run is active; audited as `tenant.updated` (field: old →
    new)."""
    return TenantPublic.of(tenant_edit.update_tenant(db, tenant_id, body, actor=user.username))


@router.delete('/{tenant_id}', status_code=status.HTTP_204_NO_CONTENT,
               responses={404: {'description': 'no tenant with this id'}})
def delete_tenant(tenant_id: IdPath, user: AdminOnly, db: DbDep) -> Response:
    """Delete a tenant that has nothing in ERPNext (no run since its last completed teardown recorded
    a document) or was deprovisioned, with its runs; 409 otherwise (deprovision it first) or while a run
    is active. The audit log keeps its events and a `tenant.deleted` one with its name."""
    tenant_removal.delete_tenant(db, tenant_id, actor=user.username)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
