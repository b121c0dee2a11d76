"""Which status a tenant takes as its runs move, by run mode (a plan only looks: it changes none).

- provisioning: QUEUED (asked for, queued again by a retry, or parked while its engine is away) →
  PROVISIONING → PROVISIONED, or FAILED (a failed or cancelled run; a retry queues it again). A run
  cancelled before it started (nothing ran, ERPNext was not touched) gives the tenant back what it
  had when the run was queued (`queue`, `after_cancel`): NOT_STARTED, FAILED, or PROVISIONED for a
  re-run or repair of a provisioned tenant;
- deprovisioning: DEPROVISIONING from the request to the end of the teardown (a failed or cancelled
  teardown stays there, to be retried) → DEPROVISIONED.

Drift (engine/drift.py) is a property of provisioned tenants: setting any status clears it (a run
that verified the tenant leaves it in sync with ERPNext; a tenant a person marked done came from
FAILED, which had cleared it already).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, update

from storage.tables import Run, RunMode, Tenant, TenantStatus, utcnow

BEFORE_RUN = 'tenant_before'  # run metadata: the tenant as it was when the run was queued (`queue`)


@dataclass(frozen=True)
class Lifecycle:
    queued: str
    running: str
    succeeded: str
    failed: str  # also cancelled


LIFECYCLES = {
    RunMode.PROVISION: Lifecycle(queued=TenantStatus.QUEUED, running=TenantStatus.PROVISIONING,
                                 succeeded=TenantStatus.PROVISIONED, failed=TenantStatus.FAILED),
    RunMode.DEPROVISION: Lifecycle(queued=TenantStatus.DEPROVISIONING, running=TenantStatus.DEPROVISIONING,
                                   succeeded=TenantStatus.DEPROVISIONED, failed=TenantStatus.DEPROVISIONING),
}


def lifecycle(mode: str) -> Lifecycle | None:
    """The statuses a run of `mode` gives its tenant; None for a plan."""
    return LIFECYCLES.get(mode)


def set_status(tenant: Tenant, status: str, error: str | None = None) -> None:
    """Give the tenant `status` and `error` (its last_error, None to clear), clearing drift."""
    tenant.status, tenant.last_error, tenant.updated_at = status, error, utcnow()
    tenant.drifted, tenant.drift_detail = False, None


def queue(tenant: Tenant, run: Run, status: str) -> None:
    """Give the tenant `status`, the queued status of `run`, noting in the run's metadata what the
    tenant had before: a cancel before the run starts gives it back (`after_cancel`)."""
    before = {'status': tenant.status, 'error': tenant.last_error, 'drifted': tenant.drifted,
              'drift_detail': tenant.drift_detail}
    run.meta = {**(run.meta or {}), BEFORE_RUN: before}
    set_status(tenant, status)


def after_cancel(tenant: Tenant, run: Run, error: str) -> None:
    """The tenant's status once `run` (a provisioning or teardown run) was cancelled. A run whose
    attempt never started (queued, or claimed but not begun: no step ran) leaves the tenant as it was
    before it was queued, its error and drift included. One that started may have changed ERPNext,
    even if it stopped before creating anything (a step in flight ends after the cancel): its
    lifecycle's failed status, with `error` (retrying resumes it)."""
    statuses = lifecycle(run.mode)
    before = (run.meta or {}).get(BEFORE_RUN)
    if run.started_at is None and before and before['status'] not in (statuses.queued, statuses.running):
        set_status(tenant, before['status'], before['error'])
        tenant.drifted, tenant.drift_detail = bool(before['drifted']), before['drift_detail']
    else:
        set_status(tenant, statuses.failed, error)


# The same for the runner's checkpoints, which use Core statements (engine/run_store.py).
SET_STATUS = update(Tenant).where(Tenant.id == bindparam('b_tenant')).values(
    status=bindparam('b_status'), last_error=bindparam('b_error'), updated_at=bindparam('b_now'),
    drifted=False, drift_detail=None)
