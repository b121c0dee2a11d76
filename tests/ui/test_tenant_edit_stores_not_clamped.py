"""The tenant Edit dialog's Stores field does not clamp (as New tenant's does not): 200 stays 200 and
gets the model's words under the field, and fewer stores than ERPNext holds get the service's reason
under the field, instead of ui.number's min/max silently turning them into 20 or the fewest allowed."""

from __future__ import annotations

import pytest
from nicegui import app
from nicegui.testing import User
from test_tenant_detail import WAIT, new_tenant, see_status
from ui_helpers import sign_in

from engine.services import runs, tenants

pytestmark = pytest.mark.nicegui_main_file('main.py')


async def test_out_of_range_stores_are_refused_with_the_models_words_not_clamped(user: User) -> None:
    tenant_id = new_tenant()
    await sign_in(user, 'support', next_path=f'/tenants/{tenant_id}')
    await user.should_see(marker='action-edit', retries=WAIT)
    user.find(marker='action-edit').click()
    await user.should_see(marker='edit-dialog', retries=WAIT)

    user.find(marker='edit-stores').clear().type('200').trigger('blur')  # the blur is where ui.number clamps
    user.find(marker='edit-save').click()

    await user.should_see(marker='edit-stores', content='must be at most 20', retries=WAIT)
    assert next(iter(user.find(marker='edit-stores').elements)).value == 200
    assert tenants.get_tenant(app.state.db, tenant_id).stores == 1


async def test_fewer_stores_than_erpnext_holds_are_refused_under_the_field_not_clamped(user: User) -> None:
    tenant_id = new_tenant(stores=2)
    runs.request_provision(app.state.db, tenant_id, actor='tests')
    await app.state.dispatcher.tick()
    await sign_in(user, 'support', next_path=f'/tenants/{tenant_id}')
    await see_status(user, 'tenant-status', 'PROVISIONED')
    await user.should_see(marker='action-edit', retries=WAIT)
    user.find(marker='action-edit').click()
    await user.should_see(marker='edit-locked', content='Stores: at least 2: ERPNext holds', retries=WAIT)

    user.find(marker='edit-stores').clear().type('1').trigger('blur')
    user.find(marker='edit-save').click()

    await user.should_see(marker='edit-stores', content='cannot go from 2 to 1: ERPNext holds warehouses and POS '
                                                        'profiles of stores up to 2', retries=WAIT)
    assert next(iter(user.find(marker='edit-stores').elements)).value == 1
    assert tenants.get_tenant(app.state.db, tenant_id).stores == 2
