"""Provisioning metrics as the metrics page and `GET /api/v1/metrics/summary` show them.

The counting happens in SQL (storage/queries/stats.py); this module picks the window, turns
counts into rates and fills the time axis. Definitions, over provision runs (never plans) that
finished at or after `since`:

- finished runs: succeeded + failed + cancelled (every provision run that ended).
- decided runs: succeeded + failed, the finished runs with an outcome. The success rate is
  succeeded / decided; a cancelled run is finished but not counted in it, and every place that
  shows the rate says how many it left out (`success_basis`: "42 of 44 decided runs (1 cancelled
  not counted)").
- provisioning time: start to finish of the runs that succeeded (the 5-minute target applies to
  tenants that got provisioned).
- per step: an execution is a step the runner took to SUCCEEDED or FAILED, counting the executions
  a retry ran again (a failure later retried or skipped still counts as a failure); error rate =
  failed / executions, retry rate = extra attempts (attempts beyond the first of each execution, as
  `provisioner_step_retries_total` counts them) / executions. Steps settled by hand (skip, mark
  succeeded) are not executions, and attempts a cancel or a stopped process cut short are neither.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from engine.steps import STEP_TITLES, STEPS
from engine.validation import InvalidInput
from storage.db import Database
from storage.queries import stats as queries
from storage.queries.stats import Distribution
from storage.tables import RunStatus, utcnow

BUCKETS = {'hour': timedelta(hours=1), 'day': timedelta(days=1)}
MAX_BUCKETS = 5000  # a year of hours; more would be a useless chart
DEFAULT_WINDOW = timedelta(hours=24)
SUCCESS_TARGET = 0.95
DURATION_TARGET_S = 5 * 60  # seconds
# Provisioning-time histogram edges (seconds): fine where sandbox and small tenants land,
# then around the 5-minute target, then the long tail.
HISTOGRAM_EDGES_S = (10.0, 30.0, 60.0, 120.0, 180.0, 240.0, 300.0, 450.0, 600.0, 900.0, 1800.0)


@dataclass(frozen=True)
class SuccessPoint:
    """One bucket of the success-rate timeline (`rate` is None when no run finished in it)."""

    start: datetime
    succeeded: int
    failed: int
    rate: float | None


@dataclass(frozen=True)
class HistogramBar:
    """Succeeded runs whose provisioning time lies in [low_s, high_s) (high_s None: no upper end)."""

    low_s: float
    high_s: float | None
    count: int

    @property
    def label(self) -> str:
        return f'≥ {_duration_text(self.low_s)}' if self.high_s is None else (
            f'{_duration_text(self.low_s)}–{_duration_text(self.high_s)}')


@dataclass(frozen=True)
class StepStats:
    key: str
    title: str
    executions: int
    failed: int
    retries: int
    error_rate: float | None
    retry_rate: float | None
    p50_ms: float | None
    p95_ms: float | None


@dataclass(frozen=True)
class MetricsSnapshot:
    """Everything the metrics page draws, read in one go."""

    since: datetime
    until: datetime
    bucket: str
    timeline: list[SuccessPoint]
    by_status: dict[str, int]
    success_rate: float | None
    durations: Distribution
    histogram: list[HistogramBar]
    steps: list[StepStats]

    @property
    def finished(self) -> int:
        return sum(self.by_status.get(status, 0) for status in FINISHED_STATUSES)

    @property
    def decided(self) -> int:
        return sum(self.by_status.get(status, 0) for status in DECIDED_STATUSES)

    @property
    def success_basis(self) -> str:
        return success_basis(self.by_status.get(RunStatus.SUCCEEDED, 0), self.by_status.get(RunStatus.FAILED, 0),
                             self.by_status.get(RunStatus.CANCELLED, 0))


DECIDED_STATUSES = (RunStatus.SUCCEEDED, RunStatus.FAILED)
FINISHED_STATUSES = (*DECIDED_STATUSES, RunStatus.CANCELLED)


def success_basis(succeeded: int, failed: int, cancelled: int) -> str:
    """What a success rate was computed from, in the words every page uses:
    '42 of 44 decided runs (1 cancelled not counted)'."""
    decided = succeeded + failed
    text = f'{succeeded} of {decided} decided {"run" if decided == 1 else "runs"}'
    return f'{text} ({cancelled} cancelled not counted)' if cancelled else text


def default_since(now: datetime | None = None) -> datetime:
    return (now or utcnow()) - DEFAULT_WINDOW


def success_rate_over_time(db: Database, *, since: datetime, bucket: str = 'hour',
                           now: datetime | None = None) -> list[SuccessPoint]:
    """Succeeded, failed and success rate per UTC hour or day from `since` to now, empty buckets
    included (rate None), oldest first."""
    since, now = _window(since, now)
    _check_buckets(bucket, since, now)
    with db.session() as session:
        return _timeline(session, since, now, bucket)


def runs_by_outcome(db: Database, *, since: datetime) -> dict[str, int]:
    """Provision runs finished since `since` per final status, plus those QUEUED/RUNNING now
    (every status present, zeros included)."""
    since, _ = _window(since, None)
    with db.session() as session:
        return _by_status(session, since)


def provisioning_time(db: Database, *, since: datetime) -> Distribution:
    """Count, mean, p50, p95 and max seconds of the runs that succeeded since `since`."""
    since, _ = _window(since, None)
    with db.session() as session:
        return queries.run_durations(session, since=since)


def provisioning_time_histogram(db: Database, *, since: datetime) -> list[HistogramBar]:
    """Succeeded runs per provisioning-time bucket (HISTOGRAM_EDGES_S), every bucket present."""
    since, _ = _window(since, None)
    with db.session() as session:
        return _histogram(session, since)


def step_stats(db: Database, *, since: datetime) -> list[StepStats]:
    """Executions, error and retry rates and p50/p95 durations of every step, in workflow order."""
    since, _ = _window(since, None)
    with db.session() as session:
        return _steps(session, since)


def snapshot(db: Database, *, since: datetime, bucket: str = 'hour',
             now: datetime | None = None) -> MetricsSnapshot:
    """Everything for the metrics page, read in one transaction (one consistent view)."""
    since, now = _window(since, now)
    _check_buckets(bucket, since, now)
    with db.session() as session:
        by_status = _by_status(session, since)
        return MetricsSnapshot(
            since=since, until=now, bucket=bucket, timeline=_timeline(session, since, now, bucket),
            by_status=by_status, success_rate=_success_rate(by_status),
            durations=queries.run_durations(session, since=since), histogram=_histogram(session, since),
            steps=_steps(session, since))


def summary(db: Database, since: datetime | None = None) -> dict[str, Any]:
    """The numbers of `GET /api/v1/metrics/summary` (JSON-ready)."""
    since, now = _window(since or default_since(), None)
    with db.session() as session:
        by_status = _by_status(session, since)
        durations = queries.run_durations(session, since=since)
        steps = _steps(session, since)
    return {
        'since': since, 'until': now,
        'success_rate': _success_rate(by_status),
        'success_target': SUCCESS_TARGET,
        'runs': {'finished': sum(by_status[s] for s in FINISHED_STATUSES),
                 'decided': sum(by_status[s] for s in DECIDED_STATUSES), 'by_status': by_status},
        'duration_seconds': {'count': durations.count, 'mean': durations.mean, 'p50': durations.p50,
                             'p95': durations.p95, 'max': durations.maximum,
                             'target': DURATION_TARGET_S},
        'steps': [asdict(step) for step in steps],
    }


# ---- helpers -----------------------------------------------------------------------------------

def _timeline(session: Session, since: datetime, now: datetime, bucket: str) -> list[SuccessPoint]:
    counts = {row.bucket: row for row in queries.outcomes_by_bucket(session, since=since, bucket=bucket)}
    points, start = [], _floor(since, bucket)
    while start <= now:
        row = counts.get(start.replace(tzinfo=None))
        ok, failed = (row.succeeded, row.failed) if row else (0, 0)
        points.append(SuccessPoint(start=start, succeeded=ok, failed=failed, rate=_ratio(ok, ok + failed)))
        start += BUCKETS[bucket]
    return points


def _by_status(session: Session, since: datetime) -> dict[str, int]:
    finished = queries.finished_runs_by_status(session, since=since)
    active = queries.active_runs_by_status(session)
    return {status.value: finished.get(status, 0) + active.get(status, 0) for status in RunStatus}


def _histogram(session: Session, since: datetime) -> list[HistogramBar]:
    counts = queries.run_duration_histogram(session, since=since, edges_s=HISTOGRAM_EDGES_S)
    lows, highs = (0.0, *HISTOGRAM_EDGES_S), (*HISTOGRAM_EDGES_S, None)
    return [HistogramBar(low, high, counts.get(index, 0))
            for index, (low, high) in enumerate(zip(lows, highs, strict=True))]


def _steps(session: Session, since: datetime) -> list[StepStats]:
    found = {row.key: row for row in queries.step_aggregates(session, since=since)}
    return [_step_stats(step.key, found.get(step.key)) for step in STEPS]



def _window(since: datetime, now: datetime | None) -> tuple[datetime, datetime]:
    """`since` (naive means UTC) and `now` as aware UTC datetimes; InvalidInput when out of range."""
    if not isinstance(since, datetime):
        raise InvalidInput('since', 'must be a date and time such as 2026-01-31T08:00:00Z')
    try:
        since = since.replace(tzinfo=UTC) if since.tzinfo is None else since.astimezone(UTC)
    except (OverflowError, ValueError):
        raise InvalidInput('since', 'is out of range') from None
    return since, (now or utcnow()).astimezone(UTC)


def _check_buckets(bucket: str, since: datetime, now: datetime) -> None:
    if bucket not in BUCKETS:
        raise InvalidInput('bucket', f'must be one of {", ".join(BUCKETS)}')
    if (now - since) / BUCKETS[bucket] > MAX_BUCKETS:
        raise InvalidInput('since', f'too far back for {bucket} buckets (at most {MAX_BUCKETS})')


def _floor(moment: datetime, bucket: str) -> datetime:
    moment = moment.replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0) if bucket == 'day' else moment


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _success_rate(by_status: dict[str, int]) -> float | None:
    ok, failed = by_status.get(RunStatus.SUCCEEDED, 0), by_status.get(RunStatus.FAILED, 0)
    return _ratio(ok, ok + failed)


def _step_stats(key: str, row: queries.StepAggregate | None) -> StepStats:
    if row is None:
        return StepStats(key, STEP_TITLES[key], 0, 0, 0, None, None, None, None)
    return StepStats(key=key, title=STEP_TITLES[key], executions=row.runs, failed=row.failed,
                     retries=row.retries,
                     error_rate=_ratio(row.failed, row.runs), retry_rate=_ratio(row.retries, row.runs),
                     p50_ms=row.p50_ms, p95_ms=row.p95_ms)


def _duration_text(seconds: float) -> str:
    return f'{seconds / 60:g} min' if seconds >= 60 else f'{seconds:g} s'
