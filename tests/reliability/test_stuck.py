"""Stuck runs: a sandbox request that hangs (over a real socket) past the stuck limit → the run is
flagged `stuck` and the `run_stuck` alert opens; when the request ends the run goes on and the flag
goes away."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from sqlmodel import col, select

from engine.alerting import Alerting, Thresholds
from engine.clients import EngineClients
from engine.dispatcher import Dispatcher
from engine.runner import Runner
from engine.services import runs
from engine.stuck import stuck_runs
from storage.tables import Alert, Engine, utcnow
from tests.conftest import FAST_RETRIES

LIMIT_MINUTES = 1 / 60  # one second: "a tiny stuck limit"
HANG_S = 4.0


async def test_a_hanging_request_flags_the_run_stuck_and_opens_an_alert(db, secrets, make_tenant, live_sandbox):
    with db.session() as session:
        engine = Engine(name='Live ERP', base_url=live_sandbox.url, api_key='sandbox',
                        api_secret_encrypted=secrets.encrypt('sandbox'))
        session.add(engine)
    tenant = make_tenant('Acme Retail')
    with db.session() as session:
        row = session.get(type(tenant), tenant.id)
        row.engine_id = engine.id
        session.add(row)
    httpx.post(f'{live_sandbox.url}/__sandbox__/faults', json={
        'method': 'POST', 'doctype': 'Company', 'timeout': True, 'hang_s': HANG_S, 'count': 1}).raise_for_status()
    clients = EngineClients(db, secrets, timeout=HANG_S + 5)
    dispatcher = Dispatcher(db, Runner(db, clients.get, policy=FAST_RETRIES), max_concurrent=1, owner='p1')
    alerting = Alerting(db, thresholds=Thresholds(stuck_after=timedelta(minutes=LIMIT_MINUTES)))
    run = runs.request_provision(db, tenant.id, actor='support')
    try:
        await dispatcher.tick()
        detail = runs.run_detail(db, run.id, stuck_after_minutes=LIMIT_MINUTES)
        assert detail['status'] == 'RUNNING' and detail['stuck'] is False  # just started

        while not (detail := runs.run_detail(db, run.id, stuck_after_minutes=LIMIT_MINUTES))['stuck']:
            assert detail['status'] == 'RUNNING' and dispatcher.tasks, 'the run ended before it was stuck'
            await asyncio.sleep(0.1)
        with db.session() as session:
            assert [r.id for r in stuck_runs(session, utcnow(), LIMIT_MINUTES)] == [run.id]
        await alerting.evaluate()
        with db.session() as session:
            alerts = session.exec(select(Alert).where(Alert.rule == 'run_stuck', col(Alert.resolved_at).is_(None))).all()
        assert [a.subject for a in alerts] == [f'run {run.id}']

        await asyncio.gather(*dispatcher.tasks.values())  # the hang ends (504), the step is retried
        done = runs.run_detail(db, run.id, stuck_after_minutes=LIMIT_MINUTES)
        assert done['status'] == 'SUCCEEDED' and done['stuck'] is False
        with db.session() as session:
            assert stuck_runs(session, utcnow(), LIMIT_MINUTES) == []
    finally:
        await dispatcher.drain(grace_seconds=HANG_S + 5)
        await clients.aclose()
