"""After a teardown, the tenant page's documents say what became of them (QA pass 3, finding 8): no
link to a desk page that no longer exists, and the document's fate instead of "created by Provisioner"."""

from __future__ import annotations

import asyncio

import pytest
from nicegui import app
from nicegui.testing import User
from test_tenant_detail import WAIT, click_and_confirm, new_tenant, open_dialog, see_status
from ui_helpers import sign_in

from engine.services import runs, tenants

pytestmark = pytest.mark.nicegui_main_file('main.py')


async def test_a_deprovisioned_tenants_documents_are_marked_deleted(user: User) -> None:
    tenant_id = new_tenant()
    await sign_in(user, 'admin', next_path=f'/tenants/{tenant_id}')
    await click_and_confirm(user, 'action-provision')
    await see_status(user, 'tenant-status', 'PROVISIONED', retries=WAIT)
    await user.should_see(marker='doc-fate-Company', content='created by Provisioner')

    await click_and_confirm(user, 'action-deprovision')
    await see_status(user, 'tenant-status', 'DEPROVISIONED', retries=WAIT)

    await user.should_see(marker='doc-fate-Company', content='deleted by the teardown', retries=WAIT)
    (company,) = user.find(marker='doc-Company').elements
    assert company.text == 'Acme Retail' and 'href' not in company.props  # no desk page to open


async def test_the_deprovision_dialog_names_a_shared_admin_it_keeps(user: User) -> None:
    acme = new_tenant('Acme Retail', admin_email='boss@example.com')
    beta = new_tenant('Beta Shops', admin_email='boss@example.com')
    for tenant_id in (acme, beta):  # one after the other, so that Acme's run is the one that creates the user
        runs.request_provision(app.state.db, tenant_id, actor='tests')
        for _ in range(WAIT * 3):  # on a machine that may be busy with other tests
            status = tenants.get_tenant(app.state.db, tenant_id).status
            if status == 'PROVISIONED':
                break
            await asyncio.sleep(0.1)
        assert status == 'PROVISIONED', status
    await sign_in(user, 'admin', next_path=f'/tenants/{acme}')
    await open_dialog(user, 'action-deprovision')
    await user.should_see("keep User boss@example.com: still the admin of tenant 'Beta Shops'")
    await user.should_not_see('delete User boss@example.com')
