"""Figure 5: resident memory of the real `python main.py`, idle and with 64 runs in flight.

The service runs as it would in production (PROVISIONER_SANDBOX=off) against the sandbox server as
its ERPNext engine; the sandbox answers slowly (a large injected latency) so that the runs stay in
flight while VmRSS is sampled from /proc. The floor is a bare Python process holding httpx, what a
plain provisioning script needs."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.sandbox_server import ROOT, SandboxServer, child_env, free_port

PASSWORD = 'bench-admin-password-1'
TARGET_MB = 300.0


@dataclass(frozen=True)
class Memory:
    idle_mb: float
    busy_mb: float
    in_flight: int
    floor_mb: float


def rss_mb(pid: int) -> float:
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f'no VmRSS for process {pid}')


def measure(erp: SandboxServer, workdir: Path, *, runs: int = 64, slow_ms: float = 400) -> Memory:
    port = free_port()
    env = {**child_env(), 'PROVISIONER_DATABASE_URL': f'sqlite:///{workdir / "memory.db"}',
           'PROVISIONER_DATA_DIR': str(workdir / 'data'), 'PROVISIONER_PORT': str(port),
           'PROVISIONER_ADMIN_PASSWORD': PASSWORD, 'PROVISIONER_SANDBOX': 'off',
           'PROVISIONER_MAX_CONCURRENT_RUNS': str(runs), 'PROVISIONER_LOG_FORMAT': 'json'}
    service = subprocess.Popen([sys.executable, str(ROOT / 'main.py')], cwd=workdir, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with httpx.Client(base_url=f'http://127.0.0.1:{port}', timeout=30) as api:
            _wait_ready(api, service)
            time.sleep(2.0)  # the first jobs ran: health check, first ticks
            idle = rss_mb(service.pid)
            headers = _login(api)
            erp.reset()
            erp.set_latency(slow_ms)
            _queue(api, headers, erp.url, runs)
            busy, in_flight = _sample_while_running(api, headers, service.pid)
        return Memory(idle, busy, in_flight, floor_mb())
    finally:
        service.terminate()
        try:
            service.wait(timeout=20)
        except subprocess.TimeoutExpired:
            service.kill()
        erp.set_latency(erp.latency_ms)


def floor_mb() -> float:
    probe = subprocess.Popen([sys.executable, '-c', 'import httpx, json, time; c = httpx.Client(); time.sleep(30)'],
                             env=child_env())
    try:
        time.sleep(1.5)
        return rss_mb(probe.pid)
    finally:
        probe.kill()
        probe.wait()


def _wait_ready(api: httpx.Client, service: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if service.poll() is not None:
            raise RuntimeError(f'python main.py exited with status {service.returncode}')
        try:
            if api.get('/readyz').status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError('python main.py did not become ready within 60 s')


def _login(api: httpx.Client) -> dict[str, str]:
    answer = api.post('/api/v1/auth/token', json={'username': 'admin', 'password': PASSWORD})
    answer.raise_for_status()
    return {'Authorization': f'Bearer {answer.json()["access_token"]}'}


def _queue(api: httpx.Client, headers: dict[str, str], erp_url: str, runs: int) -> list[int]:
    engine = api.post('/api/v1/engines', headers=headers, json={
        'name': 'Bench ERPNext', 'base_url': erp_url, 'api_key': 'sandbox', 'api_secret': 'sandbox',
        'max_concurrent_runs': runs})
    engine.raise_for_status()
    api.post(f'/api/v1/engines/{engine.json()["id"]}/check', headers=headers).raise_for_status()
    ids = []
    for number in range(runs):
        tenant = api.post('/api/v1/tenants', headers=headers, json={
            'name': f'Memory Tenant {number}', 'country': 'United States', 'currency': 'USD',
            'admin_email': f'admin{number}@memory{number}.example.com', 'engine': engine.json()['id']})
        tenant.raise_for_status()
        ids.append(tenant.json()['id'])
    api.post('/api/v1/tenants/bulk-provision', headers=headers, json={'tenant_ids': ids}).raise_for_status()
    return ids


def _sample_while_running(api: httpx.Client, headers: dict[str, str], pid: int) -> tuple[float, int]:
    """Peak RSS while runs are in flight, and the most runs seen in flight at once (tenants PROVISIONING)."""
    peak, most, deadline = 0.0, 0, time.monotonic() + 120
    while time.monotonic() < deadline:
        peak = max(peak, rss_mb(pid))
        in_flight = api.get('/api/v1/tenants', headers=headers, params={'status': 'PROVISIONING', 'limit': 1}
                            ).json()['total']
        most = max(most, in_flight)
        if most and in_flight == 0:
            break
        time.sleep(0.25)
    return peak, most
