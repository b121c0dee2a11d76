"""Which status a tenant takes as its runs move, by run mode (a plan only looks: it changes none).

- provisioning: QUEUED (asked for, queued again by a retry, or parked while its engine is away) →
  PROVISIONING → PROVISIONED, or FAILED (a failed or cancelled run; a retry queues it again);
- deprovisioning: DEPROVISIONING from the request to the end of the teardown (a failed or cancelled
  teardown stays there, to be retried) → DEPROVISIONED.

Drift (engine/drift.py) is a property of provisioned tenants: setting any status clears it (a run
that verified the tenant leaves it in sync with ERPNext; a tenant a person marked done came from
FAILED, which had cleared it already).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, update

from storage.tables import RunMode, Tenant, TenantStatus, utcnow


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


# The same for the runner's checkpoints, which use Core statements (engine/run_store.py).
SET_STATUS = update(Tenant).where(Tenant.id == bindparam('b_tenant')).values(
    status=bindparam('b_status'), last_error=bindparam('b_error'), updated_at=bindparam('b_now'),
    drifted=False, drift_detail=None)
