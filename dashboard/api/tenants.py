"""Tenants: list and read (anyone), create (support+). Provisioning routes live in runs.py."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel

from dashboard.api.deps import AnyUser, DbDep, IdPath, SettingsDep, SupportPlus
from engine.services import runs, tenants
from engine.validation import MAX_ID, TenantCreate
from storage.tables import Tenant, TenantStatus

router = APIRouter(prefix='/tenants', tags=['tenants'])


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
    """A tenant with its newest run (null until it was provisioned once)."""

    latest_run: dict[str, Any] | None = None


class TenantPage(BaseModel):
    items: list[TenantPublic]
    total: int


@router.get('')
def list_tenants(
    _: AnyUser, db: DbDep,
    status_: Annotated[TenantStatus | None, Query(alias='status')] = None,
    q: Annotated[str | None, Query(max_length=tenants.MAX_QUERY_LENGTH,
                                   description='part of the name, company or admin email')] = None,
    engine_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    drifted: Annotated[bool | None, Query(description='only tenants whose drift check found (true) or did '
                                                      'not find (false) a difference')] = None,
    limit: Annotated[int, Query(ge=1, le=tenants.MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> TenantPage:
    page = tenants.list_tenants(db, status=status_, q=q, engine_id=engine_id, drifted=drifted, limit=limit,
                                offset=offset)
    return TenantPage(items=[TenantPublic.of(tenant) for tenant in page.items], total=page.total)


@router.post('', status_code=status.HTTP_201_CREATED)
def create_tenant(body: TenantCreate, user: SupportPlus, db: DbDep) -> TenantPublic:
    """A new tenant in status NOT_STARTED; `engine` is an engine id or name."""
    return TenantPublic.of(tenants.create_tenant(db, body, actor=user.username))


@router.get('/{tenant_id}')
def get_tenant(tenant_id: IdPath, _: AnyUser, db: DbDep, settings: SettingsDep) -> TenantDetail:
    tenant = tenants.get_tenant(db, tenant_id)
    return TenantDetail(**TenantPublic.of(tenant).model_dump(), latest_run=runs.latest_run_detail(
        db, tenant_id, stuck_after_minutes=settings.stuck_after_minutes))
