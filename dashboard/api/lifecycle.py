"""The tenant lifecycle beyond provisioning: deprovision (plan or run), drift check, repair."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictBool

from dashboard import state
from dashboard.api.deps import AdminOnly, DbDep, IdPath, SettingsDep, SupportPlus
from dashboard.api.runs import ActionRequest, RunDetail, _detail
from engine.services import deprovision, drift_checks, tenants

router = APIRouter(tags=['lifecycle'])


class DeprovisionRequest(ActionRequest):
    plan: StrictBool = Field(False, description='only list what would be deleted or changed; write nothing')


class PlannedChange(BaseModel):
    step: str
    doctype: str
    name: str
    change: str | None = None


class KeptDocument(BaseModel):
    doctype: str
    name: str
    reason: str | None = Field(None, description='why the teardown leaves it in ERPNext')


class DeprovisionPlan(BaseModel):
    tenant_id: int
    tenant: str
    delete: list[PlannedChange]
    change: list[PlannedChange]
    kept: list[KeptDocument] = Field(description='left in ERPNext: names a run was about to create but no '
                                                 'step confirmed (ERPNext may have refused them), and an admin '
                                                 'user another tenant still shares')
    note: str


class DriftCheck(BaseModel):
    tenant_id: int
    checked: bool = Field(description='false when the tenant was not checked (nothing changed): see reason')
    drifted: bool
    detail: str | None
    reason: str | None = Field(None, description='why it was not checked: the tenant is not PROVISIONED '
                                                 '(drift is checked on provisioned tenants only), or ERPNext '
                                                 'could not be asked')


@router.post('/tenants/{tenant_id}/deprovision', status_code=status.HTTP_202_ACCEPTED,
             responses={200: {'model': DeprovisionPlan, 'description': 'the plan (with `plan: true`)'}})
async def deprovision_tenant(tenant_id: IdPath, user: AdminOnly, db: DbDep, settings: SettingsDep, request: Request,
                             body: Annotated[DeprovisionRequest | None, Body()] = None) -> Any:
    """Queue a teardown of exactly what the tenant's runs created (202), or with `plan: true`
    answer 200 with every document that would be deleted or changed."""
    if body is not None and body.plan:
        planned = await asyncio.to_thread(deprovision.plan, db, tenant_id)
        return JSONResponse(DeprovisionPlan(**planned).model_dump(mode='json'))
    run = await asyncio.to_thread(deprovision.request, db, tenant_id, actor=user.username)
    await state.wake_dispatcher(request.app)
    return await _detail(db, settings, run.id, reader=user)


@router.post('/tenants/{tenant_id}/drift-check')
async def check_drift(tenant_id: IdPath, user: SupportPlus, db: DbDep, request: Request) -> DriftCheck:
    """Re-verify a provisioned tenant against ERPNext with look-ups only and store the outcome."""
    async with state.engine_clients(request.app) as clients:
        result = await drift_checks.check_tenant(db, clients, tenant_id, actor=user.username)
    return DriftCheck(tenant_id=tenant_id, checked=result.checked, drifted=result.drifted, detail=result.detail,
                      reason=result.reason)


@router.post('/tenants/{tenant_id}/repair', status_code=status.HTTP_202_ACCEPTED)
async def repair(tenant_id: IdPath, user: SupportPlus, db: DbDep, settings: SettingsDep,
                 request: Request) -> RunDetail:
    """Provision a provisioned or failed tenant again: every step adopts what exists and recreates
    only what is missing (409 for a tenant with nothing to repair: never provisioned, deprovisioned)."""
    run = await asyncio.to_thread(tenants.repair, db, tenant_id, actor=user.username)
    await state.wake_dispatcher(request.app)
    return await _detail(db, settings, run.id, reader=user)

