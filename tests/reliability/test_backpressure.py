"""Outbound back-pressure: each engine's request budget, and ERPNext's 429 Retry-After honoured by
the step's retry and by every other request to that engine."""

from __future__ import annotations

import asyncio

from engine.erpnext.throttle import Throttle
from engine.runner import Runner
from engine.services import runs
from tests.conftest import FAST_RETRIES
from tests.engine.helpers import fault, steps


class RecordingSleep:
    """Really sleeps, and remembers how long it was asked to."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        await asyncio.sleep(seconds)


async def test_the_budget_lets_a_burst_through_then_makes_requests_wait():
    sleep = RecordingSleep()
    throttle = Throttle(5, sleep=sleep)

    first = [await throttle.acquire() for _ in range(5)]
    slept_before = list(sleep.asked)
    sixth = await throttle.acquire()

    assert first == [0.0] * 5 and slept_before == []
    assert sixth > 0 and sleep.asked  # the sixth request in one second waited for its turn


async def test_a_pause_holds_every_request_to_the_engine():
    sleep = RecordingSleep()
    throttle = Throttle(100, sleep=sleep)

    throttle.pause(0.2)

    assert await throttle.acquire() > 0 and sleep.asked[0] > 0
    assert throttle.paused_for == 0.0


async def test_a_429_is_retried_no_sooner_than_retry_after(db, clients, make_tenant, sandbox):
    await fault(sandbox, method='POST', doctype='Company', status=429, retry_after=1, count=1)
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:  # tenacity's wait, recorded (the engine's pause still holds)
        waits.append(seconds)

    runner = Runner(db, clients.get, policy=FAST_RETRIES, sleep=no_wait)
    run = runs.request_provision(db, make_tenant('Acme Retail').id, actor='t')
    await runner.execute(run.id)

    detail = runs.run_detail(db, run.id)
    assert detail['status'] == 'SUCCEEDED' and steps(detail)['create_company']['attempts'] == 2
    assert waits and max(waits) >= 1.0 > FAST_RETRIES.backoff_max_s  # Retry-After, not the short backoff
    client = await clients.get(detail['engine_id'])
    assert client.throttle is not None and client.throttle.per_second >= 1
