"""Two `python main.py` processes share one queue on PostgreSQL: 100 tenants → all PROVISIONED,
each run executed by one process at a time, the engine's limit held across both, nothing twice.

Evidence from the database: every claim is recorded in the run's metadata (`claims`: owner and
time) in the claiming transaction (FOR UPDATE SKIP LOCKED), and every checkpoint of the runner is
fenced by the lease. So a run with exactly one claim was executed by exactly one process; and with
no failures injected, every step ran exactly once (attempts = 1). A sampler counts the RUNNING runs
in the database throughout against the engine's limit, which both processes share."""

from __future__ import annotations

import threading
import time
from collections import Counter

import psycopg

from tests.reliability.processes import SandboxProcess, ServiceProcess, assert_no_duplicates

TENANTS = 100
ENGINE_LIMIT = 10  # across both processes; each process alone could run 8 (PROVISIONER_MAX_CONCURRENT_RUNS)


class Sampler(threading.Thread):
    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url.replace('postgresql+psycopg://', 'postgresql://')
        self.running: list[int] = []
        self.owners: list[int] = []
        self.stop_event = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as connection:
            while not self.stop_event.is_set():
                count, owners = connection.execute(
                    "SELECT count(*), count(DISTINCT lease_owner) FROM run WHERE status = 'RUNNING'").fetchone()
                self.running.append(count)
                self.owners.append(owners)
                time.sleep(0.01)


def test_two_processes_share_the_queue_and_never_run_a_run_twice(tmp_path, pg_url):
    sandbox = SandboxProcess(tmp_path)
    first = second = None
    sampler = Sampler(pg_url)
    try:
        sandbox.fault(latency_ms=10)
        first = ServiceProcess(tmp_path, database_url=pg_url)  # migrates the database
        second = ServiceProcess(tmp_path, database_url=pg_url)
        first.register_engine(sandbox, max_concurrent_runs=ENGINE_LIMIT)
        tenant_ids = first.create_tenants(TENANTS)
        sampler.start()
        assert first.api('POST', '/tenants/bulk-provision', json={'tenant_ids': tenant_ids}).status_code == 202

        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            statuses = Counter(t['status'] for t in second.api('GET', '/tenants?limit=500').json()['items'])
            if statuses == {'PROVISIONED': TENANTS}:
                break
            assert not statuses['FAILED'], statuses
            time.sleep(0.5)
        else:
            raise AssertionError(f'not all provisioned: {statuses}')
        sampler.stop_event.set()
        sampler.join()

        with psycopg.connect(sampler.url) as connection:
            runs = connection.execute('SELECT id, status, metadata FROM run').fetchall()
            attempts = Counter(row[0] for row in connection.execute('SELECT attempts FROM steprun').fetchall())
        assert len(runs) == TENANTS and {status for _, status, _ in runs} == {'SUCCEEDED'}
        claims = {run_id: meta.get('claims', []) for run_id, _, meta in runs}
        assert all(len(c) == 1 for c in claims.values()), [c for c in claims.values() if len(c) != 1]
        by_owner = Counter(c[0]['owner'] for c in claims.values())
        assert len(by_owner) == 2, by_owner  # both processes took work from the one queue
        assert attempts == {1: TENANTS * 11}  # every step of every run ran exactly once
        assert sampler.running and max(sampler.running) <= ENGINE_LIMIT
        assert max(sampler.owners) == 2  # at some moment both processes were running runs
        counts = assert_no_duplicates(sandbox, TENANTS, {f'{t["company_name"]}': t['stores'] for t in
                                                         second.api('GET', '/tenants?limit=500').json()['items']})
        print(f'\npostgres: runs per process {dict(by_owner)}; max RUNNING {max(sampler.running)} '
              f'(engine limit {ENGINE_LIMIT}) over {len(sampler.running)} samples; {counts}')
    finally:
        sampler.stop_event.set()
        for child in (second, first, sandbox):
            if child is not None:
                child.stop()
