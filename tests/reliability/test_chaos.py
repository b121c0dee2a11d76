"""Chaos: 100 tenants on two engines through a sandbox that fails 20% of writes with 502 or 503
and adds latency. The real dispatcher, runner, auto-retry and ERPNext client (over ASGI) on a real
SQLite file; the running count is sampled throughout against the global and per-engine limits."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from dataclasses import dataclass, field

import httpx
import pytest
from sqlmodel import func, select

from engine.auto_retry import AutoRetry, AutoRetryPolicy
from engine.clients import EngineClients
from engine.dispatcher import Dispatcher
from engine.runner import RetryPolicy, Runner
from engine.services import runs
from sandbox import create_app
from storage.tables import Engine, Run, StepRun, Tenant
from tests.engine.helpers import documents, fault
from tests.reliability.processes import company_name

TENANTS = 100
GLOBAL_LIMIT = 6
ENGINE_LIMITS = {'ERP North': 3, 'ERP South': 4}  # together above the global limit: both limits bind
# The default 4 attempts a step, with a fast backoff: with 20% of writes failing, a step with
# several writes still fails now and then, and its run is then retried automatically.
CHAOS_RETRIES = RetryPolicy(max_attempts=4, step_budget_s=60, attempt_timeout_s=20, backoff_s=0.01,
                            backoff_max_s=0.05)


@dataclass
class Samples:
    """What the sampler saw: running runs in the database, per engine and in all; tasks in the process."""

    total: list[int] = field(default_factory=list)
    per_engine: dict[int, list[int]] = field(default_factory=dict)
    tasks: list[int] = field(default_factory=list)


async def sample(path, dispatcher: Dispatcher, samples: Samples, stop: asyncio.Event) -> None:
    # A plain read-only connection: reading does not take the write lock the service's sessions take.
    connection = sqlite3.connect(f'file:{path}?mode=ro', uri=True)
    try:
        while not stop.is_set():
            rows = dict(connection.execute(
                "SELECT engine_id, count(*) FROM run WHERE status = 'RUNNING' GROUP BY engine_id").fetchall())
            samples.total.append(sum(rows.values()))
            for engine_id, count in rows.items():
                samples.per_engine.setdefault(engine_id, []).append(count)
            samples.tasks.append(len(dispatcher.tasks))
            await asyncio.sleep(0.005)
    finally:
        connection.close()


@pytest.fixture
def chaos_sandbox():
    return create_app(user_throttle_limit=100_000)  # 100 admin users in a row: above ERPNext's default 60/h


async def test_a_hundred_tenants_through_failing_writes(db, secrets, tmp_path, chaos_sandbox):
    engines = {}
    with db.session() as session:
        for name, limit in ENGINE_LIMITS.items():
            engine = Engine(name=name, base_url='http://sandbox', api_key='sandbox',
                            api_secret_encrypted=secrets.encrypt('sandbox'), max_concurrent_runs=limit,
                            requests_per_second=400)
            session.add(engine)
            session.flush()
            engines[engine.id] = limit
        tenants = [Tenant(name=company_name(n), company_name=company_name(n), country='United States',
                          currency='USD', admin_email=f'owner{n}@chaos{n}.example.com', stores=1 + n % 3,
                          engine_id=list(engines)[n % 2]) for n in range(TENANTS)]
        session.add_all(tenants)
    stores_of = {t.company_name: t.stores for t in tenants}

    clients = EngineClients(db, secrets, timeout=10,
                            transport_for=lambda engine: httpx.ASGITransport(app=chaos_sandbox))
    policy = AutoRetryPolicy(limit=3, first_delay_s=0.2, max_delay_s=1.0)
    runner = Runner(db, clients.get, policy=CHAOS_RETRIES, auto_retry=policy)
    dispatcher = Dispatcher(db, runner, max_concurrent=GLOBAL_LIMIT, owner='chaos')
    auto_retry = AutoRetry(db, policy)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=chaos_sandbox), base_url='http://sandbox') as sandbox:
        await fault(sandbox, method='POST', rate=0.2, status=502, seed=1)
        await fault(sandbox, method='PUT', rate=0.2, status=503, seed=2)
        await fault(sandbox, latency_ms=3)
        for tenant in tenants:
            runs.request_provision(db, tenant.id, actor='chaos', trigger='bulk')

        samples, stop = Samples(), asyncio.Event()
        sampler = asyncio.create_task(sample(tmp_path / 'provisioner.db', dispatcher, samples, stop))
        try:
            await drive(db, dispatcher, auto_retry, deadline_s=180)
        finally:
            stop.set()
            await sampler
            await dispatcher.drain(grace_seconds=5)
            await clients.aclose()
        stats = (await sandbox.get('/__sandbox__/stats')).json()
        injected = sum(rule['hits'] for rule in (await sandbox.get('/__sandbox__/faults')).json() if 'status' in rule)

        with db.session() as session:
            final_tenants = {t.company_name: t for t in session.exec(select(Tenant)).all()}
            all_runs = session.exec(select(Run)).all()
        assert Counter(t.status for t in final_tenants.values()) == {'PROVISIONED': TENANTS}

        # The sandbox holds each tenant's documents exactly once.
        companies = await documents(sandbox, 'Company')
        assert sorted(c['name'] for c in companies) == sorted(stores_of) and len(companies) == TENANTS
        abbr = {c['name']: c['abbr'] for c in companies}
        warehouses = [w['name'] for w in await documents(sandbox, 'Warehouse')]
        profiles = await documents(sandbox, 'POS Profile')
        for company, stores in stores_of.items():
            assert sorted(w for w in warehouses if w.startswith('Store ') and w.endswith(f' - {abbr[company]}')) == \
                [f'Store {n} - {abbr[company]}' for n in range(1, stores + 1)], company
            assert sum(1 for p in profiles if p['company'] == company) == stores, company
        customers = [c['name'] for c in await documents(sandbox, 'Customer')]
        assert len(customers) == len(set(customers)) and not [c for c in customers if c.endswith(' - 1')]
        users = [u['name'] for u in await documents(sandbox, 'User')]
        assert len(users) == len(set(users))
        for mode in await documents(sandbox, 'Mode of Payment'):  # shared: every company's row kept, once
            if mode['name'] in ('Cash', 'Credit Card', 'Bank Transfer'):
                rows = [row['company'] for row in mode['accounts']]
                assert sorted(rows) == sorted(stores_of), mode['name']

    # The limits held at every sampled moment.
    assert samples.total and max(samples.total) <= GLOBAL_LIMIT and max(samples.tasks) <= GLOBAL_LIMIT
    for engine_id, limit in engines.items():
        assert max(samples.per_engine[engine_id]) <= limit, (engine_id, limit)
    # The chaos really happened and was ridden out by retries.
    step_retries, auto_retries = retry_totals(db)
    assert injected > 0 and step_retries > 0
    report = {'tenants': TENANTS, 'runs': len(all_runs), 'requests': sum(stats['requests'].values()),
              'injected_failures': injected, 'step_retries': step_retries, 'auto_retries': auto_retries,
              'samples': len(samples.total),
              'max_running': max(samples.total), 'global_limit': GLOBAL_LIMIT,
              'max_running_per_engine': {e: max(samples.per_engine[e]) for e in engines}, 'engine_limits': engines}
    print(f'\nchaos: {report}')


async def drive(db, dispatcher: Dispatcher, auto_retry: AutoRetry, *, deadline_s: float) -> None:
    """What the process's scheduler does, at a test's pace: claim, retry what is due, until done."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + deadline_s
    while loop.time() < deadline:
        await dispatcher.tick()
        await auto_retry.tick()
        with db.session() as session:
            left = session.exec(select(func.count()).select_from(Tenant).where(Tenant.status != 'PROVISIONED')).one()
        if not left:
            return
        await asyncio.sleep(0.05)
    raise AssertionError('the chaos run did not finish in time')


def retry_totals(db) -> tuple[int, int]:
    """Extra step attempts (tenacity, inside steps) and automatic run retries, over every run."""
    with db.session() as session:
        attempts = sum(max(0, step.attempts - 1) for step in session.exec(select(StepRun)).all())
        auto = sum(run.auto_retries for run in session.exec(select(Run)).all())
    return attempts, auto
