"""The run history's rows keep the run number and status on one line, however long the error beside them."""

from __future__ import annotations

import pytest
from nicegui import app
from nicegui.testing import User
from test_tenant_detail import fail_at_pos_profiles

from engine.services import runs

pytestmark = pytest.mark.nicegui_main_file('main.py')


async def test_the_run_number_of_a_failed_run_does_not_shrink_beside_its_long_error(user: User) -> None:
    tenant_id = await fail_at_pos_profiles(user)
    run_id = runs.current_run_detail(app.state.db, tenant_id)['id']
    await user.should_see(marker=f'history-run-{run_id}')

    (number,) = user.find(marker=f'history-run-{run_id}').elements
    (status,) = user.find(marker=f'history-status-{run_id}').elements
    for element in (number, status):
        assert {'shrink-0', 'whitespace-nowrap'} <= set(element.classes), element.classes
