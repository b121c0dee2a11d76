"""Questions about runs and their steps, named for what they answer."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam
from sqlmodel import Session, col, select

from storage import run_meta
from storage.tables import ACTIVE_RUN_STATUSES, Run, RunMode, RunStatus, StepRun, StepStatus


def active_run_for_tenant(session: Session, tenant_id: int) -> Run | None:
    return session.exec(select(Run).where(Run.tenant_id == tenant_id,
                                          col(Run.status).in_(ACTIVE_RUN_STATUSES))).first()


def stopping_run_for_tenant(session: Session, tenant_id: int, *, now: datetime) -> Run | None:
    """The tenant's cancelled run whose execution has not ended yet: its steps in flight keep the
    run's lease until they end (or until the lease expires, when their process died)."""
    return session.exec(select(Run).where(Run.tenant_id == tenant_id, Run.status == RunStatus.CANCELLED,
                                          col(Run.lease_owner).is_not(None),
                                          col(Run.lease_expires_at) >= now)).first()


def current_run_for_tenant(session: Session, tenant_id: int) -> Run | None:
    """The tenant's current run: its newest that is not a plan (a plan only looks, so it never becomes
    the run the tenant's page shows and acts on, nor the one auto-retry weighs)."""
    return _newest(session, tenant_id, Run.mode != RunMode.PLAN)


def latest_plan_for_tenant(session: Session, tenant_id: int) -> Run | None:
    """The tenant's newest plan run."""
    return _newest(session, tenant_id, Run.mode == RunMode.PLAN)


def latest_run_for_tenant(session: Session, tenant_id: int) -> Run | None:
    """The tenant's newest run of any mode, a plan included."""
    return _newest(session, tenant_id)


def _newest(session: Session, tenant_id: int, *where: Any) -> Run | None:
    query = select(Run).where(Run.tenant_id == tenant_id, *where)
    return session.exec(query.order_by(col(Run.id).desc())).first()


def current_runs_for_tenants(session: Session, tenant_ids: Sequence[int]) -> dict[int, Run]:
    """The current run (newest that is not a plan) of each tenant in `tenant_ids` (one query)."""
    if not tenant_ids:
        return {}
    from sqlalchemy import func

    newest = (select(Run.tenant_id, func.max(Run.id).label('run_id'))
              .where(col(Run.tenant_id).in_(tenant_ids), Run.mode != RunMode.PLAN)
              .group_by(Run.tenant_id).subquery())
    runs = session.exec(select(Run).join(newest, Run.id == newest.c.run_id)).all()
    return {run.tenant_id: run for run in runs}


def runs_for_tenant(session: Session, tenant_id: int, *, limit: int = 50) -> Sequence[Run]:
    return session.exec(select(Run).where(Run.tenant_id == tenant_id)
                        .order_by(col(Run.id).desc()).limit(limit)).all()


def steps_of_run(session: Session, run_id: int) -> list[StepRun]:
    return list(session.exec(select(StepRun).where(StepRun.run_id == run_id).order_by(col(StepRun.position))).all())


def step_of_run(session: Session, run_id: int, step_key: str) -> StepRun | None:
    return session.exec(select(StepRun).where(StepRun.run_id == run_id, StepRun.step_key == step_key)).first()


def intents_of_tenant(session: Session, tenant_id: int) -> dict[str, list[str]]:
    """Every write-ahead intent recorded by any run of the tenant, merged."""
    return merge_intents(session.exec(select(Run.meta).where(Run.tenant_id == tenant_id)).all())


def merge_intents(metas: Iterable[dict[str, Any] | None]) -> dict[str, list[str]]:
    """The intents of several runs' metadata, merged (by DocType, in the order first recorded)."""
    merged: dict[str, list[str]] = {}
    for meta in metas:
        for doctype, names in (meta or {}).get(run_meta.INTENTS, {}).items():
            bucket = merged.setdefault(doctype, [])
            bucket.extend(name for name in names if name not in bucket)
    return merged


def runs_with_expired_leases(connection: Connection, run_ids: Sequence[int], *, now: datetime) -> list[Row]:
    """Of `run_ids`, the runs still RUNNING under a lease that expired (the process working on them
    died or stalled): id, tenant_id, correlation_id, lease_owner, lease_expires_at and `step`, the
    first unfinished step (by position; None when every step had ended), where the run resumes."""
    if not run_ids:
        return []
    return connection.execute(_EXPIRED_LEASES, {'b_ids': list(run_ids), 'b_now': now}).all()


_FIRST_UNFINISHED_STEP = (select(StepRun.step_key)
                          .where(StepRun.run_id == Run.id,
                                 col(StepRun.status).in_((StepStatus.PENDING, StepStatus.RUNNING)))
                          .order_by(col(StepRun.position)).limit(1).scalar_subquery())
_EXPIRED_LEASES = select(Run.id, Run.tenant_id, Run.correlation_id, Run.lease_owner, Run.lease_expires_at,
                         _FIRST_UNFINISHED_STEP.label('step')).where(
    col(Run.id).in_(bindparam('b_ids', expanding=True)), Run.status == RunStatus.RUNNING,
    col(Run.lease_expires_at) < bindparam('b_now'))
