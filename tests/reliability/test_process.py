"""The real process: `python main.py` started as a subprocess, talked to over HTTP, stopped
with SIGTERM. Proves first start, the one-line bad-setting error, and a clean drain."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.service import ROOT, ServiceProcess, clean_environment

PASSWORD = 'admin-password-1'


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    return clean_environment(tmp_path, database='p.db', **extra)


def start_server(tmp_path: Path, **extra: str) -> ServiceProcess:
    """The service on its own SQLite file p.db and a free port (or `extra`'s PROVISIONER_PORT)."""
    return ServiceProcess(environment(tmp_path, **extra), tmp_path / f'server-{time.monotonic_ns()}.log', timeout=30)


@pytest.fixture
def server(tmp_path):
    running = start_server(tmp_path, PROVISIONER_ADMIN_PASSWORD=PASSWORD)
    yield running
    running.kill()


def test_first_start_prepares_everything(server, tmp_path):
    key = tmp_path / 'data' / 'secret.key'
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    headers = server.token()
    engines = httpx.get(f'{server.url}/api/v1/engines', headers=headers).json()
    assert [e['name'] for e in engines] == ['Sandbox']
    assert httpx.get(f'{server.url}/healthz').json() == {'status': 'ok'}
    schema = httpx.get(f'{server.url}/api/v1/openapi.json').json()
    assert '/api/v1/tenants/{tenant_id}/provision' in schema['paths']
    assert httpx.get(f'{server.url}/sandbox/api/method/ping').json() == {'message': 'pong'}
    assert server.stop() == 0


def test_provision_end_to_end_over_http(server):
    headers = server.token()
    tenant = httpx.post(f'{server.url}/api/v1/tenants', headers=headers, json={
        'name': 'Acme Retail', 'country': 'United States', 'currency': 'USD', 'admin_email': 'ada@acme.example',
        'engine': 'Sandbox', 'stores': 2}).json()
    run = httpx.post(f'{server.url}/api/v1/tenants/{tenant["id"]}/provision', headers=headers).json()
    for _ in range(100):
        run = httpx.get(f'{server.url}/api/v1/runs/{run["id"]}', headers=headers).json()
        if run['status'] not in ('QUEUED', 'RUNNING'):
            break
        time.sleep(0.1)
    assert run['status'] == 'SUCCEEDED', run
    assert httpx.get(f'{server.url}/api/v1/tenants/{tenant["id"]}', headers=headers).json()['status'] == 'PROVISIONED'
    lines = [line for line in server.output().splitlines() if line.startswith('{')]
    assert lines and PASSWORD not in server.output() and 'sandbox:sandbox' not in server.output()


def test_sigterm_drains_and_the_next_start_resumes(server, tmp_path):
    headers = server.token()
    httpx.post(f'{server.url}/sandbox/__sandbox__/faults', json={'latency_ms': 250})
    tenant = httpx.post(f'{server.url}/api/v1/tenants', headers=headers, json={
        'name': 'Slow Shop', 'country': 'Germany', 'currency': 'EUR', 'admin_email': 'ops@slow.example',
        'engine': 'Sandbox'}).json()
    run = httpx.post(f'{server.url}/api/v1/tenants/{tenant["id"]}/provision', headers=headers).json()
    for _ in range(100):
        if httpx.get(f'{server.url}/api/v1/runs/{run["id"]}', headers=headers).json()['status'] == 'RUNNING':
            break
        time.sleep(0.05)
    time.sleep(0.6)

    assert server.stop() == 0

    with sqlite3.connect(tmp_path / 'p.db') as connection:
        status, owner = connection.execute('SELECT status, lease_owner FROM run WHERE id = ?', (run['id'],)).fetchone()
    assert (status, owner) == ('QUEUED', None)
    restarted = start_server(tmp_path, PROVISIONER_ADMIN_PASSWORD=PASSWORD,
                             PROVISIONER_PORT=server.env['PROVISIONER_PORT'])
    try:
        headers = restarted.token()
        for _ in range(150):
            final = httpx.get(f'{restarted.url}/api/v1/runs/{run["id"]}', headers=headers).json()
            if final['status'] == 'SUCCEEDED':
                break
            time.sleep(0.1)
        assert final['status'] == 'SUCCEEDED'
        assert final['steps'][0]['attempts'] == 1  # check_engine finished before the stop: not run again
    finally:
        restarted.stop()


def test_generated_admin_password_is_printed_once(tmp_path):
    first = start_server(tmp_path)
    assert first.stop() == 0
    assert first.output().count('created user "admin" with password') == 1
    second = start_server(tmp_path, PROVISIONER_PORT=first.env['PROVISIONER_PORT'])
    assert second.stop() == 0
    assert 'with password' not in second.output()


@pytest.mark.parametrize(('variable', 'value'), [('PROVISIONER_PORT', 'abc'),
                                                 ('PROVISIONER_DATABASE_URL', 'mysql://x'),
                                                 ('PROVISIONER_MAX_CONCURRENT_RUNS', '0')])
def test_a_bad_setting_stops_start_up_with_one_line(tmp_path, variable, value):
    env = environment(tmp_path, **{variable: value})
    done = subprocess.run([sys.executable, 'main.py'], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    lines = [line for line in done.stderr.strip().splitlines() if line]
    assert len(lines) == 1 and variable in lines[0] and 'Traceback' not in done.stderr
