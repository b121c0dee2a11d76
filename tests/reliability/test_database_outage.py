"""PostgreSQL goes away under a running `python main.py` and comes back (QA pass 2, finding 6).

While it is away: every API request that needs the database answers 503 with Retry-After and a
plain message (no traceback), logged as ONE warning line per request; each scheduler job logs one
`job.database_unreachable` line for the outage instead of a traceback per run (QA pass 7: the
dispatcher's tick logged one a second), and `job.database_back` when it works again. Once it is
back, the same process answers again. The cluster is this module's own (stopping the session's
would disturb other tests).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.reliability.processes import PASSWORD, ServiceProcess
from tests.support.postgres import StoppableCluster, stoppable_cluster

MESSAGE = 'The database is unreachable; try again in a few seconds.'


@pytest.fixture(scope='module')
def cluster() -> Iterator[StoppableCluster]:
    yield from stoppable_cluster()


def events(output: str, name: str) -> list[dict]:
    found = []
    for line in output.splitlines():
        if line.startswith('{') and f'"{name}"' in line:
            record = json.loads(line)
            if record.get('event') == name:
                found.append(record)
    return found


def test_a_lost_database_is_a_503_and_one_warning_line_then_service_resumes(tmp_path, cluster):
    service = ServiceProcess(tmp_path, database_url=cluster.new_database())
    try:
        headers = service.headers
        assert service.api('GET', '/tenants').status_code == 200
        cluster.pause()
        before = len(service.output())

        answers = [httpx.get(f'{service.url}/api/v1/tenants', headers=headers, timeout=30),
                   httpx.post(f'{service.url}/api/v1/auth/token', json={'username': 'admin', 'password': PASSWORD},
                              timeout=30),
                   httpx.get(f'{service.url}/api/v1/engines', headers=headers, timeout=30)]
        for answer in answers:
            assert answer.status_code == 503, answer.text
            assert answer.json() == {'detail': MESSAGE}
            assert answer.headers['retry-after'] == '5'
        time.sleep(6)  # dispatcher ticks (every second) and a health check (every 5 s)
        during = service.output()[before:]

        cluster.resume()
        deadline = time.monotonic() + 30
        while service.api('GET', '/tenants').status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert service.api('GET', '/tenants').status_code == 200
        while 'job.database_back' not in service.output()[before:] and time.monotonic() < deadline:
            time.sleep(0.5)
        back = events(service.output()[before:], 'job.database_back')
    finally:
        service.stop()

    assert 'Traceback' not in during, during
    requests = events(during, 'api.database_unreachable')
    assert [(r['method'], r['path']) for r in requests] == [
        ('GET', '/api/v1/tenants'), ('POST', '/api/v1/auth/token'), ('GET', '/api/v1/engines')]
    assert all(r['level'] == 'warning' and 'Connection refused' in r['error'] for r in requests)
    jobs = events(during, 'job.database_unreachable')
    assert {'dispatch', 'health'} <= {r['job'] for r in jobs}, jobs
    assert all(r['level'] == 'warning' and r['error'].startswith('connection failed') for r in jobs)
    assert [r['job'] for r in jobs].count('dispatch') == 1, jobs  # six ticks, one line
    assert 'dispatch' in {r['job'] for r in back}, back


def test_a_run_in_flight_when_the_database_goes_logs_one_line_and_resumes_after(tmp_path, cluster):
    from tests.reliability.processes import SandboxProcess
    sandbox = SandboxProcess(tmp_path)
    service = ServiceProcess(tmp_path, database_url=cluster.new_database())
    try:
        service.register_engine(sandbox, max_concurrent_runs=4)
        [tenant_id] = service.create_tenants(1)
        sandbox.fault(latency_ms=400)  # the run is still in flight when the database goes
        assert service.api('POST', f'/tenants/{tenant_id}/provision').status_code == 202
        deadline = time.monotonic() + 30
        while service.api('GET', f'/tenants/{tenant_id}').json()['status'] != 'PROVISIONING':
            assert time.monotonic() < deadline
            time.sleep(0.1)
        before = len(service.output())
        cluster.pause()
        time.sleep(6)  # the run's next checkpoint fails
        during = service.output()[before:]
        cluster.resume()
        sandbox.clear_faults()
        deadline = time.monotonic() + 90  # its lease (20 s) expires, and the run is claimed again
        while time.monotonic() < deadline:
            answer = service.api('GET', f'/tenants/{tenant_id}')
            if answer.status_code == 200 and answer.json()['status'] == 'PROVISIONED':
                break
            time.sleep(1)
        assert answer.json()['status'] == 'PROVISIONED', answer.text
    finally:
        service.stop()
        sandbox.stop()

    assert 'Traceback' not in during, during
    lost = events(during, 'run.database_unreachable')
    assert lost and all(r['level'] == 'warning' and r['run_id'] for r in lost), during
