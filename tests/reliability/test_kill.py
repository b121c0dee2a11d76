"""Kill -9: `python main.py` as a subprocess, 30 tenants queued, SIGKILL while runs are in flight,
start it again → every run resumes (within 60 s of the kill) at its first unfinished step and says
so (audit event `run.resumed`, the run's `resumed`), all PROVISIONED, no ERPNext document twice.
ERPNext is `python -m sandbox` in its own process: only the service dies, as in production."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime

from tests.reliability.processes import SandboxProcess, ServiceProcess, assert_no_duplicates

TENANTS = 30
RESUME_LIMIT_S = 60.0


def read_only(path, sql: str) -> list[tuple]:
    """The rows `sql` reads from the database file, opened read-only (the service may still hold it)."""
    connection = sqlite3.connect(f'file:{path}?mode=ro', uri=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def read_runs(path) -> dict[int, dict]:
    rows = read_only(path, 'SELECT id, status, lease_owner, metadata FROM run')
    return {run_id: {'status': status, 'owner': owner, 'claims': json.loads(meta or '{}').get('claims', [])}
            for run_id, status, owner, meta in rows}


def read_steps(path, run_ids) -> dict[int, dict[str, tuple[str, int]]]:
    rows = read_only(path, 'SELECT run_id, step_key, status, attempts FROM steprun')
    steps: dict[int, dict[str, tuple[str, int]]] = {}
    for run_id, key, status, attempts in rows:
        if run_id in run_ids:
            steps.setdefault(run_id, {})[key] = (status, attempts)
    return steps


def first_unfinished_steps(path, run_ids) -> dict[int, str]:
    """Each run's first unfinished step (by position): where it must resume."""
    rows = read_only(path, "SELECT run_id, step_key FROM steprun WHERE status IN ('PENDING', 'RUNNING') "
                           'ORDER BY run_id, position')
    first: dict[int, str] = {}
    for run_id, key in rows:
        if run_id in run_ids:
            first.setdefault(run_id, key)
    return first


def read_resumed_events(path) -> dict[int, list[tuple]]:
    rows = read_only(path, "SELECT run_id, actor, tenant_id, step_key FROM auditevent "
                           "WHERE action = 'run.resumed' ORDER BY id")
    events: dict[int, list[tuple]] = {}
    for run_id, actor, tenant_id, step_key in rows:
        events.setdefault(run_id, []).append((actor, tenant_id, step_key))
    return events


def wait_until(condition, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f'timed out waiting for {what}')


def test_sigkill_mid_flight_then_restart_resumes_every_run(tmp_path):
    database = tmp_path / 'p.db'
    url = f'sqlite:///{database}'
    sandbox = SandboxProcess(tmp_path)
    service = restarted = None
    try:
        sandbox.fault(latency_ms=60)
        service = ServiceProcess(tmp_path, database_url=url)
        service.register_engine(sandbox, max_concurrent_runs=8)
        tenant_ids = service.create_tenants(TENANTS, stores=lambda n: 1 + n % 2)
        assert service.api('POST', '/tenants/bulk-provision', json={'tenant_ids': tenant_ids}).status_code == 202

        def in_flight():
            runs = read_runs(database)
            done = sum(r['status'] == 'SUCCEEDED' for r in runs.values())
            return done >= 3 and sum(r['status'] == 'RUNNING' for r in runs.values()) >= 4
        wait_until(in_flight, timeout=120, what='runs in flight')
        service.kill()
        killed_at = datetime.now(UTC)
        before = read_runs(database)
        interrupted = {run_id: run['owner'] for run_id, run in before.items() if run['status'] == 'RUNNING'}
        done_before = {run_id: {k for k, (status, _) in steps.items() if status == 'SUCCEEDED'}
                       for run_id, steps in read_steps(database, interrupted).items()}
        resume_at = first_unfinished_steps(database, interrupted)
        assert len(interrupted) >= 4 and all(interrupted.values())

        restarted = ServiceProcess(tmp_path, database_url=url, port=service.port)

        def resumed():
            runs = read_runs(database)
            claims = {run_id: [c for c in runs[run_id]['claims'] if c['owner'] != owner]
                      for run_id, owner in interrupted.items()}
            return claims if all(claims.values()) else None
        new_claims = wait_until(resumed, timeout=RESUME_LIMIT_S + 30, what='the interrupted runs to be claimed again')
        delays = [(datetime.fromisoformat(c[0]['at']) - killed_at).total_seconds() for c in new_claims.values()]
        assert max(delays) < RESUME_LIMIT_S, delays

        def all_provisioned():
            tenants = restarted.api('GET', '/tenants?limit=500').json()['items']
            return all(t['status'] == 'PROVISIONED' for t in tenants) and len(tenants) == TENANTS
        wait_until(all_provisioned, timeout=180, what='every tenant PROVISIONED')

        # Resumed at the first unfinished step: what had succeeded before the kill was not run again.
        after = read_steps(database, interrupted)
        for run_id, keys in done_before.items():
            assert all(after[run_id][key] == ('SUCCEEDED', 1) for key in keys), (run_id, after[run_id])
        # Each says so: one run.resumed audit event (actor system) naming its tenant and that step,
        # and the run's detail lists the resumption.
        events = read_resumed_events(database)
        assert sorted(events) == sorted(interrupted), (events, interrupted)
        for run_id, step in resume_at.items():
            run = restarted.api('GET', f'/runs/{run_id}').json()
            assert events[run_id] == [('system', run['tenant_id'], step)]
            assert [item['step'] for item in run['resumed']] == [step]
        tenants = restarted.api('GET', '/tenants?limit=500').json()['items']
        counts = assert_no_duplicates(sandbox, TENANTS, {t['company_name']: t['stores'] for t in tenants})
        print(f'\nkill -9: {len(interrupted)} runs interrupted, resumed {min(delays):.1f}-{max(delays):.1f} s '
              f'after the kill (limit {RESUME_LIMIT_S:.0f} s, ratio {max(delays) / RESUME_LIMIT_S:.2f}); {counts}')
        assert restarted.stop() == 0
    finally:
        for child in (restarted, service, sandbox):
            if child is not None:
                child.stop()
