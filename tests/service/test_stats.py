"""Metrics aggregations, checked against runs the real runner made against the sandbox, on a real
SQLite file and on a throwaway PostgreSQL cluster (skipped when its server binaries are missing)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from engine.services import runs, stats
from engine.steps import STEPS
from engine.validation import InvalidInput
from storage.db import Database
from tests.engine.helpers import fault, provision


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
        assert row.p50_ms == nearest_rank(step_ms, 50) and row.p95_ms == nearest_rank(step_ms, 95), key
    company = by_step['create_company']
    assert (company.executions, company.failed, company.retries) == (5, 1, 0)
    assert company.error_rate == pytest.approx(0.2) and company.retry_rate == 0
    assert by_step['check_engine'].executions == 5 and by_step['check_engine'].error_rate == 0
    assert by_step['resolve_accounts'].executions == 4  # the failed run stopped before it
    pos = by_step['create_pos_profiles']
    assert pos.retries == 2 and pos.retry_rate == pytest.approx(0.5) and pos.error_rate == 0
    assert by_step['create_walkin_customer'].failed == 1


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
    assert summary['runs'] == {'finished': 4, 'by_status': {'QUEUED': 0, 'RUNNING': 0, 'SUCCEEDED': 3,
                                                            'FAILED': 1, 'CANCELLED': 0}}
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
