"""Engine outage: the real Process (scheduler, dispatcher, health checks, runner) with its embedded
sandbox. The sandbox goes offline while 10 runs are queued or in flight → none fails (runs in
flight are parked as waiting, queued ones are not claimed); it comes back → all PROVISIONED."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
from sqlmodel import col, select

from engine.process import Process
from engine.services import audit, runs, tenants
from engine.settings import load_settings
from engine.validation import TenantCreate
from sandbox import create_app
from storage.tables import Engine, Run, Tenant
from tests.conftest import FAST_RETRIES
from tests.reliability.processes import PASSWORD

SANDBOX_URL = 'http://sandbox.internal/sandbox'


def statuses(db) -> tuple[Counter, str]:
    with db.session() as session:
        run_status = Counter(run.status for run in session.exec(select(Run)).all())
        health = session.exec(select(Engine.health)).one()
    return run_status, health


async def wait_for(condition, db, *, timeout: float, seen: Counter) -> None:
    """Poll until `condition(run statuses, engine health)`; every poll checks that no run failed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        run_status, health = statuses(db)
        seen.update(run_status.keys())
        assert not run_status['FAILED'], run_status
        if condition(run_status, health):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f'timed out: {statuses(db)}')


async def test_an_outage_fails_no_run_and_they_all_finish_when_it_ends(tmp_path, monkeypatch):
    for name in ('PROVISIONER_SANDBOX', 'PROVISIONER_DATABASE_URL', 'PROVISIONER_MAX_CONCURRENT_RUNS'):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(database_url=f'sqlite:///{tmp_path / "p.db"}', data_dir=tmp_path / 'data',
                             admin_password=PASSWORD)
    sandbox_app = create_app()
    process = Process.build(settings, sandbox_app=sandbox_app, sandbox_url=SANDBOX_URL)
    process.runner.policy = FAST_RETRIES  # the process's own backoff, shortened for the test
    db = process.db
    control = httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox_app), base_url='http://sandbox')
    await control.post('/__sandbox__/faults', json={'latency_ms': 40})
    for number in range(10):
        tenant = tenants.create_tenant(db, TenantCreate(
            name=f'Outage Shop {number}', country='Germany', currency='EUR',
            admin_email=f'ops{number}@outage{number}.example.com', engine='Sandbox'), actor='support')
        runs.request_provision(db, tenant.id, actor='support')
    seen: Counter = Counter()
    await process.start()
    try:
        await wait_for(lambda s, h: s['RUNNING'] >= 2, db, timeout=30, seen=seen)  # runs in flight
        await control.post('/__sandbox__/faults', json={'offline': True})

        # The outage: runs in flight are parked, the engine is offline, nothing is claimed for it.
        await wait_for(lambda s, h: h == 'offline' and not s['RUNNING'], db, timeout=60, seen=seen)
        await asyncio.sleep(2.5)  # a few dispatcher ticks: still nothing claimed, nothing failed
        await wait_for(lambda s, h: h == 'offline' and not s['RUNNING'] and s['QUEUED'], db, timeout=1, seen=seen)
        parked = audit.list_events(db, action='run.parked').items
        assert parked and all(event.actor == 'system' for event in parked)
        with db.session() as session:
            waiting = session.exec(select(Tenant).where(col(Tenant.last_error).is_not(None))).all()
        assert waiting and all(t.status == 'QUEUED' and 'Waiting for ERPNext' in t.last_error for t in waiting)

        await control.delete('/__sandbox__/faults')  # ERPNext is back
        await wait_for(lambda s, h: s['SUCCEEDED'] == 10, db, timeout=90, seen=seen)
        companies = (await control.get('/__sandbox__/documents/Company')).json()
    finally:
        await process.stop()
        await control.aclose()

    with db.session() as session:
        final = session.exec(select(Tenant)).all()
    assert Counter(t.status for t in final) == {'PROVISIONED': 10} and all(t.last_error is None for t in final)
    assert 'FAILED' not in seen
    assert sorted(c['name'] for c in companies) == sorted(f'Outage Shop {n}' for n in range(10))
