"""The tenants list: server-side search, filters and pages kept in the URL; the New tenant form with
errors next to its fields; Provision (one and selected); CSV import; names shown as text."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from nicegui import app, ui
from nicegui.testing import User
from ui_helpers import sign_in

from engine.services import audit, engines, runs, tenants
from engine.validation import EngineCreate, TenantCreate
from storage.tables import Tenant

pytestmark = pytest.mark.nicegui_main_file('main.py')

WAIT = 150  # rounds of 0.1 s: several timer refreshes, and a provisioning run on a busy machine


def make_tenant(name: str, email: str = 'ops@example.com') -> int:
    db = app.state.db
    engine = engines.list_engines(db)[0]
    data = TenantCreate(name=name, country='US', currency='USD', admin_email=email, engine=engine.id)
    return tenants.create_tenant(db, data, actor='tests').id


async def open_list(user: User, path: str = '/tenants', *, role: str | None = None) -> None:
    """Open the list (signing in as `role` first) and wait until its first page is read."""
    if role:
        await sign_in(user, role, next_path=path)
    else:
        await user.open(path)
    await user.should_see(marker='tenants-range', content=' tenants')


def table(user: User) -> ui.table:
    (element,) = user.find(marker='tenants-table').elements
    return element


def names(user: User) -> list[str]:
    return [row['name'] for row in table(user).rows]


async def wait_for_rows(user: User, check: Callable[[list[dict]], bool]) -> list[dict]:
    """The table's rows once `check` holds (the page re-reads them by itself every few seconds)."""
    for _ in range(WAIT):
        if check(table(user).rows):
            return table(user).rows
        await asyncio.sleep(0.1)
    raise AssertionError(f'the table never got there: {table(user).rows}')


def status_of(rows: list[dict], name: str) -> str | None:
    return next((row['status'] for row in rows if row['name'] == name), None)


async def test_pages_search_and_filters_are_server_side_and_kept_in_the_url(user: User) -> None:
    for number in range(1, 61):
        make_tenant(f'Tenant {number:02}', 'ada@lovelace.example.com' if number == 7 else 'ops@example.com')
    await open_list(user, '/tenants', role='manager')

    assert names(user) == [f'Tenant {n:02}' for n in range(60, 35, -1)]  # newest first, 25 a page
    await user.should_see('1–25 of 60 tenants')

    await open_list(user, '/tenants?page=2')
    assert names(user) == [f'Tenant {n:02}' for n in range(35, 10, -1)]
    await user.should_see('26–50 of 60 tenants')

    await open_list(user, '/tenants?page=2&size=50')
    assert names(user) == [f'Tenant {n:02}' for n in range(10, 0, -1)]

    user.find(marker='tenants-search').type('lovelace').trigger('keydown.enter')  # matches the admin e-mail
    await user.should_see('1–1 of 1 tenants')
    assert names(user) == ['Tenant 07']

    await open_list(user, '/tenants?q=Tenant+4&status=NOT_STARTED&engine=Sandbox')  # a reload keeps the view
    assert names(user) == [f'Tenant {n}' for n in range(49, 39, -1)]
    assert user.find(marker='tenants-search').elements.pop().value == 'Tenant 4'

    user.find(marker='tenants-status').click()
    user.find('FAILED').click()
    await user.should_see('0 of 0 tenants')


async def test_bad_query_parameters_are_named_not_fatal(user: User) -> None:
    make_tenant('Only Shop')
    await open_list(user, '/tenants?status=BOGUS&page=abc&size=7&engine=Nowhere', role='support')

    await user.should_see("unknown status 'BOGUS'; unknown engine 'Nowhere'")
    assert names(user) == ['Only Shop']

    await open_list(user, '/tenants?page=99')  # past the end: the last page
    assert names(user) == ['Only Shop']

    await open_list(user, '/tenants?q=' + 'x' * 300)
    await user.should_see('q: must be at most 200 characters long')


async def test_new_tenant_form_shows_each_error_next_to_its_field_then_creates(user: User) -> None:
    await open_list(user, '/tenants', role='support')
    user.find('New tenant').click()
    user.find(marker='tenant-name').type('Acme Retail')
    user.find(marker='tenant-country').type('United States')
    user.find(marker='tenant-currency').type('XYZ')
    user.find(marker='tenant-admin-email').type('not-an-email')
    user.find(marker='tenant-stores').clear().type('0')

    user.find('Create tenant').click()

    await user.should_see(marker='tenant-currency', content="unknown currency 'XYZ'")
    await user.should_see(marker='tenant-admin-email', content='not a valid email address')
    await user.should_see(marker='tenant-stores', content='must be at least 1')
    await user.should_not_see(marker='tenant-name', content='must')
    assert tenants.list_tenants(app.state.db).total == 0

    user.find(marker='tenant-currency').clear().type('usd')
    user.find(marker='tenant-admin-email').clear().type('Ops@Acme.example.com')
    user.find(marker='tenant-stores').clear().type('3')
    user.find('Create tenant').click()

    await user.should_see("Tenant 'Acme Retail' created.")
    (tenant,) = tenants.list_tenants(app.state.db).items
    assert (tenant.currency, tenant.admin_email, tenant.stores, tenant.created_by) == (
        'USD', 'ops@acme.example.com', 3, 'support')
    await wait_for_rows(user, lambda rows: [row['name'] for row in rows] == ['Acme Retail'])


async def test_a_taken_name_is_shown_on_the_name_field(user: User) -> None:
    make_tenant('Acme Retail')
    await open_list(user, '/tenants', role='admin')
    user.find('New tenant').click()
    for marker, text in (('tenant-name', 'acme retail'), ('tenant-country', 'DE'), ('tenant-currency', 'EUR'),
                         ('tenant-admin-email', 'x@example.com')):
        user.find(marker=marker).type(text)

    user.find('Create tenant').click()

    await user.should_see(marker='tenant-name', content="a tenant named 'Acme Retail' already exists")
    assert tenants.list_tenants(app.state.db).total == 1


async def test_a_manager_sees_the_list_but_no_buttons_that_change_anything(user: User) -> None:
    make_tenant('Acme Retail')
    await open_list(user, '/tenants', role='manager')

    assert names(user) == ['Acme Retail']
    for label in ('New tenant', 'Import CSV', 'Provision selected'):
        await user.should_not_see(label)
    assert 'actions' not in [column['name'] for column in table(user).columns]
    assert table(user).selection is None


async def test_provision_from_the_list_reaches_provisioned(user: User) -> None:
    tenant_id = make_tenant('Acme Retail')
    await open_list(user, '/tenants', role='support')
    row = table(user).rows[0]
    assert (row['id'], row['status'], row['last_run']) == (tenant_id, 'NOT_STARTED', '')

    user.find(marker='tenants-table').trigger('provision', row)  # the row's Provision button

    await user.should_see("Provisioning of 'Acme Retail' queued.")
    rows = await wait_for_rows(user, lambda rows: status_of(rows, 'Acme Retail') == 'PROVISIONED')
    assert rows[0]['abbr'] == 'AR' and rows[0]['last_run'] == '#1 SUCCEEDED'


async def test_provisioning_a_tenant_with_an_active_run_is_a_clear_conflict(user: User) -> None:
    tenant_id = make_tenant('Acme Retail')
    await open_list(user, '/tenants', role='support')
    row = table(user).rows[0]
    runs.request_provision(app.state.db, tenant_id, actor='someone')

    user.find(marker='tenants-table').trigger('provision', row)

    await user.should_see('already has an active run')


async def test_provision_selected_queues_only_the_ticked_tenants(user: User) -> None:
    for name in ('First Shop', 'Second Shop', 'Third Shop'):
        make_tenant(name)
    await open_list(user, '/tenants', role='support')
    user.find('Provision selected').click()
    await user.should_see('Select tenants first')
    picked = [row for row in table(user).rows if row['name'] != 'Second Shop']

    user.find(marker='tenants-table').trigger(
        'selection', {'added': True, 'rows': picked, 'keys': [row['id'] for row in picked]})
    user.find('Provision selected').click()
    await user.should_see('Provision 2 tenants?')  # asked first: a bulk action is many runs at once
    assert audit.list_events(app.state.db, action='run.provision_requested').total == 0
    user.find(marker='confirm-ok').click()

    await user.should_see('2 queued.')
    rows = await wait_for_rows(user, lambda rows: status_of(rows, 'First Shop') == status_of(
        rows, 'Third Shop') == 'PROVISIONED')
    assert status_of(rows, 'Second Shop') == 'NOT_STARTED'
    requested = audit.list_events(app.state.db, action='run.provision_requested').items
    assert [event.details['trigger'] for event in requested] == ['bulk'] * 2


CSV = ('name,country,currency,admin_email,stores,engine\n'
       'Acme Retail,United States,USD,ops@acme.example.com,2,Sandbox\n'
       'Bad Shop,Narnia,USD,ops@bad.example.com,1,\n'
       'Corner Store,DE,EUR,boss@corner.example.com,,\n')


async def upload(user: User, content: bytes, name: str = 'tenants.csv') -> None:
    (element,) = user.find(ui.upload).elements
    await element.handle_uploads([ui.upload.SmallFileUpload(name, 'text/csv', content)])


async def test_csv_import_previews_imports_and_a_second_import_creates_nothing(user: User) -> None:
    await open_list(user, '/tenants', role='support')
    user.find('Import CSV').click()

    await upload(user, CSV.encode())

    await user.should_see('3 rows: 2 will be created, 0 already exist, 1 has errors.')
    (problems,) = user.find(marker='import-problems').elements
    assert [(p['row'], p['field']) for p in problems.rows] == [(3, 'country')]
    assert "unknown country 'Narnia'" in problems.rows[0]['message']
    assert tenants.list_tenants(app.state.db).total == 0  # nothing written before Import

    user.find(marker='import-run').click()

    await user.should_see('2 tenants created, 0 already existed, 1 row with errors skipped.')
    assert sorted(t.name for t in tenants.list_tenants(app.state.db).items) == ['Acme Retail', 'Corner Store']
    await wait_for_rows(user, lambda rows: len(rows) == 2)

    await upload(user, CSV.encode())

    await user.should_see('3 rows: 0 will be created, 2 already exist, 1 has errors.')
    (preview,) = user.find(marker='import-preview').elements
    assert [row['outcome'] for row in preview.rows] == [
        'already exists: skipped', 'has errors: skipped', 'already exists: skipped']
    (button,) = user.find(marker='import-run').elements
    assert not button.enabled
    assert tenants.list_tenants(app.state.db).total == 2
    (event,) = audit.list_events(app.state.db, action='tenant.imported').items
    assert (event.actor, event.details['created'], event.details['invalid']) == ('support', 2, 1)


async def test_csv_files_that_cannot_be_read_get_a_clear_message(user: User) -> None:
    await open_list(user, '/tenants', role='admin')
    user.find('Import CSV').click()

    latin1 = 'name,country,currency,admin_email\nCaf\u00e9,FR,EUR,a@example.com\n'.encode('latin-1')
    await upload(user, latin1)
    await user.should_see('The file is not UTF-8 text')

    await upload(user, b'tenant;land\nAcme;US\n')
    await user.should_see('The first line must be the header name,country,currency,admin_email,stores,engine')
    assert tenants.list_tenants(app.state.db).total == 0


async def test_names_and_errors_with_markup_are_shown_as_text(user: User) -> None:
    script = '<script>alert(1)</script>'
    engine = engines.list_engines(app.state.db)[0]
    # The API refuses '<' in names, but older rows and ERPNext's error texts may hold markup.
    with app.state.db.session() as session:
        session.add(Tenant(name=script, company_name=script, country='United States', currency='USD',
                           admin_email='x@example.com', engine_id=engine.id,
                           last_error=f'ERPNext said {script}'))
    await open_list(user, '/tenants', role='support')

    (row,) = table(user).rows
    assert (row['name'], row['company_name'], row['last_error']) == (script, script, f'ERPNext said {script}')
    templates = ' '.join(str(slot.template) for slot in table(user).slots.values())
    assert 'v-html' not in templates and '{{ props.row.name }}' in templates  # Vue text interpolation
    await user.should_not_see(kind=ui.html)


async def test_the_engine_filter_finds_an_engine_as_erpnext_compares_names(user: User) -> None:
    # Review finding 22: `?engine=` goes by the service's rule (name key, then a bounded id).
    db = app.state.db
    ecole = engines.create_engine(db, app.state.secrets, EngineCreate(
        name='École Centrale', base_url='https://ecole.example.com', api_key='key', api_secret='secret'),
        actor='tests')
    make_tenant('Sandbox Shop')
    tenants.create_tenant(db, TenantCreate(name='Ecole Shop', country='US', currency='USD',
                                           admin_email='ops@example.com', engine=ecole.id), actor='tests')

    await open_list(user, '/tenants?engine=ECOLE+centrale', role='support')
    assert names(user) == ['Ecole Shop']
    assert user.find(marker='tenants-problem').elements.pop().text == ''
    assert user.find(marker='tenants-engine').elements.pop().value == ecole.id

    await open_list(user, f'/tenants?engine={ecole.id}')
    assert names(user) == ['Ecole Shop']
    await open_list(user, '/tenants?engine=99999999999999999999999')  # beyond any id: none, named
    await user.should_see("unknown engine '99999999999999999999999'")
