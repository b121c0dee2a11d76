"""Drift: re-verify a PROVISIONED tenant against ERPNext with look-ups only (the verification
step of provisioning, fed with what the tenant's last successful run recorded), and flag what no
longer matches — a POS Profile deleted, a warehouse disabled, a payment-mode row removed.

`drifted` is a property of a PROVISIONED tenant only: a tenant that leaves that status (a run is
queued for it, a teardown requested: engine/tenant_status.py) loses the flag, a check of a tenant in
any other status changes nothing and says why, and a check that ends after the tenant left
PROVISIONED is dropped.
So the tenant's flag, the Overview's count, `provisioner_tenants_drifted` and the alert agree."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog
from sqlmodel import col, select, update

from engine.erpnext import ERPNextClient
from engine.erpnext import errors as erp
from engine.errors import ProvisioningError, VerificationFailedError
from engine.steps.base import IntentLog, StepContext, TenantSpec
from engine.steps.verify_provisioning import VerifyProvisioning
from storage import audit_log
from storage.db import Database
from storage.queries import runs as queries
from storage.tables import Run, RunMode, RunStatus, StepStatus, Tenant, TenantStatus, clip, utcnow

log = structlog.get_logger('drift')

ClientFor = Callable[[int], Awaitable[ERPNextClient]]


@dataclass(frozen=True)
class DriftResult:
    tenant_id: int
    checked: bool  # False when the tenant was not checked (then nothing was changed): see `reason`
    drifted: bool = False
    detail: str | None = None
    reason: str | None = None  # why it was not checked


async def check_tenant(db: Database, client_for: ClientFor, tenant_id: int, *, actor: str = 'system') -> DriftResult:
    """Look everything up again; store (and audit) the outcome on the tenant."""
    loaded = await asyncio.to_thread(_load, db, tenant_id)
    if isinstance(loaded, str):
        return DriftResult(tenant_id, checked=False, reason=loaded)
    spec, engine_id, outputs, intents = loaded
    client = (await client_for(engine_id)).bound(f'drift-{uuid.uuid4().hex[:12]}')
    ctx = StepContext(tenant=spec, erp=client, outputs=outputs, skipped=set(),
                      intents=IntentLog(intents, _read_only), plan=False)
    try:
        await VerifyProvisioning().run(ctx)
        problems = None
    except VerificationFailedError as exc:
        problems = '; '.join(problem.for_drift() for problem in exc.problems)
    except ProvisioningError as exc:  # verification could not compare (a needed step's output is missing)
        problems = exc.message
    except erp.ERPNextError as exc:
        log.warning('drift.unchecked', tenant=spec.name, error=exc.message)
        return DriftResult(tenant_id, checked=False, detail=exc.message,
                           reason=f'ERPNext could not be asked: {exc.message}')
    left = await asyncio.to_thread(_save, db, tenant_id, problems, actor)
    if left is not None:
        return DriftResult(tenant_id, checked=False, reason=left)
    return DriftResult(tenant_id, checked=True, drifted=problems is not None, detail=problems)


async def check_all(db: Database, client_for: ClientFor, *, limit: int = 200) -> list[DriftResult]:
    """The scheduled job: the PROVISIONED tenants checked longest ago first, a batch at a time
    (first, the flag goes from tenants that are no longer provisioned: rows of older builds)."""
    await asyncio.to_thread(clear_unprovisioned, db)
    ids = await asyncio.to_thread(_due, db, limit)
    return [await check_tenant(db, client_for, tenant_id) for tenant_id in ids]


def clear_unprovisioned(db: Database) -> int:
    """Take the drift flag from every tenant that is not PROVISIONED; returns how many lost it."""
    with db.session() as session:
        result = session.exec(update(Tenant).where(col(Tenant.drifted).is_(True),
                                                   Tenant.status != TenantStatus.PROVISIONED)
                              .values(drifted=False, drift_detail=None))
        return result.rowcount or 0


def not_checked_because(status: str) -> str:
    return f'the tenant is {status}: drift is checked on provisioned tenants only'


def _load(db: Database, tenant_id: int) -> tuple[TenantSpec, int, dict[str, dict[str, Any]], dict] | str:
    """What the check needs, or why the tenant is not checked."""
    with db.session() as session:
        tenant = session.get(Tenant, tenant_id)
        if tenant is None:
            return f'there is no tenant {tenant_id}'
        if tenant.status != TenantStatus.PROVISIONED:
            return not_checked_because(tenant.status)
        run = session.exec(select(Run).where(Run.tenant_id == tenant_id, Run.mode == RunMode.PROVISION,
                                             Run.status == RunStatus.SUCCEEDED)
                           .order_by(col(Run.id).desc())).first()
        if run is None:
            return 'the tenant has no successful provisioning run to compare ERPNext with'
        outputs = {step.step_key: step.output for step in queries.steps_of_run(session, run.id)
                   if step.status == StepStatus.SUCCEEDED and step.output}
        spec = TenantSpec(id=tenant.id, name=tenant.name, company_name=tenant.company_name, country=tenant.country,
                          currency=tenant.currency, admin_email=tenant.admin_email, stores=tenant.stores,
                          abbr=tenant.abbr)
        return spec, tenant.engine_id, outputs, queries.intents_of_tenant(session, tenant_id)


def _save(db: Database, tenant_id: int, problems: str | None, actor: str) -> str | None:
    """Store the outcome; when the tenant left PROVISIONED during the check, store nothing and
    return why (the run queued meanwhile verifies everything itself)."""
    detail = clip(problems)
    with db.session() as session:
        tenant = session.get(Tenant, tenant_id, with_for_update=True)
        if tenant is None or tenant.status != TenantStatus.PROVISIONED:
            return not_checked_because(tenant.status if tenant else 'gone')
        changed = tenant.drifted != (problems is not None)
        tenant.drifted, tenant.drift_detail, tenant.drift_checked_at = problems is not None, detail, utcnow()
        session.add(tenant)
        if changed:
            action = 'tenant.drift_detected' if problems else 'tenant.drift_cleared'
            audit_log.record(session, actor=actor, action=action, tenant_id=tenant_id,
                             details={'problems': detail} if problems else {})
    if changed:
        log.warning('drift.detected', tenant_id=tenant_id, problems=detail) if problems else \
            log.info('drift.cleared', tenant_id=tenant_id)
    return None


def _due(db: Database, limit: int) -> list[int]:
    with db.session() as session:
        query = (select(Tenant.id).where(Tenant.status == TenantStatus.PROVISIONED)
                 .order_by(col(Tenant.drift_checked_at).is_not(None), col(Tenant.drift_checked_at), col(Tenant.id))
                 .limit(limit))
        return list(session.exec(query).all())


async def _read_only(_intents: dict[str, list[str]]) -> None:
    raise RuntimeError('a drift check never records intents')
