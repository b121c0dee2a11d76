"""A lost database met by work of no page (a task NiceGUI runs outside any client, such as a page
build that went on after its HTML was sent) has nobody to show a notice to: it is ONE warning line
for the process (path '?') until the database answers again, then one line per later outage; never
a traceback. (The User fixture fails a test that logged anything at ERROR.)"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from nicegui import app, background_tasks, run
from nicegui.testing import User
from sqlalchemy.exc import DBAPIError
from test_ui_database_outage import LostDatabase, warnings

from engine.services import tenants

pytestmark = pytest.mark.nicegui_main_file('main.py')

WAIT_S = 10.0


@pytest.fixture
def lost_database(provisioner_environment, tmp_path: Path, monkeypatch) -> LostDatabase:
    """The service's database in a folder of its own (set before the `user` fixture starts main.py)."""
    folder = tmp_path / 'database'
    folder.mkdir()
    monkeypatch.setenv('PROVISIONER_DATABASE_URL', f'sqlite:///{folder / "ui.db"}')
    return LostDatabase(folder)


async def read_outside_any_page() -> None:
    """A read of the database in a task of no client; NiceGUI hands its error to the exception handlers."""
    task = background_tasks.create(run.io_bound(tenants.list_tenants, app.state.db), name='no page')
    with pytest.raises(DBAPIError):
        await task
    await asyncio.sleep(0)


async def back_logged(caplog, count: int) -> None:
    for _ in range(int(WAIT_S / 0.1)):
        backs = [r.msg for r in caplog.records
                 if isinstance(r.msg, dict) and r.msg.get('event') == 'ui.database_back' and r.msg['path'] == '?']
        if len(backs) >= count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f'no ui.database_back line within {WAIT_S} s')


async def test_one_line_per_outage_outside_any_page(lost_database: LostDatabase, user: User, caplog) -> None:
    lost_database.begin()
    try:
        for _ in range(3):
            await read_outside_any_page()
    finally:
        lost_database.end()
    assert [w['path'] for w in warnings(caplog)] == ['?']
    await back_logged(caplog, 1)

    lost_database.begin()  # a later outage is worth a line of its own
    try:
        await read_outside_any_page()
        await read_outside_any_page()
    finally:
        lost_database.end()
    assert [w['path'] for w in warnings(caplog)] == ['?', '?']
    await back_logged(caplog, 2)
    assert not [r for r in caplog.records if r.exc_info]  # no traceback
