"""Provisioning metrics for managers and admins: success rate, durations, per-step error and retry
rates over a window (definitions in engine/services/stats.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from dashboard.api.deps import DbDep, ManagerPlus
from dashboard.api.query import blank_is
from engine.services import stats
from engine.validation import InvalidInput
from storage.tables import utcnow

router = APIRouter(prefix='/metrics', tags=['metrics'])


class RunCounts(BaseModel):
    """`finished`: runs that ended (succeeded, failed or cancelled); `decided`: those that succeeded or
    failed, the success rate's denominator (a cancelled run is finished but not counted in it)."""

    finished: int
    decided: int
    by_status: dict[str, int]


class DurationSummary(BaseModel):
    """Start-to-finish seconds of the runs that succeeded (None when there were none)."""

    count: int
    mean: float | None
    p50: float | None
    p95: float | None
    max: float | None
    target: float


class StepSummary(BaseModel):
    key: str
    title: str
    executions: int
    failed: int
    retries: int
    error_rate: float | None
    retry_rate: float | None
    p50_ms: float | None
    p95_ms: float | None


class MetricsSummary(BaseModel):
    since: datetime
    until: datetime
    success_rate: float | None
    success_target: float
    runs: RunCounts
    duration_seconds: DurationSummary
    steps: list[StepSummary]


@router.get('/summary')
def metrics_summary(
    _: ManagerPlus, db: DbDep,
    since: Annotated[datetime | None, Query(
        description='ISO-8601 date and time (UTC when no offset is given); default (also when empty): '
                    '24 hours ago'), blank_is(None)] = None,
) -> MetricsSummary:
    """Provision runs that finished at or after `since`: success rate (succeeded / decided, where decided =
    succeeded + failed: cancelled runs are finished but not counted in it),
    counts by status (QUEUED and RUNNING: now), mean/p50/p95 provisioning time of succeeded runs, and
    per step the error rate (failed / executions) and retry rate (extra attempts / executions).
    A `since` in the future is a 422 (the window would end before it starts)."""
    if since is not None and _as_utc(since) > utcnow():
        raise InvalidInput('since', 'must not be in the future')
    return MetricsSummary.model_validate(stats.summary(db, since))


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
