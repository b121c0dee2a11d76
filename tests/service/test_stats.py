"""Metrics aggregations, checked against runs the real runner made against the sandbox and against a
seeded history with known rows, on a real SQLite file and on a throwaway PostgreSQL cluster (skipped
when its server binaries are missing)."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import event, insert
from sqlmodel import select

from engine.services import runs, stats
from engine.steps import STEPS
from engine.validation import InvalidInput
from storage.db import Database
from storage.queries.stats import histogram_percentile
from storage.tables import Engine, Run, StepRun
from tests.engine.helpers import fault, provision, resume, steps


@pytest.fixture(params=['sqlite', 'postgres'])
def db(request, tmp_path) -> Iterator[Database]:
    """Overrides tests/conftest.py's `db`, so the runner and tenants use both databases."""
    if request.param == 'sqlite':
        url = f'sqlite:///{tmp_path / "provisioner.db"}'
    else:
        url = request.getfixturevalue('pg_url')
    database = Database.from_url(url)
    yield database
    database.dispose()


def nearest_rank(values: list[float], percent: int) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(percent / 100 * len(ordered)) - 1]


def within_step_precision(reported: float | None, exact: float) -> bool:
    """What storage/queries/stats.py promises for step-duration percentiles: exact below 1 s, and
    above it never more than the exact value and less than 1% below it."""
    if reported is None:
        return False
    return reported == exact if exact < 1000 else exact * 0.99 < reported <= exact


async def test_numbers_match_what_the_runner_did(db, runner, make_tenant, sandbox) -> None:
    started = datetime.now(UTC)
    details = [await provision(db, runner, make_tenant().id) for _ in range(2)]
    await fault(sandbox, method='POST', doctype='POS Profile', status=503, count=2)
    details.append(await provision(db, runner, make_tenant().id))  # two retries in create_pos_profiles
    await fault(sandbox, method='POST', doctype='Customer', status=403, count=10)
    details.append(await provision(db, runner, make_tenant().id))  # a non-critical failure: still succeeds
    await sandbox.delete('/__sandbox__/faults')
    await fault(sandbox, method='POST', doctype='Company', status=403, count=10)
    details.append(await provision(db, runner, make_tenant().id))  # create_company: a critical failure
    await sandbox.delete('/__sandbox__/faults')
    await provision(db, runner, make_tenant().id, plan=True)  # plans never count
    runs.request_provision(db, make_tenant().id, actor='tests')  # one left QUEUED

    assert [d['status'] for d in details] == ['SUCCEEDED'] * 4 + ['FAILED']
    since = started - timedelta(minutes=1)

    by_status = stats.runs_by_outcome(db, since=since)
    assert by_status == {'QUEUED': 1, 'RUNNING': 0, 'SUCCEEDED': 4, 'FAILED': 1, 'CANCELLED': 0}

    durations = [(d['finished_at'] - d['started_at']).total_seconds() for d in details[:4]]
    timing = stats.provisioning_time(db, since=since)
    assert timing.count == 4
    assert timing.mean == pytest.approx(sum(durations) / 4, abs=1e-3)
    assert timing.p50 == pytest.approx(nearest_rank(durations, 50), abs=1e-3)
    assert timing.p95 == pytest.approx(nearest_rank(durations, 95), abs=1e-3)
    assert timing.maximum == pytest.approx(max(durations), abs=1e-3)

    by_step = {row.key: row for row in stats.step_stats(db, since=since)}
    assert list(by_step) == [step.key for step in STEPS]
    executed = {key: [s for d in details for s in d['steps'] if s['key'] == key and s['attempts'] > 0
                      and s['status'] in ('SUCCEEDED', 'FAILED')] for key in by_step}
    for key, row in by_step.items():
        assert row.executions == len(executed[key]), key
        assert row.failed == sum(s['status'] == 'FAILED' for s in executed[key]), key
        assert row.retries == sum(s['attempts'] - 1 for s in executed[key]), key
        step_ms = [s['duration_ms'] for s in executed[key]]
        assert within_step_precision(row.p50_ms, nearest_rank(step_ms, 50)), key
        assert within_step_precision(row.p95_ms, nearest_rank(step_ms, 95)), key
    company = by_step['create_company']
    assert (company.executions, company.failed, company.retries) == (5, 1, 0)
    assert company.error_rate == pytest.approx(0.2) and company.retry_rate == 0
    assert by_step['check_engine'].executions == 5 and by_step['check_engine'].error_rate == 0
    assert by_step['resolve_accounts'].executions == 4  # the failed run stopped before it
    pos = by_step['create_pos_profiles']
    assert pos.retries == 2 and pos.retry_rate == pytest.approx(0.5) and pos.error_rate == 0
    assert by_step['create_walkin_customer'].failed == 1


async def test_failures_stay_counted_after_a_retry_or_a_skip(db, runner, make_tenant, sandbox) -> None:
    # QA pass 4, finding 1: the rates read each step's final row, so a failure that a retry ran
    # again (or a person skipped) vanished from them.
    since = datetime.now(UTC) - timedelta(minutes=1)
    await fault(sandbox, method='POST', doctype='Company', status=403, count=1)
    first = await provision(db, runner, make_tenant().id)
    assert first['status'] == 'FAILED'
    runs.retry_step(db, first['id'], 'create_company', actor='admin')  # the person's fix, then a retry
    first = await resume(db, runner, first['id'])

    await fault(sandbox, method='POST', doctype='POS Profile', status=503, count=4)  # every attempt
    second = await provision(db, runner, make_tenant().id)
    assert (second['status'], steps(second)['create_pos_profiles']['attempts']) == ('FAILED', 4)
    runs.retry_run(db, second['id'], actor='admin')
    second = await resume(db, runner, second['id'])
    pos = steps(second)['create_pos_profiles']
    assert (pos['status'], pos['attempts'], pos['earlier_attempts'], pos['earlier_executions'],
            pos['earlier_failures']) == ('SUCCEEDED', 1, 4, 1, 1)

    await fault(sandbox, method='POST', doctype='Customer', status=403, count=10)  # not critical
    third = await provision(db, runner, make_tenant().id)
    runs.skip_step(db, third['id'], 'create_walkin_customer', actor='admin', reason='made by hand')
    runs.retry_step(db, third['id'], 'create_price_list', actor='admin')  # ran fine: run it once more
    third = await resume(db, runner, third['id'])
    assert [d['status'] for d in (first, second, third)] == ['SUCCEEDED'] * 3

    by_step = {row.key: row for row in stats.step_stats(db, since=since)}
    company = by_step['create_company']
    assert (company.executions, company.failed, company.retries) == (4, 1, 0)
    pos = by_step['create_pos_profiles']
    assert (pos.executions, pos.failed, pos.retries) == (4, 1, 3)  # 3 + 1 succeeded runs; 3 extra tries
    customer = by_step['create_walkin_customer']
    assert (customer.executions, customer.failed) == (3, 1)  # skipped afterwards: still a failure
    price_list = by_step['create_price_list']
    assert (price_list.executions, price_list.failed, price_list.retries) == (4, 0, 0)  # ran twice in one run
    summary = stats.summary(db, since=since)
    assert summary['success_rate'] == 1.0


async def test_a_failure_before_an_outage_parked_the_run_stays_counted(db, runner, make_tenant, sandbox) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    await fault(sandbox, offline=True)
    parked = await provision(db, runner, make_tenant().id)
    assert (parked['status'], steps(parked)['check_engine']['status']) == ('QUEUED', 'FAILED')
    await sandbox.delete('/__sandbox__/faults')
    resumed = await resume(db, runner, parked['id'])  # the engine is back: the run goes on by itself
    check = steps(resumed)['check_engine']
    assert (resumed['status'], check['attempts'], check['earlier_attempts'], check['earlier_failures']) == (
        'SUCCEEDED', 1, 4, 1)
    by_step = {row.key: row for row in stats.step_stats(db, since=since)}
    assert (by_step['check_engine'].executions, by_step['check_engine'].failed,
            by_step['check_engine'].retries) == (2, 1, 3)


async def test_timeline_histogram_and_summary(db, runner, make_tenant, sandbox) -> None:
    since = datetime.now(UTC) - timedelta(hours=3)
    for _ in range(3):
        await provision(db, runner, make_tenant().id)
    await fault(sandbox, method='POST', doctype='Company', status=403, count=10)
    await provision(db, runner, make_tenant().id)

    now = datetime.now(UTC)
    hours = stats.success_rate_over_time(db, since=since, bucket='hour', now=now)
    assert [p.start for p in hours] == [since.replace(minute=0, second=0, microsecond=0) + timedelta(hours=n)
                                        for n in range(len(hours))]  # every hour, empty ones too
    assert hours[-1].start <= now < hours[-1].start + timedelta(hours=1) and len(hours) >= 4
    assert (hours[0].succeeded, hours[0].failed, hours[0].rate) == (0, 0, None)
    assert sum(p.succeeded for p in hours) == 3 and sum(p.failed for p in hours) == 1
    for point in hours:
        total = point.succeeded + point.failed
        assert point.rate == (point.succeeded / total if total else None)

    days = stats.success_rate_over_time(db, since=now - timedelta(days=6), bucket='day', now=now)
    assert len(days) == 7 and sum(p.succeeded for p in days) == 3 and sum(p.failed for p in days) == 1
    assert days[-1].start == now.replace(hour=0, minute=0, second=0, microsecond=0)

    bars = stats.provisioning_time_histogram(db, since=since)
    assert len(bars) == len(stats.HISTOGRAM_EDGES_S) + 1
    assert bars[0].count == 3 and sum(bar.count for bar in bars) == 3  # sandbox runs take seconds
    assert bars[-1].high_s is None and bars[0].label == '0 s–10 s'

    summary = stats.summary(db, since)
    assert summary['success_rate'] == pytest.approx(0.75)
    assert summary['runs'] == {'finished': 4, 'decided': 4,
                               'by_status': {'QUEUED': 0, 'RUNNING': 0, 'SUCCEEDED': 3, 'FAILED': 1, 'CANCELLED': 0}}
    assert summary['duration_seconds']['count'] == 3
    assert summary['steps'][1]['key'] == 'create_company' and summary['steps'][1]['failed'] == 1


async def test_an_empty_window_has_no_rates(db, runner, make_tenant) -> None:
    await provision(db, runner, make_tenant().id)
    later = datetime.now(UTC) + timedelta(minutes=5)

    summary = stats.summary(db, later)

    assert summary['success_rate'] is None and summary['runs']['finished'] == 0
    assert summary['duration_seconds']['p50'] is None and summary['duration_seconds']['count'] == 0
    assert all(step['executions'] == 0 and step['error_rate'] is None for step in summary['steps'])


def test_bad_windows_are_refused(tmp_path) -> None:
    database = Database.from_url(f'sqlite:///{tmp_path / "empty.db"}')
    with pytest.raises(InvalidInput, match='bucket'):
        stats.success_rate_over_time(database, since=datetime.now(UTC), bucket='minute')
    with pytest.raises(InvalidInput, match='too far back'):
        stats.success_rate_over_time(database, since=datetime(2000, 1, 1, tzinfo=UTC), bucket='hour')
    with pytest.raises(InvalidInput, match='since'):
        stats.summary(database, datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))))  # year 0 in UTC
    assert stats.summary(database, datetime(1, 1, 1, tzinfo=UTC))['runs']['finished'] == 0
    database.dispose()


# ---- a seeded history: every kind of row the step metrics must count or leave out ----------------

def seed_history(db: Database, tenant_ids: list[int], *, since: datetime, rng: random.Random) -> list[dict]:
    """Runs and step rows inserted as stored history, with durations from 0 ms to 400 s (every bucket
    width of the step histogram). Returns each step row with its run's mode and finish time."""
    engine_id = db_engine_id(db)
    run_rows, step_rows = [], []

    def add_run(run_id: int, tenant_id: int, status: str, mode: str, finished: datetime | None) -> None:
        run_rows.append(dict(id=run_id, tenant_id=tenant_id, engine_id=engine_id, status=status, mode=mode,
                             correlation_id=f'{run_id:032x}', metadata={}, queued_at=since, started_at=since,
                             finished_at=finished))

    def add_step(run_id: int, step: Any, position: int, mode: str, finished: datetime | None,
                 **fields: Any) -> None:
        step_rows.append(dict(run_id=run_id, step_key=step.key, position=position, critical=step.critical,
                              output={}, mode=mode, run_finished=finished, **fields))

    for run_id in range(1, 301):  # finished runs: a tenth before the window, a twenty-fifth of them plans
        mode = 'plan' if run_id % 25 == 0 else 'provision'
        finished = since + timedelta(minutes=run_id) if run_id % 10 else since - timedelta(minutes=run_id)
        add_run(run_id, tenant_ids[0], 'FAILED' if run_id % 7 == 0 else 'SUCCEEDED', mode, finished)
        for position, step in enumerate(STEPS, start=1):
            status = rng.choices(['SUCCEEDED', 'FAILED', 'SKIPPED', 'PENDING'], [80, 10, 5, 5])[0]
            ran = status in ('SUCCEEDED', 'FAILED') and rng.random() > 0.02
            earlier = rng.choice([0] * 8 + [1, 2])  # executions a retry ran again, or a person settled
            failures = rng.randint(0, earlier)
            retried = rng.choice([0, 0, 1, 2]) if earlier else 0
            add_step(run_id, step, position, mode, finished, status=status,
                     attempts=rng.choice([1, 1, 1, 2, 3]) if ran else 0,
                     duration_ms=None if rng.random() < 0.03 else log_uniform_ms(rng, 400_000),
                     manual_by='admin' if rng.random() < 0.03 else None,
                     earlier_executions=earlier, earlier_failures=failures, earlier_retries=retried,
                     earlier_attempts=earlier + retried + rng.choice([0, 0, 1]) if earlier else rng.choice([0] * 9 + [1]))
    for run_id, status, tenant_id in ((301, 'RUNNING', tenant_ids[1]), (302, 'QUEUED', tenant_ids[2])):
        add_run(run_id, tenant_id, status, 'provision', None)  # not finished: never counted
        for position, step in enumerate(STEPS, start=1):
            add_step(run_id, step, position, 'provision', None, status='SUCCEEDED', attempts=1, duration_ms=5,
                     manual_by=None, earlier_executions=1, earlier_failures=1, earlier_retries=0, earlier_attempts=1)
    with db.engine.begin() as conn:
        conn.execute(insert(Run), run_rows)
        conn.execute(insert(StepRun), [{k: v for k, v in row.items() if k not in ('mode', 'run_finished')}
                                       for row in step_rows])
    return step_rows


def log_uniform_ms(rng: random.Random, highest: int) -> int:
    return int(math.exp(rng.uniform(0, math.log(highest))))


def db_engine_id(db: Database) -> int:
    with db.session() as session:
        return session.exec(select(Engine.id)).one()


def test_step_stats_match_a_seeded_history(db, make_tenant) -> None:
    since = datetime.now(UTC) - timedelta(days=2)
    rows = seed_history(db, [make_tenant().id for _ in range(3)], since=since, rng=random.Random(7))

    by_step = {row.key: row for row in stats.step_stats(db, since=since)}

    window = [r for r in rows if r['mode'] == 'provision' and r['run_finished'] is not None
              and r['run_finished'] >= since]
    counted = [r for r in window if r['attempts'] > 0
               and r['status'] in ('SUCCEEDED', 'FAILED') and r['manual_by'] is None]
    assert len(counted) > 1000 and any(r['duration_ms'] is None for r in counted)
    assert any(r['earlier_failures'] and r['manual_by'] for r in window)  # a failure, then skipped by hand
    slow_percentiles = 0
    for step in STEPS:
        mine = [r for r in counted if r['step_key'] == step.key]
        earlier = [r for r in window if r['step_key'] == step.key]  # settled by hand or not
        row = by_step[step.key]
        assert row.executions == len(mine) + sum(r['earlier_executions'] for r in earlier), step.key
        assert row.failed == (sum(r['status'] == 'FAILED' for r in mine)
                              + sum(r['earlier_failures'] for r in earlier)), step.key
        assert row.retries == (sum(r['attempts'] - 1 for r in mine)
                               + sum(r['earlier_retries'] for r in earlier)), step.key
        durations = [r['duration_ms'] for r in mine if r['duration_ms'] is not None]
        for percent, reported in ((50, row.p50_ms), (95, row.p95_ms)):
            exact = nearest_rank(durations, percent)
            assert within_step_precision(reported, exact), (step.key, percent, reported, exact)
            slow_percentiles += exact >= 1000
    assert slow_percentiles >= len(STEPS)  # the rounded buckets were exercised, not only the exact ones


def test_step_histogram_percentiles_are_nearest_rank() -> None:
    rng = random.Random(3)
    for size in (1, 2, 3, 19, 20, 21, 100, 1001):
        values = [rng.randint(0, 50) for _ in range(size)]
        buckets = list(Counter(values).items())
        rng.shuffle(buckets)
        for percent in (1, 50, 95, 100):
            assert histogram_percentile(buckets, percent) == nearest_rank(values, percent), (size, percent)
    assert histogram_percentile([], 50) is None


def test_metrics_read_covering_indexes_on_sqlite(tmp_path) -> None:
    """The window's runs and step rows are read from ix_run_mode_finished and ix_steprun_run_stats
    alone (no table rows, no scan of the whole history): the plan SQLite picks for each query."""
    database = Database.from_url(f'sqlite:///{tmp_path / "plans.db"}')
    statements: list[tuple[str, Any]] = []
    event.listen(database.engine, 'before_cursor_execute',
                 lambda conn, cursor, sql, params, context, many: statements.append((sql, params)))
    since = datetime.now(UTC) - timedelta(days=30)
    stats.summary(database, since)
    stats.provisioning_time_histogram(database, since=since)
    stats.success_rate_over_time(database, since=since, bucket='day')
    plans = {}
    with database.engine.connect() as conn:
        for statement, params in statements:
            if statement.lstrip().upper().startswith('SELECT') and 'FROM run' in statement:
                rows = conn.exec_driver_sql(f'EXPLAIN QUERY PLAN {statement}', params)
                plans[statement] = [row[3] for row in rows]
    database.dispose()
    assert len(plans) >= 5
    for statement, plan in plans.items():
        if 'status IN' in statement and 'finished_at' not in statement:
            continue  # runs QUEUED or RUNNING now: ix_run_status_queued
        assert any('COVERING INDEX ix_run_mode_finished' in line for line in plan), (statement, plan)
        if 'FROM steprun' in statement:
            assert any('COVERING INDEX ix_steprun_run_stats' in line for line in plan), (statement, plan)
        assert not any(line.startswith('SCAN run') or line.startswith('SCAN steprun') for line in plan), plan
