"""The tenant page never lets a read in flight undo a click: the read happens in a worker thread,
and what it found is applied on the event loop under the page's lock, which the clicks take too.

The read is held up for real: another connection holds SQLite's write lock (every transaction of the
service takes it, BEGIN IMMEDIATE) while it removes the run on show, as restoring an older backup would.
The test waits until that read is really in flight in its worker thread, and the second click really
waits for the page's lock, instead of sleeping a fixed time (under load a sleep may end before either
has happened, and the test would pass without any race).
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import httpx
import pytest
from nicegui import app
from nicegui.testing import User
from ui_helpers import sign_in

from engine.services import runs, tenant_view, tenants
from engine.validation import TenantCreate

pytestmark = pytest.mark.nicegui_main_file('main.py')

WAIT = 100  # x 0.1 s
POLL_S = 0.01
PAGE_MODULE = 'tenant_detail.py'  # not imported here: main.py registers its pages when each test starts it


async def test_a_click_during_a_held_up_read_of_a_vanished_run_is_kept(user: User) -> None:
    tenant_id = await tenant_with_three_failed_runs()
    history = tenant_view.run_history(app.state.db, tenant_id, limit=3).items
    earlier, vanishing, newest = sorted(run.id for run in history)
    await sign_in(user, 'admin', next_path=f'/tenants/{tenant_id}')
    await user.should_see(marker='run-id', content=f'Run #{newest}')
    user.find(marker=f'history-run-{vanishing}').click()
    await user.should_see(f'Run #{vanishing} (an earlier run)', retries=WAIT)

    with held_write_lock() as connection:
        connection.execute('DELETE FROM steprun WHERE run_id = ?', (vanishing,))
        connection.execute('DELETE FROM run WHERE id = ?', (vanishing,))
        user.find(marker=f'history-run-{vanishing}').click()  # its read waits for the lock
        await until(lambda: page_read_in_flight(vanishing), 'the read of the first click is in flight')
        user.find(marker=f'history-run-{earlier}').click()  # lands while that read is held up
        await until(lambda: selection_waiting(earlier), "the second click waits for the page's lock")
        assert page_read_in_flight(vanishing)  # still held up: the click really landed during the read

    await user.should_see(f'Run #{earlier} (an earlier run)', retries=WAIT)
    await user.should_see(marker='run-id', content=f'Run #{earlier}')
    await asyncio.sleep(1.0)  # two more reads of the page: the selection stays
    await user.should_see(f'Run #{earlier} (an earlier run)')


async def until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(int(10 / POLL_S)):
        if condition():
            return
        await asyncio.sleep(POLL_S)
    raise AssertionError(f'not within 10 s: {what}')


def page_read_in_flight(run_id: int) -> bool:
    """Whether a worker thread is inside the tenant page's read of the selection `run_id`."""
    return any(_is(frame, 'read_state') and frame.f_locals['wanted'].run_id == run_id
               for top in sys._current_frames().values() for frame in _outward(top))


def selection_waiting(run_id: int) -> bool:
    """Whether a click's handler selecting `run_id` is suspended inside the page's `_select`."""
    for task in asyncio.all_tasks():
        coroutine = task.get_coro()
        while coroutine is not None and getattr(coroutine, 'cr_frame', None) is not None:
            frame = coroutine.cr_frame
            if _is(frame, 'TenantPage._select') and frame.f_locals['run_id'] == run_id:
                return True
            coroutine = coroutine.cr_await
    return False


def _is(frame: FrameType, qualname: str) -> bool:
    return frame.f_code.co_qualname == qualname and frame.f_code.co_filename.endswith(PAGE_MODULE)


def _outward(frame: FrameType | None):
    while frame is not None:
        yield frame
        frame = frame.f_back


class held_write_lock:
    """A second connection to the app's database file in a write transaction, committed on exit."""

    def __enter__(self) -> sqlite3.Connection:
        self.connection = sqlite3.connect(app.state.db.engine.url.database, isolation_level=None)
        self.connection.execute('BEGIN IMMEDIATE')
        return self.connection

    def __exit__(self, *exc: Any) -> None:
        self.connection.execute('COMMIT')
        self.connection.close()


async def tenant_with_three_failed_runs() -> int:
    tenant_id = tenants.create_tenant(app.state.db, TenantCreate(
        name='Acme Retail', country='United States', currency='USD', admin_email='ada@example.com',
        engine='Sandbox', stores=1), actor='tests').id
    transport = httpx.ASGITransport(app=app.state.process.sandbox_app)
    async with httpx.AsyncClient(transport=transport, base_url='http://sandbox') as sandbox:
        (await sandbox.post('/__sandbox__/faults', json={'method': 'POST', 'doctype': 'POS Profile',
                                                          'status': 417})).raise_for_status()
    for _ in range(3):
        runs.request_provision(app.state.db, tenant_id, actor='tests')
        await app.state.dispatcher.tick()
        for _ in range(WAIT):
            if runs.current_run_detail(app.state.db, tenant_id)['status'] == 'FAILED':
                break
            await asyncio.sleep(0.1)
    return tenant_id
