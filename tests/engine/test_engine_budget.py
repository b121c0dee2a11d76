"""Each engine's own request budget (`requests_per_second`): what the real EngineClients send to the
sandbox never exceeds it, and an edit of the engine applies to the next client it hands out, in
the process that made the edit and, within the recheck interval, in any other process."""

from __future__ import annotations

import asyncio
import gc
import time

import httpx
import pytest

from engine.clients import EngineClients
from engine.services import engines
from engine.validation import EngineUpdate
from storage.tables import Engine

SLACK_S = 0.1  # the throttle waits on its own clock; a request reaches the sandbox a moment after its turn


class ArrivalLog(httpx.AsyncBaseTransport):
    """The sandbox over ASGI, noting when each request reaches it."""

    def __init__(self, app) -> None:
        self.sandbox = httpx.ASGITransport(app=app)
        self.arrivals: list[float] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.arrivals.append(time.time())
        return await self.sandbox.handle_async_request(request)


@pytest.fixture
def arrivals(sandbox_app) -> ArrivalLog:
    return ArrivalLog(sandbox_app)


@pytest.fixture
async def budget_clients(db, secrets, arrivals):
    pool = EngineClients(db, secrets, timeout=10, transport_for=lambda engine: arrivals)
    yield pool
    await pool.aclose()


def add_engine(db, secrets, *, requests_per_second: int) -> int:
    with db.session() as session:
        engine = Engine(name='Small ERP', base_url='http://sandbox', api_key='sandbox',
                        api_secret_encrypted=secrets.encrypt('sandbox'),
                        requests_per_second=requests_per_second)
        session.add(engine)
        session.flush()
        return engine.id


async def test_an_engine_gets_at_most_its_budget_of_requests_in_any_second(db, secrets, budget_clients,
                                                                           arrivals, sandbox) -> None:
    engine_id = add_engine(db, secrets, requests_per_second=2)
    client = await budget_clients.get(engine_id)

    users = await asyncio.gather(*(client.logged_user() for _ in range(5)))  # five at once, as runs would

    assert users == ['Administrator'] * 5
    assert len(arrivals.arrivals) == 5
    # A moving window of 2 a second: the 3rd request comes a second after the 1st, the 5th after the 3rd.
    times = arrivals.arrivals
    gaps = [later - earlier for earlier, later in zip(times[:-2], times[2:], strict=True)]
    assert all(gap >= 1 - SLACK_S for gap in gaps), gaps
    assert arrivals.arrivals[-1] - arrivals.arrivals[0] >= 2 - SLACK_S
    stats = (await sandbox.get('/__sandbox__/stats')).json()['requests']
    assert sum(count for key, count in stats.items() if 'get_logged_user' in key) == 5


async def test_an_edit_of_the_budget_applies_to_the_next_client_and_spares_the_old_one(db, secrets,
                                                                                      budget_clients) -> None:
    engine_id = add_engine(db, secrets, requests_per_second=2)
    before = await budget_clients.get(engine_id)
    run = before.bound('run-1')  # a run in flight holds a view of the client
    waits_before = [await before.throttle.acquire() for _ in range(3)]

    await engines.edit_engine(db, secrets, engine_id, EngineUpdate(requests_per_second=10), actor='tests',
                              clients=budget_clients)
    after = await budget_clients.get(engine_id)
    waits_after = [await after.throttle.acquire() for _ in range(10)]

    assert waits_before[:2] == [0.0, 0.0] and waits_before[2] > 0  # the third waited for the window
    assert after is not before and waits_after == [0.0] * 10  # ten fit in the new budget's second
    assert await run.logged_user() == 'Administrator'  # a run still holding the old client goes on
    assert await budget_clients.get(engine_id) is after and not before.closed


async def test_a_replaced_client_is_closed_once_no_run_holds_it(db, secrets, budget_clients) -> None:
    engine_id = add_engine(db, secrets, requests_per_second=2)
    before = await budget_clients.get(engine_id)
    run = before.bound('run-1')
    await budget_clients.forget(engine_id)

    after = await budget_clients.get(engine_id)
    still_open = not before.closed
    del run  # the run ended
    gc.collect()
    await budget_clients.get(engine_id)

    assert after is not before and still_open
    assert before.closed and not after.closed


async def test_another_process_picks_up_an_edit_at_its_next_recheck(db, secrets, arrivals) -> None:
    engine_id = add_engine(db, secrets, requests_per_second=2)
    other = EngineClients(db, secrets, transport_for=lambda engine: arrivals, recheck_after=0)
    try:
        first = await other.get(engine_id)
        unchanged = await other.get(engine_id)
        engines.update_engine(db, secrets, engine_id, EngineUpdate(requests_per_second=300), actor='tests')
        edited = await other.get(engine_id)
    finally:
        await other.aclose()

    assert unchanged is first and first.throttle.per_second == 2
    assert edited is not first and edited.throttle.per_second == 300


async def test_a_recheck_that_cannot_read_the_engine_keeps_the_client_it_has(db, secrets, arrivals) -> None:
    engine_id = add_engine(db, secrets, requests_per_second=2)
    other = EngineClients(db, secrets, transport_for=lambda engine: arrivals, recheck_after=0)
    try:
        first = await other.get(engine_id)
        with db.session() as session:
            session.delete(session.get(Engine, engine_id))
        kept = await other.get(engine_id)
        with pytest.raises(LookupError):
            await other.get(engine_id + 1)  # never seen: nothing to fall back on
    finally:
        await other.aclose()

    assert kept is first
