"""The audit page and a tenant's audit trail word an event's details the same way: times as the pages
write them, a renamed key by its new name, changes as `key: old → new`, the engine by its name."""

from __future__ import annotations

import pytest
from nicegui import app, ui
from nicegui.testing import User
from ui_helpers import sign_in

from engine.services import audit, tenants
from engine.validation import TenantCreate
from storage import audit_log

pytestmark = pytest.mark.nicegui_main_file('main.py')

DETAILS = {'changes': {'expires_at': ['2026-01-01T00:00:00.123456', '2027-01-01T00:00:00+00:00']},
           'admin_user_kept_by': 'Beta Shops', 'at': '2026-12-31T01:30:00+01:30', 'stores': 2}
WORDS = ('expires_at: 2026-01-01 00:00:00 UTC → 2027-01-01 00:00:00 UTC · admin_user_taken_over_from: Beta Shops'
         ' · at: 2026-12-31 00:00:00 UTC · stores: 2')


async def test_one_event_reads_the_same_on_the_audit_page_and_the_tenant_page(user: User) -> None:
    tenant = tenants.create_tenant(app.state.db, TenantCreate(
        name='Acme Retail', country='United States', currency='USD', admin_email='ada@example.com',
        engine='Sandbox'), actor='tests')
    with app.state.db.session() as session:
        event = audit_log.record(session, actor='tests', action='test.worded', tenant_id=tenant.id, details=DETAILS)
    created = audit.list_events(app.state.db, action='tenant.created').items[0]

    await sign_in(user, 'admin', next_path=f'/audit?tenant={tenant.id}')
    on_audit_page = {}
    for shown in (event, created):
        await user.should_see(marker=f'audit-details-{shown.id}')
        (label,) = user.find(marker=f'audit-details-{shown.id}').elements
        on_audit_page[shown.action] = label.text
    assert on_audit_page['test.worded'] == WORDS
    assert 'engine: Sandbox' in on_audit_page['tenant.created']

    await user.open(f'/tenants/{tenant.id}')
    await user.should_see(marker='audit-action', content='test.worded')
    for action, words in on_audit_page.items():
        assert [label.text for label in user.find(kind=ui.label, content=words).elements] == [words], action
    await user.should_not_see('2026-12-31T01:30:00')
    await user.should_not_see('admin_user_kept_by')
