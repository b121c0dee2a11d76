"""The overview page's numbers: tenants by status, runs in progress, success rate, mean duration.

Every number is an aggregate query; nothing here loads all tenants or all runs.
Success rate = finished provisioning runs that SUCCEEDED / decided (SUCCEEDED + FAILED); plans do not
count, and cancelled runs are finished but not counted: the page says how many it left out (one
definition for every success rate: storage/queries/outcomes.py; the words: stats.success_basis).
Duration = started → finished of SUCCEEDED provisioning runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Float, cast, extract, func
from sqlmodel import Session, col, select

from engine.services import stats
from engine.services.alerts import open_alerts
from engine.workflows import ALL_STEP_TITLES as STEP_TITLES
from storage.db import Database
from storage.queries import outcomes
from storage.queries import stats as stats_queries
from storage.queries import tenants as tenant_queries
from storage.tables import (ACTIVE_RUN_STATUSES, Run, RunMode, RunStatus, StepRun, StepStatus, Tenant, TenantStatus,
                            utcnow)

# The targets are the metrics page's (one definition): at least 95 % of runs succeed, in 5 minutes.
SUCCESS_RATE_TARGET = stats.SUCCESS_TARGET
DURATION_TARGET_S = stats.DURATION_TARGET_S
DURATION_WINDOW = timedelta(days=7)
MAX_RUNS_SHOWN = 50


@dataclass(frozen=True)
class SuccessRate:
    """Finished provisioning runs since a moment; `rate` is None when none was decided (succeeded or
    failed). Cancelled runs are finished, not decided: the rate leaves them out and `basis` says so."""

    succeeded: int
    failed: int
    cancelled: int = 0

    @property
    def decided(self) -> int:
        return self.succeeded + self.failed

    @property
    def finished(self) -> int:
        return self.decided + self.cancelled

    @property
    def rate(self) -> float | None:
        return self.succeeded / self.decided if self.decided else None

    @property
    def basis(self) -> str:
        return stats.success_basis(self.succeeded, self.failed, self.cancelled)

    @property
    def meets_target(self) -> bool | None:
        return None if self.rate is None else self.rate >= SUCCESS_RATE_TARGET


@dataclass(frozen=True)
class MeanDuration:
    """Mean started → finished time of the SUCCEEDED provisioning runs in the window."""

    runs: int
    seconds: float | None

    @property
    def meets_target(self) -> bool | None:
        return None if self.seconds is None else self.seconds <= DURATION_TARGET_S


@dataclass(frozen=True)
class RunInProgress:
    run_id: int
    tenant_id: int
    tenant_name: str
    status: str
    mode: str
    current_steps: tuple[str, ...]  # titles of the steps running now (several can run at once)
    queued_at: datetime
    started_at: datetime | None


@dataclass(frozen=True)
class OpenAlert:
    rule: str
    severity: str
    subject: str
    message: str
    opened_at: datetime


@dataclass(frozen=True)
class Overview:
    tenants_by_status: dict[str, int]
    runs_in_progress: list[RunInProgress]
    runs_in_progress_total: int
    success_24h: SuccessRate
    success_7d: SuccessRate
    mean_duration: MeanDuration
    alerts: list[OpenAlert]
    drifted: int = 0  # provisioned tenants whose last drift check found a difference

    @property
    def tenants_total(self) -> int:
        return sum(self.tenants_by_status.values())


def overview(db: Database, *, now: datetime | None = None) -> Overview:
    """Everything the overview shows."""
    now = now or utcnow()
    alerts = [OpenAlert(rule=a.rule, severity=a.severity, subject=a.subject, message=a.message,
                        opened_at=a.opened_at) for a in open_alerts(db)]
    with db.session() as session:
        in_progress, in_progress_total = runs_in_progress(session, limit=MAX_RUNS_SHOWN)
        rates = success_rates(session, {'24h': now - timedelta(hours=24), '7d': now - timedelta(days=7)})
        return Overview(
            tenants_by_status=tenant_queries.tenant_counts_by_status(session),
            runs_in_progress=in_progress,
            runs_in_progress_total=in_progress_total,
            success_24h=rates['24h'],
            success_7d=rates['7d'],
            mean_duration=mean_duration(session, since=now - DURATION_WINDOW),
            alerts=alerts,
            drifted=session.exec(select(func.count()).select_from(Tenant).where(
                col(Tenant.drifted).is_(True), Tenant.status == TenantStatus.PROVISIONED)).one(),
        )

def success_rate(session: Session, *, since: datetime) -> SuccessRate:
    """The finished provisioning outcomes since `since` (storage/queries/outcomes.py)."""
    return success_rates(session, {'since': since})['since']


def success_rates(session: Session, starts: dict[str, datetime]) -> dict[str, SuccessRate]:
    """`success_rate` of several windows (by the moment each starts) in one pass."""
    counts = outcomes.finished_outcome_counts(session, starts)
    cancelled = stats_queries.cancelled_run_counts(session, starts)
    return {window: SuccessRate(succeeded=by_status[RunStatus.SUCCEEDED], failed=by_status[RunStatus.FAILED],
                                cancelled=cancelled[window])
            for window, by_status in counts.items()}


def mean_duration(session: Session, *, since: datetime) -> MeanDuration:
    seconds = _seconds_between(session, col(Run.started_at), col(Run.finished_at))
    runs, mean = session.exec(
        select(func.count(), func.avg(seconds)).where(
            Run.mode == RunMode.PROVISION, Run.status == RunStatus.SUCCEEDED, col(Run.finished_at) >= since,
            col(Run.started_at).is_not(None),
        )).one()
    return MeanDuration(runs=runs, seconds=float(mean) if mean is not None else None)


def runs_in_progress(session: Session, *, limit: int) -> tuple[list[RunInProgress], int]:
    """QUEUED and RUNNING runs, oldest first, with their tenant and running steps; and how many there are."""
    active = col(Run.status).in_(ACTIVE_RUN_STATUSES)
    total = session.exec(select(func.count()).select_from(Run).where(active)).one()
    rows = session.exec(
        select(Run, Tenant.name).join(Tenant, col(Tenant.id) == Run.tenant_id).where(active)
        .order_by(col(Run.queued_at), col(Run.id)).limit(limit)).all()
    steps = _running_steps(session, [run.id for run, _ in rows])
    return [RunInProgress(run_id=run.id, tenant_id=run.tenant_id, tenant_name=name, status=run.status,
                          mode=run.mode, current_steps=tuple(steps.get(run.id, ())),
                          queued_at=run.queued_at, started_at=run.started_at)
            for run, name in rows], total


# ---- helpers -----------------------------------------------------------------------------------

def _running_steps(session: Session, run_ids: list[int]) -> dict[int, list[str]]:
    if not run_ids:
        return {}
    rows = session.exec(
        select(StepRun.run_id, StepRun.step_key).where(
            col(StepRun.run_id).in_(run_ids), StepRun.status == StepStatus.RUNNING,
        ).order_by(col(StepRun.run_id), col(StepRun.position))).all()
    titles: dict[int, list[str]] = {}
    for run_id, key in rows:
        titles.setdefault(run_id, []).append(STEP_TITLES.get(key, key))
    return titles


def _seconds_between(session: Session, start, end):
    """end - start in seconds, as SQL (timestamps are stored as naive UTC)."""
    if session.get_bind().dialect.name == 'postgresql':
        return extract('epoch', end - start)
    return cast((func.julianday(end) - func.julianday(start)) * 86400.0, Float)
