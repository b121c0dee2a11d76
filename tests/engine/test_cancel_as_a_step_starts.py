"""A step started by the checkpoint that found the run cancelled did not start, even when it only
looks (QA pass 6, finding 3; QA pass 4, finding 6): 'Verify provisioning' began after the cancel,
read to its end and was recorded SUCCEEDED, so a cancelled run showed 11 green steps. Such a step
records nothing and stays PENDING, like a writing step stopped at its first write.

Both orders are covered: the step ends before that checkpoint commits (another connection holds
SQLite's write lock meanwhile) and the checkpoint commits while the step's look-up is on its way
(a slow look-up in the sandbox)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

from engine.services import runs
from storage.db import Database
from tests.engine.helpers import fault, names, stats, steps

POST_LATENCY_MS = 1000  # the window in which the test cancels the run


async def until(predicate: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.01)):
        if await predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError('timed out')


async def arrived(sandbox, rule: dict[str, Any]) -> bool:
    """The request the rule slows down reached the sandbox and waits there."""
    rules = (await sandbox.get('/__sandbox__/faults')).json()
    return next(r for r in rules if r['id'] == rule['id'])['hits'] == 1


class held_write_lock:
    """A second connection to the run's database file in a write transaction, committed on exit."""

    def __init__(self, db: Database) -> None:
        self.path = db.engine.url.database

    def __enter__(self) -> sqlite3.Connection:
        self.connection = sqlite3.connect(self.path, isolation_level=None)
        self.connection.execute('BEGIN IMMEDIATE')
        return self.connection

    def __exit__(self, *exc: Any) -> None:
        self.connection.execute('COMMIT')
        self.connection.close()


async def test_verify_that_ends_before_the_checkpoint_finding_the_cancel_records_nothing(
        db, runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail')
    slow_post = await fault(sandbox, method='POST', doctype='POS Profile', latency_ms=POST_LATENCY_MS, count=1)
    run = runs.request_provision(db, acme.id, actor='support')
    execution = asyncio.create_task(runner.execute(run.id))
    await until(lambda: arrived(sandbox, slow_post))  # the last write of the run is on its way
    runs.cancel_run(db, run.id, actor='support')

    with held_write_lock(db):  # the checkpoint that records the POS profiles and starts verify waits here
        await until(lambda: answered(sandbox, 'POST POS Profile'))
        await asyncio.sleep(0.3)  # verify reads nothing back after a fresh run: it ends in a few ms
    assert await execution == 'CANCELLED'

    detail = runs.run_detail(db, run.id)
    by_key = steps(detail)
    verify = by_key.pop('verify_provisioning')
    assert (verify['status'], verify['attempts'], verify['started_at']) == ('PENDING', 0, None)
    assert {key: step['status'] for key, step in by_key.items()} == dict.fromkeys(by_key, 'SUCCEEDED')
    assert await names(sandbox, 'POS Profile') == ['AR Store 1']  # written before the cancel, and recorded


async def answered(sandbox, key: str) -> bool:
    return (await stats(sandbox))['requests'].get(key, 0) == 1


async def test_a_look_up_only_step_whose_checkpoint_found_the_cancel_records_nothing(
        db, runner, make_tenant, sandbox):
    # 'Ensure cost center' only looks in a fresh run; its look-up is slow, so the checkpoint that
    # started it has found the run cancelled long before it ends.
    acme = make_tenant('Acme Retail')
    slow_post = await fault(sandbox, method='POST', doctype='Company', latency_ms=POST_LATENCY_MS, count=1)
    await fault(sandbox, method='GET', doctype='Cost Center', latency_ms=300, count=1)
    run = runs.request_provision(db, acme.id, actor='support')
    execution = asyncio.create_task(runner.execute(run.id))
    await until(lambda: arrived(sandbox, slow_post))
    runs.cancel_run(db, run.id, actor='support')
    assert await execution == 'CANCELLED'

    requests = (await stats(sandbox))['requests']
    assert requests.get('GET Cost Center') == 1  # it did look, after the cancel
    assert not any(key.startswith(('POST', 'PUT', 'DELETE')) and key != 'POST Company' for key in requests)
    detail = runs.run_detail(db, run.id)
    statuses = {key: step['status'] for key, step in steps(detail).items()}
    assert statuses.pop('check_engine') == statuses.pop('create_company') == 'SUCCEEDED'
    assert statuses == dict.fromkeys(statuses, 'PENDING')
    assert steps(detail)['ensure_cost_center']['started_at'] is None
