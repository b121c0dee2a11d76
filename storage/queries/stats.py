"""Aggregations over runs and step runs for the metrics page and API, computed in SQL.

Every function returns aggregated rows only (GROUP BY, COUNT, AVG, window functions): no run or
step row is loaded into Python. The expressions work on SQLite and PostgreSQL alike; where the
dialects differ (time buckets, timestamp arithmetic) `_dialect` picks the right form, and the
percentiles use nearest-rank over ROW_NUMBER/COUNT windows so both give the same numbers.

Only provision runs count (plans write nothing and would flatter the numbers), and a run counts
in the window of the time it finished (`finished_at >= since`, served by ix_run_finished).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Float, and_, case, cast, func, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from storage.tables import ACTIVE_RUN_STATUSES, Run, RunMode, RunStatus, StepRun, StepStatus

BUCKET_FORMATS = {  # bucket → (SQLite strftime format, how Python parses it back)
    'hour': ('%Y-%m-%d %H:00:00', '%Y-%m-%d %H:%M:%S'),
    'day': ('%Y-%m-%d', '%Y-%m-%d'),
}
PERCENTILES = (50, 95)


@dataclass(frozen=True)
class OutcomeCounts:
    """Succeeded and failed provision runs that finished in one time bucket (start, naive UTC)."""

    bucket: datetime
    succeeded: int
    failed: int


@dataclass(frozen=True)
class Distribution:
    """Count, mean, nearest-rank p50/p95 and maximum of a set of values (None when empty)."""

    count: int
    mean: float | None
    p50: float | None
    p95: float | None
    maximum: float | None


@dataclass(frozen=True)
class StepAggregate:
    """What the runner did with one step across the finished runs of the window."""

    key: str
    runs: int
    failed: int
    retries: int
    duration_ms: Distribution


def outcomes_by_bucket(session: Session, *, since: datetime, bucket: str) -> list[OutcomeCounts]:
    """Succeeded and failed runs per hour or day bucket of their finish time, oldest first."""
    bucket_expr = _bucket(session, col(Run.finished_at), bucket).label('bucket')
    query = (select(bucket_expr, _count_if(Run.status == RunStatus.SUCCEEDED),
                    _count_if(Run.status == RunStatus.FAILED))
             .where(*_finished_provision_runs(since),
                    col(Run.status).in_((RunStatus.SUCCEEDED, RunStatus.FAILED)))
             .group_by(bucket_expr).order_by(bucket_expr))
    return [OutcomeCounts(_bucket_start(value, bucket), int(ok), int(failed))
            for value, ok, failed in session.execute(query)]


def finished_runs_by_status(session: Session, *, since: datetime) -> dict[str, int]:
    """How many provision runs finished since `since`, per final status."""
    query = (select(Run.status, func.count()).where(*_finished_provision_runs(since))
             .group_by(Run.status))
    return {status: int(count) for status, count in session.execute(query)}


def active_runs_by_status(session: Session) -> dict[str, int]:
    """How many provision runs are QUEUED or RUNNING now."""
    query = (select(Run.status, func.count())
             .where(Run.mode == RunMode.PROVISION, col(Run.status).in_(ACTIVE_RUN_STATUSES))
             .group_by(Run.status))
    return {status: int(count) for status, count in session.execute(query)}


def run_durations(session: Session, *, since: datetime, status: str = RunStatus.SUCCEEDED) -> Distribution:
    """Seconds from start to finish of the provision runs that ended with `status`."""
    seconds = _seconds_between(session, col(Run.started_at), col(Run.finished_at)).label('value')
    values = (select(seconds).where(*_finished_provision_runs(since), Run.status == status,
                                    col(Run.started_at).is_not(None))).subquery()
    ranked = select(values.c.value, *_rank_columns(values.c.value)).subquery()
    return _as_distribution(session.execute(select(*_distribution_columns(ranked))).one())


def run_duration_histogram(session: Session, *, since: datetime, edges_s: Sequence[float],
                           status: str = RunStatus.SUCCEEDED) -> dict[int, int]:
    """Runs per duration bucket: bucket i holds durations in [edges[i-1], edges[i]); the last
    bucket (index len(edges)) holds everything from the last edge up."""
    seconds = _seconds_between(session, col(Run.started_at), col(Run.finished_at))
    index = case(*[(seconds < edge, position) for position, edge in enumerate(edges_s)],
                 else_=len(edges_s)).label('bucket')
    query = (select(index, func.count()).where(*_finished_provision_runs(since), Run.status == status,
                                               col(Run.started_at).is_not(None))
             .group_by(index))
    return {int(bucket): int(count) for bucket, count in session.execute(query)}


def step_aggregates(session: Session, *, since: datetime) -> list[StepAggregate]:
    """Per step: executions, failures, extra attempts and duration p50/p95 (milliseconds).

    An execution is a step the runner ran to an end (SUCCEEDED or FAILED, at least one attempt)
    in a provision run that finished since `since`; steps settled by hand are not counted.
    """
    executed = (select(StepRun.step_key.label('key'), col(StepRun.status).label('status'),
                       col(StepRun.attempts).label('attempts'), col(StepRun.duration_ms).label('value'))
                .where(col(StepRun.run_id).in_(select(Run.id).where(*_finished_provision_runs(since))),
                       StepRun.attempts > 0,
                       col(StepRun.status).in_((StepStatus.SUCCEEDED, StepStatus.FAILED)),
                       col(StepRun.manual_by).is_(None))).subquery()
    ranked = select(executed, *_rank_columns(executed.c.value, partition_by=executed.c.key)).subquery()
    query = (select(ranked.c.key, func.count(), _count_if(ranked.c.status == StepStatus.FAILED),
                    func.coalesce(func.sum(ranked.c.attempts - 1), 0), *_distribution_columns(ranked))
             .group_by(ranked.c.key))
    return [StepAggregate(key=key, runs=int(runs), failed=int(failed), retries=int(retries),
                          duration_ms=_as_distribution(distribution))
            for key, runs, failed, retries, *distribution in session.execute(query)]


# ---- helpers -----------------------------------------------------------------------------------

def _finished_provision_runs(since: datetime) -> tuple[ColumnElement[bool], ...]:
    return (col(Run.finished_at) >= since, Run.mode == RunMode.PROVISION)


def _count_if(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _bucket(session: Session, column: Any, bucket: str) -> Any:
    """The start of the hour/day `column` falls in: date_trunc on PostgreSQL, strftime on SQLite."""
    if _dialect(session) == 'postgresql':
        return func.date_trunc(bucket, column)
    return func.strftime(BUCKET_FORMATS[bucket][0], column)


def _bucket_start(value: datetime | str, bucket: str) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return datetime.strptime(value, BUCKET_FORMATS[bucket][1])


def _seconds_between(session: Session, start: Any, end: Any) -> Any:
    """`end - start` in (fractional) seconds, as a float on both dialects."""
    if _dialect(session) == 'postgresql':
        return cast(func.extract('epoch', end - start), Float)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def _rank_columns(value: Any, *, partition_by: Any = None) -> list[Any]:
    """ROW_NUMBER by value and COUNT of non-null values per partition (nulls ranked last)."""
    order = value.is_(None)
    return [func.row_number().over(partition_by=partition_by, order_by=(order, value)).label('rn'),
            func.count(value).over(partition_by=partition_by).label('n')]


def _percentile(ranked: Any, percent: int) -> Any:
    """Nearest rank: the smallest value whose rank r satisfies r >= percent/100 * n."""
    value = ranked.c.value
    return func.min(case((and_(value.is_not(None), ranked.c.rn * 100 >= ranked.c.n * percent), value)))


def _distribution_columns(ranked: Any) -> list[Any]:
    """Count, mean, p50, p95 and max of `ranked.c.value` (a subquery with rn/n rank columns)."""
    value = ranked.c.value
    percentiles = [_percentile(ranked, percent) for percent in PERCENTILES]
    return [func.count(value), func.avg(value), *percentiles, func.max(value)]


def _as_distribution(row: Sequence[Any]) -> Distribution:
    count, mean, p50, p95, maximum = row
    return Distribution(count=int(count or 0), mean=_float(mean), p50=_float(p50), p95=_float(p95),
                        maximum=_float(maximum))


def _float(value: Any) -> float | None:
    return None if value is None else float(value)  # PostgreSQL answers AVG with a Decimal
