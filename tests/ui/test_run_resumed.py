"""A run another claim took over after its process stopped mid-run says so on its card:
"Resumed after a restart at … at step …" (the dispatcher's `run.resumed` audit event)."""

from __future__ import annotations

import asyncio

import pytest
from nicegui import app
from nicegui.testing import User
from test_tenant_detail import new_tenant, see_status
from ui_helpers import sign_in

from engine.dispatcher import Dispatcher
from engine.runner import Runner
from engine.services import runs

pytestmark = pytest.mark.nicegui_main_file('main.py')


async def killed_after(key: str, run_id: int) -> None:
    """A process that claims the run and dies once step `key` has ended (its lease then expires)."""
    process = app.state.process
    dead = Dispatcher(process.db, None, max_concurrent=1, owner='dead-process', lease_seconds=0.2)

    def die(step_key, _outcome):
        if step_key == key:
            dead.accepting = False  # a dead process claims nothing more (its follow-up claim took the run back)
            dead.tasks[run_id].cancel()

    dead.runner = Runner(process.db, process.clients.get, on_step_finished=die)
    assert await dead.tick() == [run_id]
    await asyncio.gather(*dead.tasks.values(), return_exceptions=True)


async def test_the_run_card_says_where_a_resumed_run_resumed(user: User) -> None:
    await app.state.dispatcher.drain(grace_seconds=1)  # this process claims nothing: the test does
    tenant_id = new_tenant()
    run = runs.request_provision(app.state.db, tenant_id, actor='tests')
    await killed_after('create_company', run.id)  # every other step needs it: they are left unfinished
    await asyncio.sleep(0.25)  # its lease expires (and a checkpoint still being written lands)
    first_unfinished = next(step for step in runs.run_detail(app.state.db, run.id)['steps']
                            if step['status'] in ('PENDING', 'RUNNING'))
    process = app.state.process
    survivor = Dispatcher(process.db, Runner(process.db, process.clients.get), max_concurrent=1, owner='restarted')
    for _ in range(40):  # the lease expires (later when a checkpoint in flight renewed it)
        if claimed := await survivor.tick():
            break
        await asyncio.sleep(0.05)
    assert claimed == [run.id]
    await asyncio.gather(*survivor.tasks.values(), return_exceptions=True)

    await sign_in(user, 'support', next_path=f'/tenants/{tenant_id}')

    await see_status(user, 'run-status', 'SUCCEEDED')
    await user.should_see(marker='run-resumed', content='Resumed after a restart at ')
    await user.should_see(marker='run-resumed',
                          content=f"at step {first_unfinished['position']} '{first_unfinished['title']}'")


async def test_a_run_that_was_never_interrupted_shows_no_resumption(user: User) -> None:
    tenant_id = new_tenant()
    runs.request_provision(app.state.db, tenant_id, actor='tests')
    await app.state.dispatcher.tick()
    await sign_in(user, 'support', next_path=f'/tenants/{tenant_id}')

    await see_status(user, 'run-status', 'SUCCEEDED')
    await user.should_not_see(marker='run-resumed')
