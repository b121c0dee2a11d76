"""Tenant admins ERPNext throttled get their user later, by themselves: a run that succeeded with its
optional invite step refused by ERPNext's `throttle_user_limit` is stamped with an automatic retry of
that step (15 min after it ended, then 30, then 60; within PROVISIONER_AUTO_RETRY_LIMIT), which the
periodic job queues as a person's *Retry step* would. Other failures of optional steps are not retried.

The sandbox takes 2 new users an hour here (`user_throttle_limit=1`: more than 1 created in the last 60
minutes refuses the next); our side's time is the job's `now`, ERPNext's hour passes by ageing its users.
Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from engine import auto_retry
from engine.auto_retry import AutoRetry, AutoRetryPolicy
from engine.dispatcher import Dispatcher
from engine.runner import Runner
from engine.services import audit, runs
from sandbox import create_app
from storage.db import Database
from storage.tables import RunTrigger, utcnow
from tests.conftest import FAST_RETRIES
from tests.engine.helpers import fault, names, steps, tenant

POLICY = AutoRetryPolicy(limit=3)
INVITE = 'invite_tenant_admin'


@pytest.fixture
def db(any_db_url):
    """Each test on SQLite and on PostgreSQL (the scheduling query's LIKE and correlated subqueries)."""
    database = Database.from_url(any_db_url)
    yield database
    database.dispose()


@pytest.fixture
def sandbox_app():
    return create_app(user_throttle_limit=1)


@pytest.fixture
def retrying_runner(db, clients) -> Runner:
    return Runner(db, clients.get, policy=FAST_RETRIES, auto_retry=POLICY)


async def run_queued(runner: Runner, db) -> None:
    dispatcher = Dispatcher(db, runner, max_concurrent=4, owner='tests')
    while await dispatcher.tick() or dispatcher.tasks:
        await asyncio.gather(*dispatcher.tasks.values())


def an_hour_passes_in_erpnext(sandbox_app) -> None:
    """ERPNext counts the users created in the last 60 minutes: every user is older than that now."""
    store = sandbox_app.state.sandbox.store
    before = str(datetime.now() - timedelta(minutes=61))
    for user in store.all('User'):
        store.put({**user, 'creation': min(user['creation'], before)})


def invite(db, run_id: int) -> dict:
    return steps(runs.run_detail(db, run_id))[INVITE]


async def provision(db, runner: Runner, tenants) -> list[int]:
    run_ids = [runs.request_provision(db, t.id, actor='support', trigger=RunTrigger.BULK).id for t in tenants]
    await run_queued(runner, db)
    return run_ids


async def test_throttled_invites_are_retried_by_themselves_once_erpnext_takes_users_again(
        db, retrying_runner, make_tenant, sandbox, sandbox_app):
    shops = [make_tenant(f'Shop {n}', admin_email=f'owner{n}@shop{n}.test') for n in range(1, 5)]
    run_ids = await provision(db, retrying_runner, shops)
    assert {runs.run_detail(db, run_id)['status'] for run_id in run_ids} == {'SUCCEEDED'}
    throttled = [run_id for run_id in run_ids if invite(db, run_id)['status'] == 'FAILED']
    assert len(throttled) == 2  # ERPNext took two new users this hour
    assert invite(db, throttled[0])['error'].startswith('ERPNext throttles new users: it refused to create user')
    job = AutoRetry(db, POLICY)

    assert await job.tick(now=utcnow()) == []  # schedules the retries, none due yet
    for run_id in run_ids:
        detail = runs.run_detail(db, run_id)
        if run_id not in throttled:
            assert detail['next_retry_at'] is None and auto_retry.retry_hint(detail) is None
            continue
        assert detail['next_retry_at'] == detail['finished_at'] + timedelta(minutes=15)
        at = detail['next_retry_at']
        shown = f'{at:%H:%M} UTC' if at.date() == utcnow().date() else f'{at:%Y-%m-%d %H:%M} UTC'
        assert auto_retry.retry_hint(detail) == \
            f"ERPNext throttles new users: 'Invite tenant admin' is retried automatically at {shown}."
    due = [runs.run_detail(db, run_id)['next_retry_at'] for run_id in throttled]
    assert await job.tick(now=min(due) - timedelta(seconds=1)) == []
    first = max(due)

    assert sorted(await job.tick(now=first)) == sorted(throttled)
    queued = runs.run_detail(db, throttled[0])
    assert (queued['status'], queued['trigger'], queued['auto_retries']) == ('QUEUED', 'auto_retry', 1)
    await run_queued(retrying_runner, db)  # still within ERPNext's hour: throttled again
    await job.tick(now=first)
    second = []
    for run_id in throttled:
        detail = runs.run_detail(db, run_id)
        assert detail['status'] == 'SUCCEEDED' and invite(db, run_id)['status'] == 'FAILED'
        assert detail['next_retry_at'] == detail['finished_at'] + timedelta(minutes=30)  # backing off
        second.append(detail['next_retry_at'])

    an_hour_passes_in_erpnext(sandbox_app)
    assert sorted(await job.tick(now=max(second))) == sorted(throttled)
    await run_queued(retrying_runner, db)

    for run_id, shop in zip(run_ids, shops, strict=True):
        detail = runs.run_detail(db, run_id)
        assert (detail['status'], detail['warnings'], detail['next_retry_at']) == ('SUCCEEDED', 0, None)
        assert invite(db, run_id)['status'] == 'SUCCEEDED' and auto_retry.retry_hint(detail) is None
        assert tenant(db, shop.id).status == 'PROVISIONED'
        assert steps(detail)['create_company']['earlier_executions'] == 0  # only the failed step ran again
    admins = [shop.admin_email for shop in shops]
    assert [name for name in await names(sandbox, 'User') if name in admins] == sorted(admins)
    stats = (await sandbox.get('/__sandbox__/stats')).json()['requests']
    assert stats['POST User'] == 4 + 2 * 2  # each user created once; each throttled one refused twice
    assert stats['POST User Permission'] == 4
    events = audit.list_events(db, action='run.auto_retried').items
    assert sorted(event.run_id for event in events) == sorted(throttled * 2)
    assert {(event.actor, event.step_key) for event in events} == {('system', INVITE)}
    assert await job.tick(now=max(second) + timedelta(days=1)) == []


async def test_a_throttled_invite_stops_being_retried_at_the_limit(
        db, clients, make_tenant, sandbox_app):
    policy = AutoRetryPolicy(limit=1)
    runner = Runner(db, clients.get, policy=FAST_RETRIES, auto_retry=policy)
    shops = [make_tenant(f'Shop {n}', admin_email=f'owner{n}@shop{n}.test') for n in range(1, 4)]
    run_ids = await provision(db, runner, shops)
    [throttled] = [run_id for run_id in run_ids if invite(db, run_id)['status'] == 'FAILED']
    job = AutoRetry(db, policy)
    await job.tick(now=utcnow())
    assert await job.tick(now=runs.run_detail(db, throttled)['next_retry_at']) == [throttled]
    await run_queued(runner, db)  # throttled again: the one automatic retry is used

    await job.tick(now=utcnow() + timedelta(days=1))
    detail = runs.run_detail(db, throttled)
    assert (detail['status'], detail['auto_retries'], detail['next_retry_at']) == ('SUCCEEDED', 1, None)
    assert auto_retry.retry_hint(detail) == (
        "ERPNext throttles new users: no automatic retry of 'Invite tenant admin' is scheduled (1 automatic "
        'retry used). Retry the step once ERPNext takes new users again (for many tenants at once: POST '
        '/api/v1/tenants/bulk-retry-step).')


async def test_an_optional_step_erpnext_refused_is_not_retried_by_itself(
        db, retrying_runner, make_tenant, sandbox):
    shop = make_tenant('Shop 1', admin_email='owner@shop.test')
    await fault(sandbox, method='POST', doctype='User', status=417, count=1)  # refused, not throttled
    [run_id] = await provision(db, retrying_runner, [shop])
    assert invite(db, run_id)['status'] == 'FAILED'
    assert invite(db, run_id)['error'].startswith("ERPNext refused to create user 'owner@shop.test': ")

    assert await AutoRetry(db, POLICY).tick(now=utcnow() + timedelta(days=1)) == []
    detail = runs.run_detail(db, run_id)
    assert detail['next_retry_at'] is None and auto_retry.retry_hint(detail) is None


async def test_a_scheduled_retry_is_dropped_once_a_person_settles_the_step(
        db, retrying_runner, make_tenant):
    shops = [make_tenant(f'Shop {n}', admin_email=f'owner{n}@shop{n}.test') for n in range(1, 4)]
    run_ids = await provision(db, retrying_runner, shops)
    [throttled] = [run_id for run_id in run_ids if invite(db, run_id)['status'] == 'FAILED']
    job = AutoRetry(db, POLICY)
    await job.tick(now=utcnow())
    due = runs.run_detail(db, throttled)['next_retry_at']
    assert due is not None

    runs.mark_step_succeeded(db, throttled, INVITE, actor='admin', reason='created the user by hand in ERPNext')

    assert await job.tick(now=due) == []
    detail = runs.run_detail(db, throttled)
    assert detail['next_retry_at'] is None and detail['status'] == 'SUCCEEDED'
    assert audit.list_events(db, action='run.auto_retried').total == 0
