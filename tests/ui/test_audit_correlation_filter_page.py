"""The audit page filters by correlation id: the import event's id is a link to the events of that
import alone (its tenant.imported and each created tenant's tenant.created), the filter lives in the
URL and in its input, and a bad value is said, not a crash."""

from __future__ import annotations

import pytest
from nicegui import app
from nicegui.testing import User
from ui_helpers import sign_in

from engine.services import audit, tenant_import

pytestmark = pytest.mark.nicegui_main_file('main.py')

HEADER = 'name,country,currency,admin_email,stores,engine\n'


def import_of(*names: str) -> tenant_import.ImportResult:
    rows = ''.join(f'{name},US,USD,ops@{name.lower()}.example.com,1,Sandbox\n' for name in names)
    return tenant_import.import_csv(app.state.db, (HEADER + rows).encode(), actor='admin')


async def test_the_import_events_correlation_id_links_to_its_events_alone(user: User) -> None:
    first, second = import_of('Alpha', 'Beta'), import_of('Gamma')
    imported = audit.list_events(app.state.db, correlation_id=first.correlation_id, action='tenant.imported').items[0]
    others = audit.list_events(app.state.db, correlation_id=second.correlation_id).items
    await sign_in(user, 'admin', next_path='/audit?action=tenant.imported')
    await user.should_see(marker=f'audit-event-{imported.id}')

    user.find(marker=f'audit-correlation-{imported.id}').click()

    await user.should_see('1–3 of 3')
    for event in audit.list_events(app.state.db, correlation_id=first.correlation_id).items:
        await user.should_see(marker=f'audit-event-{event.id}')
    for event in others:
        await user.should_not_see(marker=f'audit-event-{event.id}')
    (field,) = user.find(marker='audit-correlation').elements
    assert field.value == first.correlation_id


async def test_the_filter_is_typed_or_read_from_the_url_and_a_bad_one_is_said(user: User) -> None:
    first, second = import_of('Alpha'), import_of('Beta', 'Gamma')
    await sign_in(user, 'admin', next_path=f'/audit?correlation_id={first.correlation_id}')
    await user.should_see('1–2 of 2')

    user.find(marker='audit-correlation').clear().type(second.correlation_id).trigger('keydown.enter')
    await user.should_see('1–3 of 3')
    for event in audit.list_events(app.state.db, correlation_id=second.correlation_id).items:
        await user.should_see(marker=f'audit-event-{event.id}')

    user.find(marker='audit-correlation').clear().type('x' * 65)
    user.find(marker='audit-filter').click()
    await user.should_see('correlation_id: must be at most 64 characters')
    await user.should_not_see('No events match.')  # only the error (QA pass 7, finding 10)

    user.find(marker='audit-clear').click()
    await user.should_see(f"of {audit.list_events(app.state.db).total}")
