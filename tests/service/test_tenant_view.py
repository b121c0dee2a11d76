"""The tenant page's read models, on runs the real runner executed against the sandbox."""

from __future__ import annotations

from typing import Any

import pytest

from engine.services import deprovision, runs, tenant_view, tenants
from engine.steps import STEPS
from engine.validation import InvalidInput, NotFound, TenantCreate


async def provision(db, runner, tenant_id: int, *, plan: bool = False) -> dict[str, Any]:
    run = runs.request_provision(db, tenant_id, actor='tests', plan=plan)
    await runner.execute(run.id)
    return runs.run_detail(db, run.id)


async def fault(sandbox, **rule: Any) -> None:
    (await sandbox.post('/__sandbox__/faults', json=rule)).raise_for_status()


def by_doctype(documents: list[tenant_view.DocumentLink]) -> dict[str, list[tenant_view.DocumentLink]]:
    grouped: dict[str, list[tenant_view.DocumentLink]] = {}
    for document in documents:
        grouped.setdefault(document.doctype, []).append(document)
    return grouped


async def test_documents_of_a_provisioned_tenant_link_to_the_desk(db, runner, make_tenant) -> None:
    tenant = make_tenant('Acme & Sons Retail', stores=2)
    detail = await provision(db, runner, tenant.id)
    assert detail['status'] == 'SUCCEEDED'
    abbr = detail['steps'][1]['output']['abbr']

    documents = by_doctype(tenant_view.created_documents(db, tenant.id))

    company = documents['Company'][0]
    assert (company.name, company.created) == ('Acme & Sons Retail', True)
    assert company.url == 'http://sandbox/app/company/Acme%20%26%20Sons%20Retail'
    assert [w.name for w in documents['Warehouse']] == [f'Store 1 - {abbr}', f'Store 2 - {abbr}']
    assert [p.name for p in documents['POS Profile']] == [f'{abbr} Store 1', f'{abbr} Store 2']
    assert documents['POS Profile'][0].url.startswith('http://sandbox/app/pos-profile/')
    accounts = {a.name: a for a in documents['Account']}
    assert accounts[f'Bank - {abbr}'].created  # the Standard chart has no bank ledger: we made it
    assert not accounts[f'Cash - {abbr}'].created  # came with the company: used, not created by us
    assert {m.name for m in documents['Mode of Payment']} == {'Cash', 'Credit Card', 'Bank Transfer'}
    assert documents['User'][0].name == tenant.admin_email
    assert documents['User Permission'][0].created  # named by a hash: its intent describes it instead
    order = [d.doctype for d in tenant_view.created_documents(db, tenant.id)]
    positions = [order.index(doctype) for doctype in ('Company', 'Warehouse', 'POS Profile', 'User')]
    assert positions == sorted(positions)


async def test_a_plan_reports_what_it_would_create_and_adds_no_documents(db, runner, make_tenant,
                                                                         sandbox) -> None:
    tenant = make_tenant('Planned Goods', stores=1)
    detail = await provision(db, runner, tenant.id, plan=True)
    assert detail['mode'] == 'plan' and detail['status'] == 'SUCCEEDED'

    report = {step.key: step for step in tenant_view.plan_report(detail)}

    assert [step.key for step in tenant_view.plan_report(detail)] == [step.key for step in STEPS]
    assert 'Company Planned Goods (PG)' in report['create_company'].create
    assert report['create_pos_profiles'].create == ['POS Profile PG Store 1']
    assert report['verify_provisioning'].note
    assert tenant_view.created_documents(db, tenant.id) == []
    stats = (await sandbox.get('/__sandbox__/stats')).json()
    assert not [key for key in stats['requests'] if key.startswith(('POST', 'PUT', 'DELETE'))]


async def test_an_intent_without_a_finished_step_is_listed_as_maybe_existing(db, runner, make_tenant,
                                                                              sandbox) -> None:
    tenant = make_tenant('Faulty Stores')
    # ERPNext did not answer the insert (a 503 every time): it may or may not have been made. (A refusal
    # would take the intent back: nothing was made.)
    await fault(sandbox, method='POST', doctype='POS Profile', status=503, count=100)
    detail = await provision(db, runner, tenant.id)
    assert detail['status'] == 'FAILED'

    documents = by_doctype(tenant_view.created_documents(db, tenant.id))

    (profile,) = documents['POS Profile']
    assert profile.created and 'may not exist' in profile.note
    assert documents['Company'][0].created


async def test_run_history_is_newest_first_and_pages(db, runner, make_tenant) -> None:
    tenant = make_tenant()
    plan = await provision(db, runner, tenant.id, plan=True)
    first = await provision(db, runner, tenant.id)
    second = await provision(db, runner, tenant.id)

    page = tenant_view.run_history(db, tenant.id, limit=2)
    rest = tenant_view.run_history(db, tenant.id, limit=2, offset=2)

    assert [r.id for r in page.items] == [second['id'], first['id']] and page.has_more
    assert [r.id for r in rest.items] == [plan['id']] and not rest.has_more
    assert [r.mode for r in page.items + rest.items] == ['provision', 'provision', 'plan']
    assert all(r.status == 'SUCCEEDED' and r.duration_s is not None and r.duration_s >= 0 for r in page.items)
    with pytest.raises(InvalidInput):
        tenant_view.run_history(db, tenant.id, limit=0)


async def test_audit_trail_is_the_tenants_own_newest_first_with_details_as_stored(db, runner, make_tenant,
                                                                                 sandbox) -> None:
    tenant, other = make_tenant(), make_tenant()
    runs.request_provision(db, other.id, actor='someone-else')
    # ERPNext did not answer the insert (a 503 every time): it may or may not have been made. (A refusal
    # would take the intent back: nothing was made.)
    await fault(sandbox, method='POST', doctype='POS Profile', status=503, count=100)
    detail = await provision(db, runner, tenant.id)
    runs.skip_step(db, detail['id'], 'create_pos_profiles', actor='ada', reason='done by hand <b>today</b>')

    trail = tenant_view.audit_trail(db, tenant.id, limit=1)
    everything = tenant_view.audit_trail(db, tenant.id, limit=50)

    assert trail.total == everything.total == 2
    (newest,) = trail.items
    assert (newest.action, newest.actor, newest.step_key) == ('step.skipped', 'ada', 'create_pos_profiles')
    assert newest.details == {'reason': 'done by hand <b>today</b>'}  # data: the pages word it
    assert everything.items[-1].action == 'run.provision_requested'
    assert everything.items[-1].details['trigger'] == 'manual'
    assert all(entry.actor != 'someone-else' for entry in everything.items)


def test_header_of_an_unknown_tenant_is_not_found(db, make_tenant) -> None:
    tenant = make_tenant('Header Shop', stores=3)
    header = tenant_view.tenant_header(db, tenant.id)
    assert (header.name, header.stores, header.engine_name, header.status) == ('Header Shop', 3, 'Sandbox',
                                                                               'NOT_STARTED')
    for unknown in (tenant.id + 1, 0, -5, 2**70):
        with pytest.raises(NotFound):
            tenant_view.tenant_header(db, unknown)
        with pytest.raises(NotFound):
            tenant_view.created_documents(db, unknown)


def test_desk_urls_quote_names_and_slug_doctypes() -> None:
    assert tenant_view.desk_url('https://erp.example.com/', 'POS Profile', 'AR Store 1/#?') == \
        'https://erp.example.com/app/pos-profile/AR%20Store%201%2F%23%3F'
    assert tenant_view.desk_url('http://x', 'Mode of Payment', 'Credit Card') == \
        'http://x/app/mode-of-payment/Credit%20Card'


def test_every_step_says_which_documents_its_output_names() -> None:
    assert set(tenant_view.DOCUMENTS_BY_STEP) == {step.key for step in STEPS}


def test_malformed_outputs_are_left_out_and_shared_ledgers_listed_once() -> None:
    outputs = {
        'create_company': {'company': None},
        'create_warehouses': {'warehouses': 'not a list'},
        'resolve_accounts': {'accounts': {'expense': 'COGS - X', 'write_off': 'COGS - X', 'cash': 7}},
        'invite_tenant_admin': {'user': 'a@b.test', 'user_permission': 'exists'},
    }
    intents = {'User Permission': ['a@b.test → Company X']}
    documents = tenant_view.documents_from(outputs, intents, 'http://e')
    assert [(d.doctype, d.name) for d in documents] == [('Account', 'COGS - X'), ('User', 'a@b.test')]
    assert documents[0].note == 'expense account, write-off account'


def test_audit_trail_names_the_engine_rather_than_its_id(db, engine_row) -> None:
    tenant = tenants.create_tenant(db, TenantCreate(name='Named Engine Shop', country='United States',
                                                    currency='USD', admin_email='ada@acme.example',
                                                    engine=engine_row.name), actor='ada')

    (created,) = tenant_view.audit_trail(db, tenant.id).items

    assert created.action == 'tenant.created'
    assert created.details['engine'] == engine_row.name and 'engine_id' not in created.details


def test_an_admin_shared_with_other_tenants_says_whose_admin_it_is_too() -> None:
    def note(output):
        (user,) = tenant_view.documents_from({'invite_tenant_admin': output}, {}, 'http://e')
        return user.note
    assert note({'user': 'a@b.test', 'user_permission': 'exists'}) == 'tenant admin'
    assert note({'user': 'a@b.test', 'user_permission': 'exists', 'user_shared': True,
                 'also_admin_of': ['Beta Shop', 'Gamma Shop']}) == (
        'tenant admin; also the admin of Beta Shop, Gamma Shop')
    assert note({'user': 'a@b.test', 'user_permission': 'exists', 'user_shared': True,
                 'also_admin_of': []}) == 'tenant admin (shared with other tenants)'


async def test_after_a_teardown_the_documents_say_what_became_of_them(db, runner, make_tenant) -> None:
    # QA pass 3, finding 8: a deprovisioned tenant's page listed every document as live, with links
    # to desk pages that no longer exist.
    tenant = make_tenant('Acme Retail')
    assert (await provision(db, runner, tenant.id))['status'] == 'SUCCEEDED'
    assert all(doc.fate is None for doc in tenant_view.created_documents(db, tenant.id))
    teardown = deprovision.request(db, tenant.id, actor='tests')
    await runner.execute(teardown.id)

    documents = by_doctype(tenant_view.created_documents(db, tenant.id))

    assert documents['Company'][0].fate == 'deleted by the teardown'
    assert documents['Warehouse'][0].fate in ('deleted by the teardown', 'deleted with the company')
    assert documents['POS Profile'][0].fate == 'deleted by the teardown'
    assert documents['User'][0].fate == 'deleted by the teardown'
    assert documents['User Permission'][0].fate == 'deleted by the teardown'
    modes = {m.name: m.fate for m in documents['Mode of Payment']}
    assert modes['Cash'] == "shared: the teardown removed this company's row"  # the site's own
    assert set(modes.values()) <= {'deleted by the teardown', "shared: the teardown removed this company's row"}
    accounts = {a.name: a for a in documents['Account']}
    assert accounts['Cash - AR'].fate == 'deleted with the company'  # came with the company
