"""What the dashboard walk-through found hard to read, checked as a user sees it: the run's progress
and its error in words (not step keys and categories), short durations in milliseconds, alerts by
title, the current page marked, empty lists that say what to do, blank fields called required, and
audit events naming their tenant and engine."""

from __future__ import annotations

import pytest
from nicegui import app, ui
from nicegui.testing import User
from test_tenant_detail import add_fault, fail_at_pos_profiles, new_tenant, see_status
from ui_helpers import sign_in

from dashboard.components.formatting import alert_title, fmt_seconds
from engine.services import audit, runs
from storage.tables import Alert

pytestmark = pytest.mark.nicegui_main_file('main.py')


def element(user: User, marker: str) -> ui.element:
    (found,) = user.find(marker=marker).elements
    return found


# ---- the tenant page of a failed run -------------------------------------------------------------

async def test_a_failed_run_says_where_it_stopped_how_far_it_got_and_in_milliseconds(user: User) -> None:
    await fail_at_pos_profiles(user, 'support')

    await user.should_see(marker='run-progress', content='9 of 11 steps done')
    await user.should_see(marker='run-error', content="Stopped at step 9 'Create POS profiles': ERPNext refused")
    await user.should_not_see(marker='run-error', content='create_pos_profiles')  # the key is no name
    await user.should_see(marker='error-create_pos_profiles', content='Critical, the run stopped here: ERPNext')
    await user.should_see(marker='run-took', content=' ms')  # a sandbox run takes milliseconds
    await user.should_not_see('took 0.0 s')
    await user.should_not_see(marker='tenant-error')  # the same error is not said twice above the steps


async def provision_and_watch(user: User, tenant_id: int) -> None:
    runs.request_provision(app.state.db, tenant_id, actor='tests')
    await app.state.dispatcher.tick()
    await user.open(f'/tenants/{tenant_id}')
    await see_status(user, 'run-status', 'SUCCEEDED')


async def test_an_optional_step_that_failed_shows_as_a_warning_and_pending_steps_stay_quiet(user: User) -> None:
    second = new_tenant('Second Owner', admin_email='owner@example.com')
    await sign_in(user, 'support', next_path=f'/tenants/{second}')
    await user.should_see(marker='status-verify_provisioning', content='PENDING')
    assert element(user, 'facts-verify_provisioning').text == ''  # not 'attempts: 0'

    await add_fault(method='POST', doctype='User', status=417)  # ERPNext refuses the admin's user
    await provision_and_watch(user, second)

    await see_status(user, 'status-invite_tenant_admin', 'FAILED', retries=3)
    assert element(user, 'status-invite_tenant_admin').props['color'] == 'orange-8'  # not the red of a stop
    await user.should_see(marker='error-invite_tenant_admin', content='Warning, optional step: the run went on')
    await user.should_see(marker='run-progress', content='10 of 11 steps done')


# ---- frame: alerts and navigation ----------------------------------------------------------------

async def test_an_alert_is_titled_in_words_and_its_step_named_by_title(user: User) -> None:
    with app.state.db.session() as session:
        session.add(Alert(rule='step_failure_rate_high', severity='warning', subject='invite_tenant_admin',
                          message="Step 'invite_tenant_admin' failed 6 of 7 times in the last hour."))
    await sign_in(user, 'support', next_path='/tenants')

    await user.should_see(marker='alert-title', content='Step failing often: Invite tenant admin')
    await user.should_see(marker='alert-message', content='failed 6 of 7 times')


async def test_the_navigation_marks_the_page_on_show_and_offers_a_menu_by_role(user: User) -> None:
    tenant_id = new_tenant()
    await sign_in(user, 'manager', next_path=f'/tenants/{tenant_id}')
    await user.should_see(marker='tenant-name', content='Acme Retail')

    assert element(user, 'nav-/tenants').props.get('aria-current') == 'page'  # a tenant is under Tenants
    assert 'aria-current' not in element(user, 'nav-/').props
    menu = [child.text for child in element(user, 'nav-menu').descendants() if isinstance(child, ui.label)]
    assert menu == ['Overview', 'Tenants', 'Metrics']  # a manager's pages, for narrow screens


# ---- tenants list --------------------------------------------------------------------------------

async def test_an_empty_tenant_list_says_why_and_what_to_do(user: User) -> None:
    await sign_in(user, 'support', next_path='/tenants')
    await user.should_see(marker='tenants-range', content='0 of 0 tenants')
    assert 'add one with New tenant' in element(user, 'tenants-table').props['no-data-label']

    new_tenant()
    await user.open('/tenants?q=nothing-like-it')
    await user.should_see(marker='tenants-range', content='0 of 0 tenants')
    assert 'clear them to see every tenant' in element(user, 'tenants-table').props['no-data-label']


async def test_the_tenant_list_keeps_its_row_action_in_view_with_company_in_the_name_column(user: User) -> None:
    new_tenant()
    await sign_in(user, 'support', next_path='/tenants')
    await user.should_see(marker='tenants-range', content='1–1 of 1 tenants')

    labels = [column['label'] for column in element(user, 'tenants-table').columns]
    assert labels == ['Tenant', 'Status', 'Last run', 'Last error', 'Engine', 'Stores', 'Updated (UTC)', '']


async def test_a_blank_field_of_the_new_tenant_form_is_called_required_and_typing_is_kept(user: User) -> None:
    await sign_in(user, 'support', next_path='/tenants')
    user.find('New tenant').click()
    user.find(marker='tenant-name').type('Acme Retail')
    user.find(marker='tenant-admin-email').type('ops@acme.example')

    user.find('Create tenant').click()

    await user.should_see(marker='tenant-country', content='required')
    await user.should_see(marker='tenant-currency', content='required')
    assert element(user, 'tenant-name').value == 'Acme Retail'
    assert element(user, 'tenant-admin-email').value == 'ops@acme.example'


# ---- audit log -----------------------------------------------------------------------------------

async def test_audit_events_name_their_tenant_with_a_link_and_their_engine(user: User) -> None:
    tenant_id = new_tenant('Globex Stores')
    event = audit.list_events(app.state.db, action='tenant.created').items[0]
    await sign_in(user, 'admin', next_path='/audit?action=tenant.created')

    await user.should_see(marker=f'audit-tenant-{event.id}', content='Globex Stores')
    assert element(user, f'audit-tenant-{event.id}').props['href'] == f'/tenants/{tenant_id}'
    await user.should_see(marker=f'audit-details-{event.id}', content='engine: Sandbox')
    await user.should_not_see(marker=f'audit-details-{event.id}', content='engine_id')
    await user.should_not_see(marker=f'audit-details-{event.id}', content='{')


# ---- formatting ----------------------------------------------------------------------------------

@pytest.mark.parametrize(('seconds', 'text'), [(None, '—'), (0.0004, '< 1 ms'), (0.0123, '12 ms'), (0.84, '840 ms'),
                                               (4.25, '4.2 s'), (125, '2 min 05 s'), (4320, '1 h 12 min')])
def test_durations_read_as_a_person_would_write_them(seconds, text) -> None:
    assert fmt_seconds(seconds) == text


def test_alert_titles_say_what_fired_and_about_what() -> None:
    assert alert_title('engine_offline', 'Sandbox') == 'Engine offline: Sandbox'
    assert alert_title('success_rate_low', 'all') == 'Success rate below target'
    assert alert_title('step_failure_rate_high', 'create_pos_profiles') == 'Step failing often: Create POS profiles'
    assert alert_title('some_new_rule', 'x') == 'Some new rule: x'


async def test_the_audit_log_filters_by_a_tenant_typed_by_name(user: User) -> None:
    new_tenant('Globex Stores')
    new_tenant('Initech')
    await sign_in(user, 'admin', next_path='/audit')

    user.find(marker='audit-tenant').type('globex stores')
    user.find(marker='audit-filter').click()

    await user.should_see('1–1 of 1')  # its tenant.created event only
    await user.should_see(kind=ui.link, content='Globex Stores')
    await user.should_not_see(kind=ui.link, content='Initech')
