"""The tenant page's Edit dialog (support+) and Delete action (admin), with the simulated `User`."""

from __future__ import annotations

import pytest
from nicegui import app
from nicegui.testing import User
from test_tenant_detail import WAIT, new_tenant, see_status
from ui_helpers import sign_in

from engine.services import audit, runs, tenant_removal, tenants
from engine.validation import NotFound

pytestmark = pytest.mark.nicegui_main_file('main.py')


async def test_support_corrects_a_refused_admin_e_mail_and_the_stores(user: User) -> None:
    tenant_id = new_tenant()
    await sign_in(user, 'support', next_path=f'/tenants/{tenant_id}')
    await user.should_see(marker='action-edit', retries=WAIT)
    await user.should_not_see(marker='action-delete')  # admins only

    user.find(marker='action-edit').click()
    await user.should_see(marker='edit-dialog', retries=WAIT)
    user.find(marker='edit-admin-email').clear().type('jörg@bücher.de')
    user.find(marker='edit-stores').clear().type('3')
    user.find(marker='edit-save').click()

    await user.should_see(marker='edit-admin-email', content="('jörg@bücher.de is not a valid Email Address')",
                          retries=WAIT)
    assert tenants.get_tenant(app.state.db, tenant_id).admin_email == 'ada@example.com'
    user.find(marker='edit-admin-email').clear().type('Joerg@Buecher.example')
    user.find(marker='edit-save').click()

    await user.should_see('Saved: admin e-mail, stores.', retries=WAIT)
    await user.should_not_see(marker='edit-dialog')
    await user.should_see(marker='header-admin', content='joerg@buecher.example')
    await user.should_see(marker='header-stores', content='3')
    [event] = audit.list_events(app.state.db, action='tenant.updated').items
    assert (event.actor, event.details) == ('support', {'changes': {
        'admin_email': ['ada@example.com', 'joerg@buecher.example'], 'stores': [1, 3]}})


async def test_a_provisioned_tenant_shows_what_is_locked_and_why_and_cannot_be_deleted(user: User) -> None:
    tenant_id = new_tenant()
    runs.request_provision(app.state.db, tenant_id, actor='tests')
    await app.state.dispatcher.tick()
    await sign_in(user, 'admin', next_path=f'/tenants/{tenant_id}')
    await see_status(user, 'tenant-status', 'PROVISIONED')
    await user.should_see(marker='action-edit', retries=WAIT)
    await user.should_not_see(marker='action-delete')

    user.find(marker='action-edit').click()

    await user.should_see(marker='edit-locked', content="created the Company 'Acme Retail' in ERPNext",
                          retries=WAIT)
    await user.should_see(marker='edit-locked', content="invited ada@example.com as the tenant's admin")
    await user.should_see(marker='edit-locked', content='Stores: at least 1: ERPNext holds')
    for marker in ('edit-company-name', 'edit-country', 'edit-currency', 'edit-admin-email', 'edit-engine'):
        assert not next(iter(user.find(marker=marker).elements)).enabled, marker
    for marker in ('edit-name', 'edit-stores'):  # the name is ours: the Company is named by company_name
        assert next(iter(user.find(marker=marker).elements)).enabled, marker
    user.find(marker='edit-cancel').click()
    await user.should_not_see(marker='edit-dialog')


async def test_an_admin_deletes_a_tenant_never_provisioned_after_a_confirmation(user: User) -> None:
    tenant_id = new_tenant('Typo Shop')
    await sign_in(user, 'admin', next_path=f'/tenants/{tenant_id}')
    await user.should_see(marker='action-delete', retries=WAIT)
    await user.should_not_see(marker='action-deprovision')

    user.find(marker='action-delete').click()
    await user.should_see("Delete tenant 'Typo Shop' and its run history?", retries=WAIT)
    user.find(marker='confirm-ok').click()

    await user.should_see("Tenant 'Typo Shop' deleted.", retries=WAIT)
    await user.should_see(marker='tenants-table', retries=WAIT)  # back on the list
    with pytest.raises(NotFound):
        tenants.get_tenant(app.state.db, tenant_id)
    [event] = audit.list_events(app.state.db, action='tenant.deleted').items
    assert (event.actor, event.details['name']) == ('admin', 'Typo Shop')


async def test_a_page_open_on_a_tenant_another_admin_deletes_says_so(user: User) -> None:
    tenant_id = new_tenant('Typo Shop')
    run = runs.request_provision(app.state.db, tenant_id, actor='tests')
    runs.cancel_run(app.state.db, run.id, actor='tests')  # cancelled before it started: NOT_STARTED again
    await sign_in(user, 'support', next_path=f'/tenants/{tenant_id}')
    await see_status(user, 'tenant-status', 'NOT_STARTED')

    tenant_removal.delete_tenant(app.state.db, tenant_id, actor='admin')

    await user.should_see(marker='no-such-tenant', content=f'Tenant {tenant_id} was deleted', retries=WAIT)
    await user.should_not_see(marker='tenant-header')
