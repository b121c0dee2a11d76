"""Aggregations over runs and step runs for the metrics page and API, computed in SQL.

Every function returns aggregated rows only (GROUP BY, COUNT, AVG, window functions): no run or
step row is loaded into Python. The expressions work on SQLite and PostgreSQL alike; where the
dialects differ (time buckets, timestamp arithmetic) `_dialect` picks the right form.

Only provision runs count (plans write nothing and would flatter the numbers), and a run counts
in the window of the time it finished (`finished_at >= since`, served by ix_run_mode_finished).

Percentiles are nearest rank (the smallest value with at least p% of the values at or below it).
Run durations are exact (ROW_NUMBER/COUNT windows over the window's runs). Step durations are
read as a histogram instead: one GROUP BY (step, duration bucket) over the window's step rows
(served by the covering index ix_steprun_run_stats), whose counts Python walks to the rank.
A window holds hundreds of thousands of step rows, which per-row window functions sorted twice;
the histogram sorts them once and sends back one row per step and bucket (a few thousand).
The buckets (DURATION_BUCKETS_MS) are 1 ms wide below 1 s, 10 ms below 10 s, 100 ms below 100 s
and 1 s beyond, and a percentile is reported as its bucket's lower edge: exact below 1 s, and
above it never more than the exact nearest-rank value and less than 1% below it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Float, Integer, and_, case, cast, func, literal_column, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from storage.queries.outcomes import finished_outcomes_since
from storage.tables import ACTIVE_RUN_STATUSES, Run, RunMode, RunStatus, StepRun, StepStatus

BUCKET_FORMATS = {  # bucket → (SQLite strftime format, how Python parses it back)
    'hour': ('%Y-%m-%d %H:00:00', '%Y-%m-%d %H:%M:%S'),
    'day': ('%Y-%m-%d', '%Y-%m-%d'),
}
PERCENTILES = (50, 95)
# Step-duration histogram: below `limit` ms, buckets `width` ms wide; WIDEST_BUCKET_MS beyond.
DURATION_BUCKETS_MS = ((1_000, 1), (10_000, 10), (100_000, 100))
WIDEST_BUCKET_MS = 1_000


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
    p50_ms: float | None
    p95_ms: float | None


def outcomes_by_bucket(session: Session, *, since: datetime, bucket: str) -> list[OutcomeCounts]:
    """Succeeded and failed runs per hour or day bucket of their finish time, oldest first."""
    bucket_expr = _bucket(session, col(Run.finished_at), bucket).label('bucket')
    query = (select(bucket_expr, _count_if(Run.status == RunStatus.SUCCEEDED),
                    _count_if(Run.status == RunStatus.FAILED))
             .where(*finished_outcomes_since(since))
             .group_by(bucket_expr).order_by(bucket_expr))
    return [OutcomeCounts(_bucket_start(value, bucket), int(ok), int(failed))
            for value, ok, failed in session.execute(query)]


def finished_runs_by_status(session: Session, *, since: datetime) -> dict[str, int]:
    """How many provision runs finished since `since`, per final status."""
    query = (select(Run.status, func.count()).where(*_finished_provision_runs(since))
             .group_by(Run.status))
    return {status: int(count) for status, count in session.execute(query)}


def cancelled_run_counts(session: Session, starts: dict[Any, datetime]) -> dict[Any, int]:
    """For each window, given by the moment it starts: how many provision runs were cancelled in it
    (finished CANCELLED), every window in one pass. They are finished runs but no outcome
    (storage/queries/outcomes.py): the success rates leave them out and say how many they left out."""
    if not starts:
        return {}
    windows, oldest = list(starts), min(starts.values())
    per_window = [_count_if(col(Run.finished_at) >= starts[window]) for window in windows]
    row = session.execute(select(*per_window).where(*_finished_provision_runs(oldest),
                                                    Run.status == RunStatus.CANCELLED)).one()
    return {window: int(count or 0) for window, count in zip(windows, row, strict=True)}


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

    An execution is a run of the step by the runner to an end (SUCCEEDED or FAILED, at least one
    attempt) in a provision run that finished since `since`: the step row's last one, and the earlier
    ones a retry or a person's skip folded into its `earlier_*` counters (storage/tables.py FOLD_EXECUTION).
    Extra attempts are the attempts past the first of each execution (attempts cut short by a cancel or
    a stopped process are not part of one). Steps settled by hand are not executions.
    The percentiles come from the duration histogram of the last executions (see the module docstring
    for precision): an earlier execution's duration is not kept.
    """
    bucket = _duration_bucket(col(StepRun.duration_ms)).label('bucket')
    last = and_(StepRun.attempts > 0, col(StepRun.status).in_((StepStatus.SUCCEEDED, StepStatus.FAILED)),
                col(StepRun.manual_by).is_(None))
    failed = and_(last, StepRun.status == StepStatus.FAILED)
    query = (select(StepRun.step_key, bucket, _count_if(last), _count_if(failed),
                    func.coalesce(func.sum(case((last, StepRun.attempts - 1), else_=0)), 0),
                    func.coalesce(func.sum(StepRun.earlier_executions), 0),
                    func.coalesce(func.sum(StepRun.earlier_failures), 0),
                    func.coalesce(func.sum(StepRun.earlier_retries), 0))
             .where(col(StepRun.run_id).in_(select(Run.id).where(*_finished_provision_runs(since))),
                    or_(last, StepRun.earlier_executions > 0))
             .group_by(StepRun.step_key, bucket))
    totals: dict[str, list[int]] = {}  # key → [executions, failed, retries]
    histograms: dict[str, list[tuple[int, int]]] = {}  # key → [(bucket, count)], null durations left out
    for key, lower_edge, count, failed, retries, earlier, earlier_failed, earlier_retries in session.execute(query):
        total = totals.setdefault(key, [0, 0, 0])
        total[0] += int(count) + int(earlier)
        total[1] += int(failed) + int(earlier_failed)
        total[2] += int(retries) + int(earlier_retries)
        if lower_edge is not None and count:
            histograms.setdefault(key, []).append((int(lower_edge), int(count)))
    return [StepAggregate(key=key, runs=runs, failed=failed, retries=retries,
                          p50_ms=histogram_percentile(histograms.get(key, []), 50),
                          p95_ms=histogram_percentile(histograms.get(key, []), 95))
            for key, (runs, failed, retries) in totals.items() if runs]


def histogram_percentile(buckets: Sequence[tuple[int, int]], percent: int) -> float | None:
    """Nearest rank over (value, count) pairs in any order: the smallest value whose cumulative
    count c satisfies c >= percent/100 * n (None when there is no value)."""
    total = sum(count for _, count in buckets)
    if not total:
        return None
    seen = 0
    for value, count in sorted(buckets):
        seen += count
        if seen * 100 >= total * percent:
            return float(value)
    raise AssertionError('unreachable: the last bucket reaches every rank')


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


def _duration_bucket(milliseconds: Any) -> Any:
    """The lower edge of the DURATION_BUCKETS_MS bucket `milliseconds` falls in (integer division
    on both dialects; the widths are inlined so GROUP BY sees the same expression as SELECT)."""
    def lower_edge(width: int) -> Any:
        return milliseconds if width == 1 else milliseconds // _int(width) * _int(width)

    return case(*[(milliseconds < _int(limit), lower_edge(width)) for limit, width in DURATION_BUCKETS_MS],
                else_=lower_edge(WIDEST_BUCKET_MS))


def _int(value: int) -> Any:
    return literal_column(str(int(value)), Integer)


def _rank_columns(value: Any) -> list[Any]:
    """ROW_NUMBER by value and COUNT of non-null values (nulls ranked last)."""
    order = value.is_(None)
    return [func.row_number().over(order_by=(order, value)).label('rn'), func.count(value).over().label('n')]


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
