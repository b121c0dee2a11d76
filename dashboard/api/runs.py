"""Provisioning and runs: request (202), bulk, read, retry, cancel, and the admin step actions.

Provision requests (single and bulk) are rate limited per user: 429 with Retry-After.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Request, status
from pydantic import BaseModel, ConfigDict, Field, StrictBool, computed_field

from dashboard import state
from dashboard.api.deps import AdminOnly, AnyUser, DbDep, IdPath, ProvisioningUser, SettingsDep, SupportPlus
from engine import auto_retry
from engine.services import engines, runs
from engine.validation import MAX_ID, WholeNumber
from storage.tables import Role, User

router = APIRouter(tags=['runs'])
RATE_LIMITED = {429: {'description': 'too many provision requests from this user (see Retry-After)'}}
StepKey = Annotated[str, Path(pattern=r'^[a-z_]{1,64}$', description='a step key, e.g. create_company')]


class ActionRequest(BaseModel):
    """A request body: a misspelt field is refused (`{"plam": true}` must not start a real run)."""

    model_config = ConfigDict(extra='forbid')


class ProvisionRequest(ActionRequest):
    plan: StrictBool = Field(False, description='look-ups only: report what would be created, write nothing')


class BulkProvisionRequest(ActionRequest):
    tenant_ids: list[Annotated[WholeNumber, Field(ge=1, le=MAX_ID)]] = Field(min_length=1, max_length=1000)


class BulkRetryStepRequest(ActionRequest):
    tenant_ids: list[Annotated[WholeNumber, Field(ge=1, le=MAX_ID)]] = Field(min_length=1, max_length=1000)
    step: str = Field(min_length=1, max_length=64, description='a step key, e.g. invite_tenant_admin')


class ReasonRequest(ActionRequest):
    reason: str = Field(min_length=1, max_length=runs.MAX_REASON, description='why (goes into the audit log)')


class StepPublic(BaseModel):
    key: str
    title: str
    position: int
    critical: bool
    status: str
    attempts: int = Field(description="tries of the step's current (or last) execution; 0 for a step settled by "
                                      'hand, whose tries count as earlier')
    earlier_attempts: int = Field(0, description='tries of its earlier executions in this run: before a retry or a '
                                                 'resume ran it again, or before a person skipped or marked it done')
    earlier_executions: int = Field(0, description='its earlier executions in this run (each ran to an end)')
    earlier_failures: int = Field(0, description='how many of its earlier executions failed')
    earlier_retries: int = Field(0, description='attempts past the first within its earlier executions (the '
                                                'per-step retry rate counts these, not attempts cut short)')
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    error_category: str | None
    error: str | None
    output: dict[str, Any]
    manual_by: str | None
    manual_reason: str | None


class RunPublic(BaseModel):
    id: int
    tenant_id: int
    engine_id: int
    status: str
    mode: str
    trigger: str
    requested_by: str | None = Field(description='who asked for the run (a retry keeps it)')
    retried_by: str | None = Field(None, description='who last retried the run or one of its steps')
    correlation_id: str
    attempt: int
    auto_retries: int
    warnings: int
    error_category: str | None
    error_message: str | None
    error_step: str | None
    next_retry_at: datetime | None
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @computed_field(description='what to do about a run that failed for a temporary reason and will not be '
                                'retried by itself, e.g. "No automatic retries left (3 used): click Retry run '
                                'once ERPNext is back."; for a run that succeeded with an optional step failed '
                                'for a temporary reason, when that step is retried by itself ("ERPNext throttles '
                                'new users: \'Invite tenant admin\' is retried automatically at 14:05 UTC.") or '
                                'that no retry is scheduled; null otherwise (`next_retry_at` says when a retry '
                                'comes)')
    @property
    def retry_hint(self) -> str | None:
        return auto_retry.retry_hint(self.__dict__)


class RunResumed(BaseModel):
    at: datetime = Field(description='when another claim took the run over')
    step: str | None = Field(description='the step it resumed at (its first unfinished one); null when '
                                         'only the end of the run was left to record')
    step_title: str | None


class EngineWait(BaseModel):
    """Why a queued run waits: its engine is offline (an outage fails no run; it starts once the engine answers)."""

    engine: str = Field(description="the engine's name")
    engine_id: int
    since: datetime | None = Field(description="the engine's last health check, which found it offline")
    reason: str | None = Field(description="that check's error, e.g. ERPNext refused the API key (never the secret)")
    message: str = Field(description='what the operator reads, in the words of the caller\'s role, e.g. for an admin '
                                     '"Waiting: engine \'X\' is offline: … Fix it on Engines; the run starts by itself '
                                     'once the engine answers." (the others read "Ask an admin to fix it (on Engines, '
                                     'a page for admins)" instead of "Fix it on Engines")')


class RunDetail(RunPublic):
    stuck: bool = Field(description='RUNNING longer than PROVISIONER_STUCK_AFTER_MINUTES: needs a person')
    resumed: list[RunResumed] = Field(default_factory=list, description=(
        'each time the run was resumed after its process stopped mid-run (killed, or stalled past its '
        'lease), oldest first; also the audit event run.resumed'))
    waiting_for_engine: EngineWait | None = Field(None, description=(
        'set while the run is QUEUED and its engine is offline: the run waits for it (it is not failed)'))
    steps: list[StepPublic]


class BulkResult(BaseModel):
    queued: list[RunPublic]
    refused: dict[int, str]


@router.post('/tenants/bulk-provision', status_code=status.HTTP_202_ACCEPTED, responses=RATE_LIMITED)
async def bulk_provision(body: BulkProvisionRequest, user: ProvisioningUser, db: DbDep,
                         request: Request) -> BulkResult:
    """Queue a run for each tenant; those that cannot be queued are listed under `refused`."""
    result = await asyncio.to_thread(runs.bulk_provision, db, body.tenant_ids, actor=user.username)
    await state.wake_dispatcher(request.app)
    return BulkResult(queued=[_public(run) for run in result.queued], refused=result.refused)


@router.post('/tenants/bulk-retry-step', status_code=status.HTTP_202_ACCEPTED)
async def bulk_retry_step(body: BulkRetryStepRequest, user: AdminOnly, db: DbDep, request: Request) -> BulkResult:
    """Retry one failed step (e.g. `invite_tenant_admin`) of each tenant's current run, as *Retry step* does
    for one run; tenants whose step did not fail, or that cannot be retried now, are listed under `refused`."""
    result = await asyncio.to_thread(runs.bulk_retry_step, db, body.tenant_ids, body.step, actor=user.username)
    await state.wake_dispatcher(request.app)
    return BulkResult(queued=[_public(run) for run in result.queued], refused=result.refused)


@router.post('/tenants/{tenant_id}/provision', status_code=status.HTTP_202_ACCEPTED, responses=RATE_LIMITED)
async def provision(tenant_id: IdPath, user: ProvisioningUser, db: DbDep, settings: SettingsDep, request: Request,
                    body: Annotated[ProvisionRequest | None, Body()] = None) -> RunDetail:
    """Queue a provisioning run (or a plan) of the tenant; 409 when one is already active."""
    run = await asyncio.to_thread(runs.request_provision, db, tenant_id, actor=user.username,
                                  plan=bool(body and body.plan))
    await state.wake_dispatcher(request.app)
    return await _detail(db, settings, run.id, reader=user)


@router.get('/runs/{run_id}')
async def get_run(run_id: IdPath, user: AnyUser, db: DbDep, settings: SettingsDep) -> RunDetail:
    return await _detail(db, settings, run_id, reader=user)


@router.post('/runs/{run_id}/retry', status_code=status.HTTP_202_ACCEPTED)
async def retry_run(run_id: IdPath, user: SupportPlus, db: DbDep, settings: SettingsDep,
                    request: Request) -> RunDetail:
    """Resume a failed or cancelled run from its first unfinished step."""
    await asyncio.to_thread(runs.retry_run, db, run_id, actor=user.username)
    await state.wake_dispatcher(request.app)
    return await _detail(db, settings, run_id, reader=user)


@router.post('/runs/{run_id}/cancel', status_code=status.HTTP_202_ACCEPTED)
async def cancel_run(run_id: IdPath, user: AdminOnly, db: DbDep, settings: SettingsDep) -> RunDetail:
    await asyncio.to_thread(runs.cancel_run, db, run_id, actor=user.username)
    return await _detail(db, settings, run_id, reader=user)


@router.post('/runs/{run_id}/steps/{step_key}/retry', status_code=status.HTTP_202_ACCEPTED)
async def retry_step(run_id: IdPath, step_key: StepKey, user: AdminOnly, db: DbDep, settings: SettingsDep,
                     request: Request) -> RunDetail:
    await asyncio.to_thread(runs.retry_step, db, run_id, step_key, actor=user.username)
    await state.wake_dispatcher(request.app)
    return await _detail(db, settings, run_id, reader=user)


@router.post('/runs/{run_id}/steps/{step_key}/skip', status_code=status.HTTP_202_ACCEPTED)
async def skip_step(run_id: IdPath, step_key: StepKey, body: ReasonRequest, user: AdminOnly, db: DbDep,
                    settings: SettingsDep, request: Request) -> RunDetail:
    await asyncio.to_thread(runs.skip_step, db, run_id, step_key, actor=user.username, reason=body.reason)
    await state.wake_dispatcher(request.app)
    return await _detail(db, settings, run_id, reader=user)


@router.post('/runs/{run_id}/steps/{step_key}/mark-succeeded', status_code=status.HTTP_202_ACCEPTED)
async def mark_step_succeeded(run_id: IdPath, step_key: StepKey, body: ReasonRequest, user: AdminOnly,
                              db: DbDep, settings: SettingsDep, request: Request) -> RunDetail:
    await asyncio.to_thread(runs.mark_step_succeeded, db, run_id, step_key, actor=user.username,
                            reason=body.reason)
    await state.wake_dispatcher(request.app)
    return await _detail(db, settings, run_id, reader=user)


async def _detail(db, settings, run_id: int, *, reader: User) -> RunDetail:
    """The run as GET /runs/{id} gives it to `reader` (see `worded_for`)."""
    detail = await asyncio.to_thread(runs.run_detail, db, run_id,
                                     stuck_after_minutes=settings.stuck_after_minutes)
    return RunDetail(**worded_for(detail, reader))


def worded_for(detail: dict[str, Any], reader: User) -> dict[str, Any]:
    """A `runs.run_detail` whose waiting_for_engine.message speaks to `reader`: an admin fixes the engine on
    Engines, the others (who cannot open that page) are told to ask an admin (engines.waiting_message)."""
    wait = detail.get('waiting_for_engine')
    if not wait:
        return detail
    message = engines.waiting_message(wait['engine'], wait.get('reason'), admin=reader.role == Role.ADMIN)
    return {**detail, 'waiting_for_engine': {**wait, 'message': message}}


def _public(run) -> RunPublic:
    return RunPublic.model_validate(run, from_attributes=True)

