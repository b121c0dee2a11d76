"""Correcting a tenant (PATCH /tenants/{id}): an admin e-mail ERPNext refuses is refused at creation by
the one validator the form, the API and the CSV import share; each field may change while ERPNext
holds nothing made from it; refusals name what blocks them; changes are audited."""

from __future__ import annotations

import httpx
import pytest
from api_helpers import make_user, new_tenant, tenant_body, wait_for_run

from engine.services import tenant_import
from storage.tables import Tenant

REFUSED_BY_ERPNEXT = ['jörg@bücher.de', 'jörg@例え.jp', 'ada@bücher.de', 'søren@ærø.dk']


def sandbox_client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url='http://s',
                             headers={'Authorization': 'token sandbox:sandbox'})


async def audit_events(api, admin, action: str) -> list[dict]:
    return (await api.get('/api/v1/audit', headers=admin, params={'action': action})).json()['items']


# ---- the admin e-mail: what ERPNext refuses is refused at creation ----------------------------------

@pytest.mark.parametrize('address', REFUSED_BY_ERPNEXT)
async def test_an_address_erpnext_refuses_is_a_422_on_create_naming_what_to_change(api, admin, engine_id,
                                                                                 address) -> None:
    answer = await api.post('/api/v1/tenants', headers=admin, json=tenant_body(admin_email=address))

    assert answer.status_code == 422, answer.text
    detail = answer.json()['detail']
    assert detail.startswith(f"admin_email: ERPNext would refuse it ('{address} is not a valid Email Address')")
    assert 'ASCII' in detail
    assert (await api.get('/api/v1/tenants', headers=admin)).json()['total'] == 0


async def test_the_message_names_the_character_and_the_domain_s_ascii_form(api, admin, engine_id) -> None:
    answer = await api.post('/api/v1/tenants', headers=admin, json=tenant_body(admin_email='jörg@bücher.de'))

    detail = answer.json()['detail']
    assert "before the @ (not 'ö')" in detail
    assert "(write 'bücher.de' as 'xn--bcher-kva.de')" in detail
    ascii_form = await api.post('/api/v1/tenants', headers=admin,
                                json=tenant_body(admin_email='joerg@xn--bcher-kva.de'))
    assert ascii_form.status_code == 201, ascii_form.text


async def test_an_address_longer_than_erpnext_keeps_is_refused(api, admin, engine_id) -> None:
    address = 'a' * 60 + '@' + 'b' * 60 + '.' + 'c' * 19 + '.com'  # 144 characters
    answer = await api.post('/api/v1/tenants', headers=admin, json=tenant_body(admin_email=address))

    assert answer.status_code == 422
    assert answer.json()['detail'] == 'admin_email: must be at most 140 characters long'


async def test_the_csv_import_refuses_it_with_the_same_words(db, engine_id) -> None:
    content = ('name,country,currency,admin_email,engine\n'
               'Bücher Jörg,Germany,EUR,jörg@bücher.de,Main ERP\n').encode()

    preview = tenant_import.preview_csv(db, content)

    [problem] = preview.problems
    assert problem.field == 'admin_email'
    assert problem.message.startswith("ERPNext would refuse it ('jörg@bücher.de is not a valid Email Address')")


@pytest.mark.parametrize('address', ['ada@example.com', 'Ops+Shop-1@Acme.Example.COM', "o'neil@x.io",
                                     'a.b_c@sub-1.example.co.uk', 'x{y}|z~@example.org', *REFUSED_BY_ERPNEXT])
async def test_what_the_validator_accepts_the_sandbox_accepts_as_a_user(api, admin, engine_id, sandbox_app,
                                                                        address) -> None:
    """The validator and ERPNext (the sandbox, as strict as frappe.utils.validate_email_address) agree."""
    ours = await api.post('/api/v1/tenants', headers=admin, json=tenant_body(admin_email=address))
    async with sandbox_client(sandbox_app) as sandbox:
        theirs = await sandbox.post('/api/resource/User', json={'email': address, 'first_name': 'Ada',
                                                                 'send_welcome_email': 0})

    assert (ours.status_code, theirs.status_code) in ((201, 200), (422, 417)), (ours.text, theirs.text)
    if theirs.status_code == 417:
        assert 'is not a valid Email Address' in theirs.text


# ---- correcting a tenant that is not in ERPNext yet ----------------------------------------------

async def test_a_new_tenant_is_corrected_field_by_field_and_each_change_is_audited(api, admin, engine_id) -> None:
    other = (await api.post('/api/v1/engines', headers=admin, json={
        'name': 'Second ERP', 'base_url': 'https://erp2.example.com', 'api_key': 'k', 'api_secret': 's'})).json()
    tenant_id = (await api.post('/api/v1/tenants', headers=admin, json=tenant_body())).json()['id']
    support = await make_user(api, admin, 'sam', 'support')

    answer = await api.patch(f'/api/v1/tenants/{tenant_id}', headers=support, json={
        'name': '  Acme  Stores ', 'country': 'de', 'currency': 'eur', 'admin_email': 'Boss@Acme.Example.com',
        'stores': 3, 'engine': 'second erp'})

    assert answer.status_code == 200, answer.text
    tenant = answer.json()
    assert (tenant['name'], tenant['company_name'], tenant['country'], tenant['currency']) == (
        'Acme Stores', 'Acme Stores', 'Germany', 'EUR')
    assert (tenant['admin_email'], tenant['stores'], tenant['engine_id']) == ('boss@acme.example.com', 3, other['id'])
    assert (await api.get(f'/api/v1/tenants/{tenant_id}', headers=admin)).json()['name'] == 'Acme Stores'
    [event] = await audit_events(api, admin, 'tenant.updated')
    assert (event['actor'], event['tenant_id']) == ('sam', tenant_id)
    assert event['details'] == {'changes': {
        'name': ['Acme Retail', 'Acme Stores'], 'company_name': ['Acme Retail', 'Acme Stores'],
        'country': ['United States', 'Germany'], 'currency': ['USD', 'EUR'],
        'admin_email': ['ops@acme.example.com', 'boss@acme.example.com'], 'stores': [2, 3],
        'engine': ['Main ERP', 'Second ERP']}}


async def test_a_company_name_of_its_own_stays_when_the_tenant_is_renamed(api, admin, engine_id) -> None:
    tenant_id = (await api.post('/api/v1/tenants', headers=admin, json=tenant_body())).json()['id']
    await api.patch(f'/api/v1/tenants/{tenant_id}', headers=admin, json={'company_name': 'Acme Retail GmbH'})

    renamed = (await api.patch(f'/api/v1/tenants/{tenant_id}', headers=admin, json={'name': 'Acme'})).json()

    assert (renamed['name'], renamed['company_name']) == ('Acme', 'Acme Retail GmbH')


async def test_nothing_changed_is_a_200_without_an_audit_event(api, admin, engine_id) -> None:
    tenant_id = (await api.post('/api/v1/tenants', headers=admin, json=tenant_body())).json()['id']

    same = await api.patch(f'/api/v1/tenants/{tenant_id}', headers=admin,
                           json={'name': 'Acme Retail', 'country': 'US', 'stores': 2})

    assert same.status_code == 200 and same.json()['name'] == 'Acme Retail'
    assert await audit_events(api, admin, 'tenant.updated') == []


@pytest.mark.parametrize(('body', 'status', 'expected'), [
    ({'name': 'beta  SHOPS'}, 409, "a tenant named 'Beta Shops' already exists"),
    ({'company_name': 'BETA SHOPS'}, 409, "company_name: tenant 'Beta Shops' already has a company named "
                                          "'Beta Shops' on this engine"),
    ({'admin_email': 'jörg@bücher.de'}, 422, "admin_email: ERPNext would refuse it ('jörg@bücher.de is not"),
    ({'stores': 0}, 422, 'stores: must be at least 1'),
    ({'stores': 21}, 422, 'stores: must be at most 20'),
    ({'country': 'Narnia'}, 422, "country: unknown country 'Narnia'"),
    ({'name': '=1+1'}, 422, "name: must not start with '='"),
    ({'engine': 'Nope'}, 422, "engine: no engine with id or name 'Nope'"),
    ({'name': None}, 422, 'name: must not be null (leave the field out to keep its value)'),
    ({'abbr': 'XX'}, 422, 'abbr: is chosen by the company step'),
    ({'status': 'PROVISIONED'}, 422, 'status: is not a known field'),
])
async def test_a_correction_is_checked_as_a_creation_is(api, admin, engine_id, body, status, expected) -> None:
    tenant_id = (await api.post('/api/v1/tenants', headers=admin, json=tenant_body())).json()['id']
    assert (await api.post('/api/v1/tenants', headers=admin, json=tenant_body('Beta Shops'))).status_code == 201

    answer = await api.patch(f'/api/v1/tenants/{tenant_id}', headers=admin, json=body)

    assert answer.status_code == status, answer.text
    assert answer.json()['detail'].startswith(expected)
    assert (await api.get(f'/api/v1/tenants/{tenant_id}', headers=admin)).json()['name'] == 'Acme Retail'


async def test_a_new_tenant_named_as_a_renamed_company_is_a_409(api, admin, engine_id) -> None:
    tenant_id = (await api.post('/api/v1/tenants', headers=admin, json=tenant_body())).json()['id']
    await api.patch(f'/api/v1/tenants/{tenant_id}', headers=admin, json={'company_name': 'Globex'})

    answer = await api.post('/api/v1/tenants', headers=admin, json=tenant_body('GLOBEX'))

    assert answer.status_code == 409
    assert answer.json()['detail'] == ("tenant 'Acme Retail' already has a company named 'Globex' on engine "
                                       "'Main ERP' (ERPNext holds one company of a name)")


async def test_only_support_and_admins_correct_a_tenant(api, admin, engine_id) -> None:
    tenant_id = (await api.post('/api/v1/tenants', headers=admin, json=tenant_body())).json()['id']
    manager = await make_user(api, admin, 'mia', 'manager')

    assert (await api.patch(f'/api/v1/tenants/{tenant_id}', headers=manager, json={'stores': 1})).status_code == 403
    assert (await api.patch(f'/api/v1/tenants/{tenant_id}', json={'stores': 1})).status_code == 401
    assert (await api.patch('/api/v1/tenants/999', headers=admin, json={'stores': 1})).status_code == 404
    assert (await api.patch(f'/api/v1/tenants/{2**63}', headers=admin, json={'stores': 1})).status_code == 422


async def test_nothing_changes_while_a_run_is_queued(api, admin, engine_id) -> None:
    tenant_id = (await api.post('/api/v1/tenants', headers=admin, json=tenant_body())).json()['id']
    run_id = (await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin)).json()['id']  # no dispatcher

    answer = await api.patch(f'/api/v1/tenants/{tenant_id}', headers=admin, json={'stores': 1})

    assert answer.status_code == 409
    assert answer.json()['detail'] == (f"Tenant 'Acme Retail' has a provisioning run in progress (run #{run_id}, "
                                       'QUEUED): wait for it to end (or cancel it), then edit the tenant.')
    assert (await api.post(f'/api/v1/runs/{run_id}/cancel', headers=admin)).status_code == 202
    assert (await api.patch(f'/api/v1/tenants/{tenant_id}', headers=admin, json={'stores': 1})).status_code == 200


# ---- once ERPNext holds what runs made: per field ------------------------------------------------

async def test_the_qa_case_an_admin_erpnext_refused_is_corrected_and_invited(
        api, admin, provisioning, sandbox_engine, sandbox_app, db) -> None:
    tenant_id = await new_tenant(api, admin)
    with db.session() as session:  # stored before the rule refused such addresses
        tenant = session.get(Tenant, tenant_id)
        tenant.admin_email = 'jörg@bücher.de'
        session.add(tenant)
    run_id = (await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin)).json()['id']
    run = await wait_for_run(api, admin, run_id)
    invite = next(step for step in run['steps'] if step['key'] == 'invite_tenant_admin')
    assert (run['status'], invite['status']) == ('SUCCEEDED', 'FAILED')
    assert 'is not a valid Email Address' in invite['error']

    fixed = await api.patch(f'/api/v1/tenants/{tenant_id}', headers=admin,
                            json={'admin_email': 'joerg@buecher.example.de'})
    renamed = await api.patch(f'/api/v1/tenants/{tenant_id}', headers=admin, json={'name': 'Acme GmbH'})
    recompanied = await api.patch(f'/api/v1/tenants/{tenant_id}', headers=admin,
                                  json={'name': 'Acme AG', 'company_name': 'Acme AG'})

    assert fixed.status_code == 200, fixed.text
    assert renamed.status_code == 200, renamed.text  # the name is ours: the Company is named by company_name
    assert (renamed.json()['name'], renamed.json()['company_name']) == ('Acme GmbH', 'Acme Retail')
    assert recompanied.status_code == 409
    assert recompanied.json()['detail'] == (
        f"Tenant 'Acme GmbH' cannot be changed so: company_name: run #{run_id} created the Company "
        "'Acme Retail' in ERPNext from it, and ERPNext keeps a company's name, country and currency: deprovision "
        'the tenant first (it deletes what its runs made), then correct it.')
    retried = await api.post(f'/api/v1/runs/{run_id}/steps/invite_tenant_admin/retry', headers=admin)
    assert retried.status_code == 202
    run = await wait_for_run(api, admin, run_id)
    assert (run['status'], run['warnings']) == ('SUCCEEDED', 0)
    async with sandbox_client(sandbox_app) as sandbox:
        users = [doc['name'] for doc in (await sandbox.get('/__sandbox__/documents/User')).json()]
    assert 'joerg@buecher.example.de' in users
    again = await api.patch(f'/api/v1/tenants/{tenant_id}', headers=admin, json={'admin_email': 'x@example.com'})
    assert again.status_code == 409
    assert f'run #{run_id} invited joerg@buecher.example.de as the tenant\'s admin' in again.json()['detail']


async def test_more_stores_are_made_by_provisioning_again_and_fewer_are_refused_naming_the_documents(
        api, admin, provisioning, sandbox_engine, sandbox_app) -> None:
    tenant_id = await new_tenant(api, admin, stores=2)
    run_id = (await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin)).json()['id']
    assert (await wait_for_run(api, admin, run_id))['status'] == 'SUCCEEDED'

    more = await api.patch(f'/api/v1/tenants/{tenant_id}', headers=admin, json={'stores': 3})
    again = (await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin)).json()
    provisioned = await wait_for_run(api, admin, again['id'])

    assert more.status_code == 200, more.text
    assert provisioned['status'] == 'SUCCEEDED'
    created = {key: step['output'].get('created') for step in provisioned['steps']
               for key in ('create_warehouses', 'create_pos_profiles') if step['key'] == key}
    assert created == {'create_warehouses': ['Store 3 - AR'], 'create_pos_profiles': ['AR Store 3']}
    async with sandbox_client(sandbox_app) as sandbox:
        warehouses = [d['name'] for d in (await sandbox.get('/__sandbox__/documents/Warehouse')).json()]
        profiles = [d['name'] for d in (await sandbox.get('/__sandbox__/documents/POS Profile')).json()]
    assert 'Store 3 - AR' in warehouses and 'AR Store 3' in profiles
    fewer = await api.patch(f'/api/v1/tenants/{tenant_id}', headers=admin, json={'stores': 2})
    assert fewer.status_code == 409
    assert fewer.json()['detail'].startswith(
        "Tenant 'Acme Retail' cannot be changed so: stores: cannot go from 3 to 2: ERPNext holds warehouses and "
        "POS profiles of stores up to 3 ('Store 1 - AR', 'AR Store 1', 'Store 2 - AR', 'AR Store 2', …)")
    engine = await api.patch(f'/api/v1/tenants/{tenant_id}', headers=admin, json={'engine': 'Sandbox'})
    assert engine.status_code == 200  # the same engine: no change
    assert (await api.get(f'/api/v1/tenants/{tenant_id}', headers=admin)).json()['stores'] == 3


async def test_after_a_deprovision_the_company_fields_change_again_but_not_the_engine(
        api, admin, provisioning, sandbox_engine) -> None:
    await api.post('/api/v1/engines', headers=admin, json={
        'name': 'Second ERP', 'base_url': 'https://erp2.example.com', 'api_key': 'k', 'api_secret': 's'})
    tenant_id = await new_tenant(api, admin, stores=2)
    run_id = (await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin)).json()['id']
    assert (await wait_for_run(api, admin, run_id))['status'] == 'SUCCEEDED'
    for_engine = await api.patch(f'/api/v1/tenants/{tenant_id}', headers=admin, json={'engine': 'Second ERP'})
    assert for_engine.status_code == 409
    assert "engine: this tenant's runs recorded documents on engine 'Sandbox'" in for_engine.json()['detail']
    teardown = (await api.post(f'/api/v1/tenants/{tenant_id}/deprovision', headers=admin)).json()
    assert (await wait_for_run(api, admin, teardown['id']))['status'] == 'SUCCEEDED'

    corrected = await api.patch(f'/api/v1/tenants/{tenant_id}', headers=admin,
                                json={'name': 'Acme GmbH', 'currency': 'EUR', 'stores': 1})
    moved = await api.patch(f'/api/v1/tenants/{tenant_id}', headers=admin, json={'engine': 'Second ERP'})

    assert corrected.status_code == 200, corrected.text
    assert (corrected.json()['company_name'], corrected.json()['stores']) == ('Acme GmbH', 1)
    assert moved.status_code == 409
    assert moved.json()['detail'].endswith('For another engine, create a new tenant and delete this one.')


# ---- review 4: what an edit must not leave behind -----------------------------------------------------

async def test_a_retry_after_the_engine_was_changed_runs_on_the_new_engine(
        api, admin, provisioning, sandbox_engine) -> None:
    await api.post('/api/v1/engines', headers=admin, json={  # the sandbox refuses its key pair
        'name': 'Second ERP', 'base_url': 'https://erp2.example.com', 'api_key': 'k', 'api_secret': 's'})
    tenant_id = (await api.post('/api/v1/tenants', headers=admin, json=tenant_body(engine='Second ERP'))).json()['id']
    run_id = (await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin)).json()['id']
    failed = await wait_for_run(api, admin, run_id)
    assert (failed['status'], failed['error_step']) == ('FAILED', 'check_engine'), failed

    moved = await api.patch(f'/api/v1/tenants/{tenant_id}', headers=admin, json={'engine': 'Sandbox'})
    assert moved.status_code == 200, moved.text
    assert (await api.post(f'/api/v1/runs/{run_id}/retry', headers=admin)).status_code == 202
    retried = await wait_for_run(api, admin, run_id)

    assert retried['status'] == 'SUCCEEDED', retried  # not on the engine the tenant left


async def test_a_deprovisioned_admin_kept_for_another_tenant_keeps_its_address(
        api, admin, provisioning, sandbox_engine) -> None:
    acme = await new_tenant(api, admin, admin_email='boss@example.com')
    beta = await new_tenant(api, admin, name='Beta Shops', admin_email='boss@example.com')
    for tenant_id in (acme, beta):  # one after the other: Acme's run creates the user
        run_id = (await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin)).json()['id']
        assert (await wait_for_run(api, admin, run_id))['status'] == 'SUCCEEDED'
    teardown = (await api.post(f'/api/v1/tenants/{acme}/deprovision', headers=admin)).json()
    assert (await wait_for_run(api, admin, teardown['id']))['status'] == 'SUCCEEDED'

    answer = await api.patch(f'/api/v1/tenants/{acme}', headers=admin, json={'admin_email': 'new@example.com'})

    assert answer.status_code == 409, answer.text  # Beta's teardown finds the user it takes over by it
    assert 'the teardown kept ERPNext user boss@example.com' in answer.json()['detail']
