"""The tenant page never lets a read in flight undo a click: the read happens in a worker thread,
and what it found is applied on the event loop under the page's lock, which the clicks take too.

The read is held up for real: another connection holds SQLite's write lock (every transaction of the
service takes it, BEGIN IMMEDIATE) while it removes the run on show, as restoring an older backup would.
"""

from __future__ import annotations

import asyncio
import sqlite3
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
PAUSE_S = 0.4  # ample for a click's handler to reach its read (microseconds when nothing holds it up)


async def test_a_click_during_a_held_up_read_of_a_vanished_run_is_kept(user: User) -> None:
    tenant_id = await tenant_with_three_failed_runs()
    history = tenant_view.run_history(app.state.db, tenant_id, limit=3).items
    earlier, vanishing, newest = sorted(run.id for run in history)
    await sign_in(user, 'admin', next_path=f'/tenants/{tenant_id}')
    await user.should_see(marker='run-id', content=f'Run #{newest}')
    user.find(marker=f'history-run-{vanishing}').click()
    await user.should_see(f'Run #{vanishing} (an earlier run)')

    with held_write_lock() as connection:
        connection.execute('DELETE FROM steprun WHERE run_id = ?', (vanishing,))
        connection.execute('DELETE FROM run WHERE id = ?', (vanishing,))
        user.find(marker=f'history-run-{vanishing}').click()  # its read waits for the lock
        await asyncio.sleep(PAUSE_S)
        user.find(marker=f'history-run-{earlier}').click()  # lands while that read is held up
        await asyncio.sleep(PAUSE_S)

    await user.should_see(f'Run #{earlier} (an earlier run)', retries=WAIT)
    await user.should_see(marker='run-id', content=f'Run #{earlier}')
    await asyncio.sleep(1.0)  # two more reads of the page: the selection stays
    await user.should_see(f'Run #{earlier} (an earlier run)')


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
