"""Figure 4: the dashboard's queries on a database of 10,000 tenants, 50,000 runs and 550,000 step rows.

The rows are bulk-inserted with SQLAlchemy Core (what years of history would leave behind: five runs
per tenant over 90 days, mostly successful, eleven step rows each); then each page's and chart's
service call is timed directly, and again through its REST route (httpx's ASGI transport)."""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
from cryptography.fernet import Fernet
from fastapi import FastAPI
from sqlalchemy import insert

from bench.world import tenant_name
from dashboard.api import build_api_router
from dashboard.api.errors import install_error_handlers
from engine.security import SecretBox
from engine.services import runs as run_service
from engine.services import stats, tenant_view, tenants
from engine.services import users
from engine.settings import load_settings
from engine.steps import STEPS
from storage.db import Database
from storage.tables import Engine, Run, StepRun, Tenant

PAGE_TARGET_S = 0.100
METRICS_TARGET_S = 0.300
METRICS_WINDOW_DAYS = 30  # the window of the metrics rows (service and HTTP): a third of the history
CHUNK = 5_000
PASSWORD = 'bench-admin-password-1'


@dataclass(frozen=True)
class Timing:
    name: str
    kind: str  # 'page' or 'metrics': which target applies
    via: str  # 'service' or 'HTTP'
    p50: float
    p95: float

    @property
    def target(self) -> float:
        return METRICS_TARGET_S if self.kind == 'metrics' else PAGE_TARGET_S


def seed(db: Database, *, tenants_n: int, runs_per_tenant: int, now: datetime) -> float:
    """Bulk-insert the history; returns the seconds it took."""
    started = time.perf_counter()
    rng = random.Random(7)
    with db.engine.begin() as conn:
        engine_id = conn.execute(insert(Engine).values(
            name='Seeded ERPNext', base_url='http://erp.invalid', api_key='k',
            api_secret_encrypted=SecretBox(Fernet.generate_key()).encrypt('s'), max_concurrent_runs=8,
            health='online', created_at=now)).inserted_primary_key[0]
    tenant_rows, run_rows, step_rows = [], [], []
    run_id = 0
    for number in range(1, tenants_n + 1):
        created = now - timedelta(days=90) + timedelta(seconds=number * 89 * 86400 / tenants_n)
        final = 'PROVISIONED' if rng.random() < 0.93 else 'FAILED'
        tenant_rows.append(dict(id=number, name=f'{tenant_name(number)} {number}', company_name=tenant_name(number),
                                abbr=f'T{number}', country='United States', currency='USD',
                                admin_email=f'admin{number}@tenant{number}.test', stores=1 + number % 3,
                                engine_id=engine_id, status=final, drifted=False, created_by='bench',
                                created_at=created, updated_at=created))
        for attempt in range(1, runs_per_tenant + 1):
            run_id += 1
            queued = created + timedelta(minutes=attempt * 7)
            ok = attempt == runs_per_tenant and final == 'PROVISIONED' or rng.random() < 0.7
            run_rows.append(_run(run_id, number, engine_id, queued, attempt, ok, rng))
            step_rows.extend(_steps(run_id, queued, ok, rng))
    with db.engine.begin() as conn:
        for table, rows in ((Tenant, tenant_rows), (Run, run_rows), (StepRun, step_rows)):
            for start in range(0, len(rows), CHUNK):
                conn.execute(insert(table), rows[start:start + CHUNK])
    return time.perf_counter() - started


def _run(run_id: int, tenant_id: int, engine_id: int, queued: datetime, attempt: int, ok: bool,
         rng: random.Random) -> dict[str, Any]:
    took = timedelta(seconds=rng.uniform(0.3, 4.0))
    return dict(id=run_id, tenant_id=tenant_id, engine_id=engine_id, status='SUCCEEDED' if ok else 'FAILED',
                mode='provision', trigger='manual' if attempt == 1 else 'retry', requested_by='bench',
                correlation_id=f'{run_id:032x}', attempt=attempt, auto_retries=0, metadata={}, warnings=0,
                error_category=None if ok else 'critical', error_step=None if ok else 'create_pos_profiles',
                error_message=None if ok else 'ERPNext refused POS Profile: seeded failure',
                queued_at=queued, started_at=queued + timedelta(seconds=1), finished_at=queued + timedelta(seconds=1) + took)


def _steps(run_id: int, queued: datetime, ok: bool, rng: random.Random) -> list[dict[str, Any]]:
    rows, at = [], queued + timedelta(seconds=1)
    for position, step in enumerate(STEPS, start=1):
        failed = not ok and step.key == 'create_pos_profiles'
        status = 'FAILED' if failed else 'SUCCEEDED' if ok or position < 9 else 'PENDING'
        ms = rng.randint(20, 400)
        rows.append(dict(run_id=run_id, step_key=step.key, position=position, critical=step.critical, status=status,
                         attempts=0 if status == 'PENDING' else 1 + (rng.random() < 0.05),
                         started_at=None if status == 'PENDING' else at,
                         finished_at=None if status == 'PENDING' else at + timedelta(milliseconds=ms),
                         duration_ms=None if status == 'PENDING' else ms,
                         error_category='critical' if failed else None,
                         error_message='seeded failure' if failed else None, output={}))
        at += timedelta(milliseconds=ms)
    return rows


def time_calls(calls: dict[str, tuple[str, Callable[[], Any]]], *, repeats: int) -> list[Timing]:
    timings = []
    for name, (kind, call) in calls.items():
        call()  # warm: statement cache, page cache
        samples = []
        for _ in range(repeats):
            started = time.perf_counter()
            call()
            samples.append(time.perf_counter() - started)
        timings.append(Timing(name, kind, 'service', *_p50_p95(samples)))
    return timings


def service_calls(db: Database, *, tenant_id: int, run_id: int, since: datetime) -> dict[str, tuple[str, Callable]]:
    calls: dict[str, tuple[str, Callable]] = {
        'tenants page (first 25, with latest runs)': ('page', lambda: tenants.list_tenants_with_runs(db, limit=25)),
        'tenant search (q="bravo")': ('page', lambda: tenants.list_tenants_with_runs(db, q='bravo', limit=25)),
        'tenant detail (header, run history)': ('page', lambda: (tenant_view.tenant_header(db, tenant_id),
                                                                 tenant_view.run_history(db, tenant_id))),
        'run detail (steps)': ('page', lambda: run_service.run_detail(db, run_id)),
        'metrics summary': ('metrics', lambda: stats.summary(db, since)),
    }
    for name in ('success_rate_over_time', 'runs_by_outcome', 'provisioning_time', 'provisioning_time_histogram',
                 'step_stats'):
        if hasattr(stats, name):
            calls[f'chart: {name}'] = ('metrics', lambda fn=getattr(stats, name): fn(db, since=since))
    return calls


async def time_routes(db: Database, workdir, *, tenant_id: int, run_id: int, repeats: int) -> list[Timing]:
    settings = load_settings(database_url=str(db.engine.url), data_dir=workdir / 'data', admin_password=PASSWORD)
    app = FastAPI()
    app.state.db, app.state.settings = db, settings
    app.state.secrets = SecretBox(Fernet.generate_key())
    app.include_router(build_api_router())
    install_error_handlers(app)
    await asyncio.to_thread(users.ensure_admin, db, settings)
    routes = {'GET /api/v1/tenants?limit=25': 'page', 'GET /api/v1/tenants?q=bravo&limit=25': 'page',
              f'GET /api/v1/tenants/{tenant_id}': 'page', f'GET /api/v1/runs/{run_id}': 'page',
              f'GET /api/v1/metrics/summary?since=<{METRICS_WINDOW_DAYS} days ago>': 'metrics'}
    # The summary over the service rows' window (without `since` it would read the last 24 h only).
    since = quote((now_utc() - timedelta(days=METRICS_WINDOW_DAYS)).isoformat())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url='http://provisioner') as api:
        token = (await api.post('/api/v1/auth/token', json={'username': 'admin', 'password': PASSWORD})).json()
        headers = {'Authorization': f'Bearer {token["access_token"]}'}
        timings = []
        for route, kind in routes.items():
            path = route.split(' ', 1)[1].replace(f'<{METRICS_WINDOW_DAYS} days ago>', since)
            (await api.get(path, headers=headers)).raise_for_status()
            samples = []
            for _ in range(repeats):
                started = time.perf_counter()
                (await api.get(path, headers=headers)).raise_for_status()
                samples.append(time.perf_counter() - started)
            timings.append(Timing(route, kind, 'HTTP', *_p50_p95(samples)))
    return timings


def _p50_p95(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def now_utc() -> datetime:
    return datetime.now(UTC)
