"""Figure 3, scaled out: the same queue worked off by one or several real `python main.py`
processes sharing one PostgreSQL database, the way the runbook scales Provisioner out.

One Python process spends about one CPU at most (its event loop and the GIL), so past that point
throughput grows only with processes. Each process claims with `FOR UPDATE SKIP LOCKED` under its
own `PROVISIONER_MAX_CONCURRENT_RUNS`; the engine's `max_concurrent_runs` holds across them. The
processes are the product as shipped (`PROVISIONER_SANDBOX=off`, the sandbox server as their
ERPNext), ticked by their own schedulers; their CPU is read from /proc."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from bench.memory import PASSWORD, _login, _wait_ready
from bench.sandbox_server import ROOT, SandboxServer, child_env, free_port
from bench.throughput import active, succeeded
from bench.world import tenant_name
from engine.services import runs
from storage.db import Database
from storage.tables import Tenant

DEADLINE_S = 900.0
REQUESTS_PER_SECOND = 10_000  # the engine's budget, the most it takes: out of the way at these rates


@dataclass(frozen=True)
class ScaleOut:
    processes: int
    concurrency: int  # in all: each process runs concurrency ÷ processes
    tenants: int
    seconds: float
    succeeded: int
    cpu_per_process: tuple[float, ...]  # CPU seconds of each process for the whole queue
    cpu_erpnext: float

    @property
    def per_minute(self) -> float:
        return self.succeeded * 60 / self.seconds

    @property
    def cpu_ms_per_tenant(self) -> tuple[float, float]:
        return sum(self.cpu_per_process) * 1000 / self.tenants, self.cpu_erpnext * 1000 / self.tenants


def measure(erp: SandboxServer, database_url: str, workdir: Path, *, processes: int, concurrency: int,
            tenants: int) -> ScaleOut:
    erp.reset()
    key = Fernet.generate_key().decode()
    services: list[subprocess.Popen] = []
    try:
        first, api = _start(database_url, workdir, key, 0, concurrency // processes, services)
        headers = _login(api)
        engine = api.post('/api/v1/engines', headers=headers, json={
            'name': 'Bench ERPNext', 'base_url': erp.url, 'api_key': 'sandbox', 'api_secret': 'sandbox',
            'max_concurrent_runs': concurrency, 'requests_per_second': REQUESTS_PER_SECOND})
        engine.raise_for_status()
        api.post(f'/api/v1/engines/{engine.json()["id"]}/check', headers=headers).raise_for_status()
        api.close()
        for number in range(1, processes):
            _start(database_url, workdir, key, number, concurrency // processes, services)[1].close()
        db = Database.from_url(database_url, run_migrations=False)
        try:
            ids = _add_tenants(db, engine.json()['id'], tenants)
            cpu, erp_cpu, started = [_cpu_seconds(s.pid) for s in services], erp.cpu_seconds(), time.perf_counter()
            runs.bulk_provision(db, ids, actor='bench')
            while active(db):
                if time.perf_counter() - started > DEADLINE_S:
                    raise RuntimeError(f'the queue was not worked off within {DEADLINE_S:.0f} s')
                time.sleep(0.1)
            seconds = time.perf_counter() - started
            used = tuple(_cpu_seconds(s.pid) - before for s, before in zip(services, cpu, strict=True))
            return ScaleOut(processes, concurrency, tenants, seconds, succeeded(db), used,
                            erp.cpu_seconds() - erp_cpu)
        finally:
            db.dispose()
    finally:
        for service in services:
            service.terminate()
        for service in services:
            try:
                service.wait(timeout=20)
            except subprocess.TimeoutExpired:
                service.kill()


def _start(database_url: str, workdir: Path, key: str, number: int, max_runs: int,
           services: list[subprocess.Popen]) -> tuple[subprocess.Popen, httpx.Client]:
    port = free_port()
    data = workdir / f'scale-out-{number}'
    data.mkdir(parents=True, exist_ok=True)
    env = {**child_env(), 'PROVISIONER_DATABASE_URL': database_url, 'PROVISIONER_DATA_DIR': str(data),
           'PROVISIONER_PORT': str(port), 'PROVISIONER_ADMIN_PASSWORD': PASSWORD, 'PROVISIONER_SECRET_KEY': key,
           'PROVISIONER_SANDBOX': 'off', 'PROVISIONER_MAX_CONCURRENT_RUNS': str(max_runs),
           'PROVISIONER_LOG_FORMAT': 'json'}
    service = subprocess.Popen([sys.executable, str(ROOT / 'main.py')], cwd=data, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    services.append(service)
    api = httpx.Client(base_url=f'http://127.0.0.1:{port}', timeout=30)
    _wait_ready(api, service)
    return service, api


def _add_tenants(db: Database, engine_id: int, count: int) -> list[int]:
    with db.session() as session:
        tenants = [Tenant(name=tenant_name(n), company_name=tenant_name(n), country='United States', currency='USD',
                          admin_email=f'admin{n}@tenant{n}.test', stores=1, engine_id=engine_id, created_by='bench')
                   for n in range(count)]
        session.add_all(tenants)
        session.flush()
        return [tenant.id for tenant in tenants]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')  # utime + stime
