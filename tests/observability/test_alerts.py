"""Alert rules against the real database, the real sandbox and a real HTTP webhook receiver: each
alert opens once, notifies once when it opens and once when it resolves."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest

from engine.alerting import Alerting, Thresholds
from engine.notify import Webhook
from engine.services import engines, runs
from engine.services.alerts import open_alerts, recent_alerts
from storage.db import Database
from storage.tables import Alert, Engine, Run, Tenant, utcnow
from tests.engine.helpers import fault, provision

FAST = {'backoff_s': 0.01, 'backoff_max_s': 0.05}


@pytest.fixture
def alerting(db, receiver) -> Alerting:
    return Alerting(db, webhook=Webhook(receiver.url, **FAST))


def open_rules(db) -> list[tuple[str, str]]:
    return sorted((alert.rule, alert.subject) for alert in open_alerts(db))


async def check(db, secrets, engine_id, sandbox_app) -> str:
    return (await engines.check_engine(db, secrets, engine_id, transport=httpx.ASGITransport(app=sandbox_app))).health


async def test_engine_offline_notifies_once_and_once_more_when_it_is_back(
        db, secrets, engine_row, sandbox_app, sandbox, alerting, receiver):
    await fault(sandbox, offline=True)
    assert await check(db, secrets, engine_row.id, sandbox_app) == 'offline'
    receiver.refuse_next = 1  # the first delivery fails: the webhook retries

    first = await alerting.evaluate()
    await alerting.evaluate()
    await alerting.evaluate()

    assert [a.rule for a in first.opened] == ['engine_offline'] and first.sent == 1
    assert receiver.seen() == [('engine_offline', 'Sandbox', 'firing')]
    assert receiver.attempts == 2
    body = receiver.accepted[0]
    assert 'Sandbox' in body['text'] and 'offline' in body['text'] and body['alert']['severity'] == 'critical'
    assert open_rules(db) == [('engine_offline', 'Sandbox')]  # the dashboard banner shows it

    await sandbox.delete('/__sandbox__/faults')
    assert await check(db, secrets, engine_row.id, sandbox_app) == 'online'
    back = await alerting.evaluate()
    await alerting.evaluate()

    assert [a.rule for a in back.resolved] == ['engine_offline']
    assert receiver.seen() == [('engine_offline', 'Sandbox', 'firing'), ('engine_offline', 'Sandbox', 'resolved')]
    assert receiver.accepted[1]['alert']['resolved_at'] is not None
    assert open_rules(db) == []
    assert [(a.rule, a.resolved_at is not None) for a in recent_alerts(db)] == [('engine_offline', True)]


async def test_success_rate_drop_notifies_once_and_resolves_once(db, runner, make_tenant, sandbox, alerting, receiver):
    ok = make_tenant()
    assert (await provision(db, runner, ok.id))['status'] == 'SUCCEEDED'
    await fault(sandbox, method='POST', doctype='Company', status=403, count=100)  # ERPNext refuses companies
    for _ in range(3):
        assert (await provision(db, runner, make_tenant().id))['status'] == 'FAILED'
    await alerting.evaluate()
    assert receiver.seen() == []  # 1 of 4 succeeded, but 4 runs are below the minimum sample

    assert (await provision(db, runner, make_tenant().id))['status'] == 'FAILED'
    opened = await alerting.evaluate()
    await alerting.evaluate()

    # 1 of 5 succeeded; create_company failed 4 of its 5 executions, which is a step failure jump too.
    assert sorted(receiver.seen()) == [('step_failure_rate_high', 'create_company', 'firing'),
                                       ('success_rate_low', 'all', 'firing')]
    rate = next(a for a in opened.opened if a.rule == 'success_rate_low')
    assert '20.0%' in rate.message and '1 of 5' in rate.message
    step = next(b for b in receiver.accepted if b['alert']['rule'] == 'step_failure_rate_high')
    assert '4 of 5' in step['text'] and 'ERPNext refused POST Company' in step['text']

    # An hour later no run ended inside the window: both conditions clear.
    later = utcnow() + timedelta(minutes=61)
    cleared = await alerting.evaluate(later)
    await alerting.evaluate(later + timedelta(seconds=30))

    assert sorted(a.rule for a in cleared.resolved) == ['step_failure_rate_high', 'success_rate_low']
    assert sorted(receiver.seen()) == [('step_failure_rate_high', 'create_company', 'firing'),
                                       ('step_failure_rate_high', 'create_company', 'resolved'),
                                       ('success_rate_low', 'all', 'firing'),
                                       ('success_rate_low', 'all', 'resolved')]
    assert open_rules(db) == []


async def test_a_run_past_the_stuck_limit_alerts_until_it_ends(db, make_tenant, runner, alerting, receiver):
    run = runs.request_provision(db, make_tenant('Slow Shop').id, actor='tests')
    runner.store.start(run.id)
    await alerting.evaluate()
    assert receiver.seen() == []  # RUNNING, but not for long

    with db.session() as session:  # queued and started 31 minutes ago
        row = session.get(Run, run.id)
        row.queued_at = row.started_at = utcnow() - timedelta(minutes=31)
    opened = await alerting.evaluate()
    await alerting.evaluate()
    assert receiver.seen() == [('run_stuck', f'run {run.id}', 'firing')]
    assert run.correlation_id in opened.opened[0].message and "'Slow Shop'" in opened.opened[0].message

    runs.cancel_run(db, run.id, actor='tests')
    await alerting.evaluate()
    assert receiver.seen() == [('run_stuck', f'run {run.id}', 'firing'), ('run_stuck', f'run {run.id}', 'resolved')]


async def test_the_stuck_limit_comes_from_the_settings(db):
    from engine.settings import load_settings

    settings = load_settings(stuck_after_minutes=5, alert_webhook_url='https://hooks.example.test/T0/B0/xyz')
    alerting = Alerting.from_settings(db, settings)
    assert alerting.thresholds.stuck_after == timedelta(minutes=5)
    assert alerting.webhook.url == 'https://hooks.example.test/T0/B0/xyz'
    assert Alerting.from_settings(db, load_settings()).webhook is None


async def test_two_processes_evaluating_at_once_open_one_alert_and_send_one_notification(
        tmp_path, db, make_tenant, receiver):
    for _ in range(3):
        runs.request_provision(db, make_tenant().id, actor='tests')
    other_db = Database.from_url(f'sqlite:///{tmp_path / "provisioner.db"}')  # a second process's connections
    limits = Thresholds(queue_depth_max=2)
    first = Alerting(db, thresholds=limits, webhook=Webhook(receiver.url, **FAST))
    second = Alerting(other_db, thresholds=limits, webhook=Webhook(receiver.url, **FAST))
    try:
        for _ in range(3):
            await asyncio.gather(first.evaluate(), second.evaluate())
    finally:
        other_db.dispose()

    with db.session() as session:
        rows = session.query(Alert).all()
    assert [(a.rule, a.subject, a.resolved_at) for a in rows] == [('queue_depth_high', 'queue', None)]
    assert receiver.seen() == [('queue_depth_high', 'queue', 'firing')]
    assert '3 runs are waiting' in receiver.accepted[0]['text']


async def test_a_notification_that_cannot_be_delivered_is_sent_at_the_next_evaluation(
        db, secrets, engine_row, sandbox_app, sandbox, receiver):
    alerting = Alerting(db, webhook=Webhook(receiver.url, attempts=3, **FAST))
    await fault(sandbox, offline=True)
    await check(db, secrets, engine_row.id, sandbox_app)
    receiver.refuse_next = 3

    failed = await alerting.evaluate()

    assert failed.failed == 1 and receiver.attempts == 3 and receiver.accepted == []
    assert open_rules(db) == [('engine_offline', 'Sandbox')]
    retried = await alerting.evaluate()
    await alerting.evaluate()
    assert retried.sent == 1 and failed.opened and not retried.opened
    assert receiver.seen() == [('engine_offline', 'Sandbox', 'firing')]


async def test_without_a_webhook_alerts_open_and_resolve_for_the_dashboard_only(
        db, secrets, engine_row, sandbox_app, sandbox):
    alerting = Alerting(db)
    await fault(sandbox, offline=True)
    await check(db, secrets, engine_row.id, sandbox_app)
    result = await alerting.evaluate()
    assert not result.notices and open_rules(db) == [('engine_offline', 'Sandbox')]
    assert open_alerts(db)[0].last_notified_at is None
    await sandbox.delete('/__sandbox__/faults')
    await check(db, secrets, engine_row.id, sandbox_app)
    await alerting.evaluate()
    assert open_rules(db) == []


async def test_a_webhook_that_refuses_the_payload_is_not_retried(db, secrets, engine_row, sandbox_app, sandbox):
    async def refuse(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        return httpx.Response(400, json={'error': 'invalid_payload'})

    attempts: list[httpx.Request] = []
    webhook = Webhook('https://hooks.example.test/services/T0/B0/secret-token', transport=httpx.MockTransport(refuse),
                      **FAST)
    await fault(sandbox, offline=True)
    await check(db, secrets, engine_row.id, sandbox_app)
    result = await Alerting(db, webhook=webhook).evaluate()
    assert result.failed == 1 and len(attempts) == 1  # 4xx other than 429 is final


async def test_on_postgresql_concurrent_evaluators_open_one_alert_and_notify_once(pg_url, secrets, receiver):
    databases = [Database.from_url(pg_url) for _ in range(3)]  # three processes' connection pools
    db = databases[0]
    with db.session() as session:
        engine = Engine(name='PG Sandbox', base_url='http://sandbox', api_key='k',
                        api_secret_encrypted=secrets.encrypt('s'), health='offline')
        session.add(engine)
        session.flush()
        tenants = [Tenant(name=f'PG Shop {n}', company_name=f'PG Shop {n}', country='United States',
                          currency='USD', admin_email=f'a{n}@example.test', engine_id=engine.id) for n in range(3)]
        session.add_all(tenants)
    for tenant in tenants:
        runs.request_provision(db, tenant.id, actor='tests')
    evaluators = [Alerting(each, thresholds=Thresholds(queue_depth_max=2), webhook=Webhook(receiver.url, **FAST))
                  for each in databases]
    try:
        for _ in range(3):
            await asyncio.gather(*(each.evaluate() for each in evaluators))
        with db.session() as session:
            session.get(Engine, engine.id).health = 'online'
        for _ in range(2):
            await asyncio.gather(*(each.evaluate() for each in evaluators))
        with db.session() as session:
            rows = sorted((a.rule, a.subject, a.resolved_at is None) for a in session.query(Alert).all())
    finally:
        for each in databases:
            each.dispose()

    assert rows == [('engine_offline', 'PG Sandbox', False), ('queue_depth_high', 'queue', True)]
    assert sorted(receiver.seen()) == [('engine_offline', 'PG Sandbox', 'firing'),
                                       ('engine_offline', 'PG Sandbox', 'resolved'),
                                       ('queue_depth_high', 'queue', 'firing')]
