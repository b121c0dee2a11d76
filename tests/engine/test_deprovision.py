"""Deprovisioning undoes exactly what a tenant's runs created, and nothing else."""

from __future__ import annotations

import pytest
from helpers import documents, fault, names, provision, stats, steps, writes

from engine.runner import Runner
from engine.services import deprovision, runs
from engine.teardown import TEARDOWN_STEPS
from engine.validation import Conflict
from storage.tables import Tenant

# DocTypes provisioning touches, whose documents we compare before and after.
DOCTYPES = ('Company', 'Account', 'Cost Center', 'Warehouse', 'Mode of Payment', 'Price List', 'Customer',
            'POS Profile', 'User', 'User Permission')


STANDARD_FIELDS = ('name', 'owner', 'creation', 'modified', 'modified_by', 'docstatus', 'idx', 'doctype')


async def snapshot(sandbox) -> dict[str, dict[str, dict]]:
    return {doctype: {doc['name']: doc for doc in await documents(sandbox, doctype)} for doctype in DOCTYPES}


async def deprovision_tenant(db, runner: Runner, tenant_id: int) -> dict:
    run = deprovision.request(db, tenant_id, actor='tests')
    await runner.execute(run.id)
    return runs.run_detail(db, run.id)


async def test_deprovision_leaves_exactly_the_other_tenant_and_what_existed_before(
        db, runner, make_tenant, sandbox):
    before_either = await snapshot(sandbox)
    acme = make_tenant('Acme Retail', stores=2, admin_email='ada@acme.test')
    assert (await provision(db, runner, acme.id))['status'] == 'SUCCEEDED'
    only_acme = await snapshot(sandbox)
    beta = make_tenant('Beta Shops', stores=1, admin_email='bob@beta.test')
    assert (await provision(db, runner, beta.id))['status'] == 'SUCCEEDED'
    with_both = await snapshot(sandbox)

    detail = await deprovision_tenant(db, runner, acme.id)

    assert detail['status'] == 'SUCCEEDED', {k: s['error'] for k, s in steps(detail).items() if s['error']}
    after = await snapshot(sandbox)
    for doctype in DOCTYPES:
        acme_added = set(only_acme[doctype]) - set(before_either[doctype])
        if doctype == 'Mode of Payment':  # a mode Acme created stays while Beta uses it
            acme_added = {mode for mode in acme_added
                          if all(row['company'] == 'Acme Retail' for row in with_both[doctype][mode]['accounts'])}
        expected = set(with_both[doctype]) - acme_added
        assert set(after[doctype]) == expected, doctype
    for mode, doc in after['Mode of Payment'].items():  # shared documents keep Beta's rows only
        companies = [row['company'] for row in doc['accounts']]
        assert 'Acme Retail' not in companies
        assert companies.count('Beta Shops') == [r['company'] for r in with_both['Mode of Payment'][mode]
                                                 ['accounts']].count('Beta Shops')


async def test_the_plan_lists_what_would_go_and_writes_nothing(db, runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail', admin_email='ada@acme.test')
    await provision(db, runner, acme.id)
    before = (await stats(sandbox))['requests']

    planned = deprovision.plan(db, acme.id)

    assert (await stats(sandbox))['requests'] == before
    listed = {(item['doctype'], item['name']) for item in planned['delete']}
    assert ('Company', 'Acme Retail') in listed
    assert ('POS Profile', 'Acme Retail - Store 1') in listed or any(d == 'POS Profile' for d, _ in listed)
    assert {item['doctype'] for item in planned['change']} == {'Mode of Payment'}
    assert planned['delete'][-1]['doctype'] == 'Company'  # the company goes last


async def test_an_adopted_document_is_never_deleted(db, runner, make_tenant, sandbox):
    # The admin's ERPNext user existed before, made under the engine's own API user (as an admin shared
    # with another tenant is): provisioning only adds its User Permission, and must not delete the user.
    await sandbox.post('/api/resource/User', json={'email': 'ada@acme.test', 'first_name': 'Ada',
                                                   'send_welcome_email': 0})
    acme = make_tenant('Acme Retail', admin_email='ada@acme.test')
    await provision(db, runner, acme.id)

    detail = await deprovision_tenant(db, runner, acme.id)

    assert detail['status'] == 'SUCCEEDED'
    assert 'ada@acme.test' in await names(sandbox, 'User')
    assert await names(sandbox, 'Company', company_name='Acme Retail') == []
    # A Mode of Payment this tenant created, used by nobody else, went with it.
    assert 'Bank Transfer' not in await names(sandbox, 'Mode of Payment')


async def test_a_refused_delete_stops_safely_and_the_retry_finishes(db, runner, make_tenant,
                                                                    sandbox):
    acme = make_tenant('Acme Retail', admin_email='ada@acme.test')
    await provision(db, runner, acme.id)
    rule = await fault(sandbox, method='DELETE', doctype='Company', status=417)

    failed = await deprovision_tenant(db, runner, acme.id)

    assert failed['status'] == 'FAILED'
    error = steps(failed)['delete_company']['error']
    assert "delete Company 'Acme Retail'" in error and 'retry' in error
    await sandbox.delete(f'/__sandbox__/faults/{rule["id"]}')
    before = (await stats(sandbox))['requests']
    runs.retry_run(db, failed['id'], actor='tests')
    await runner.execute(failed['id'])
    done = runs.run_detail(db, failed['id'])
    assert done['status'] == 'SUCCEEDED'
    deletes = writes({k: v - before.get(k, 0) for k, v in (await stats(sandbox))['requests'].items()})
    assert {k: v for k, v in deletes.items() if v} == {'DELETE Company': 1}  # nothing deleted twice
    assert await names(sandbox, 'Company', company_name='Acme Retail') == []


async def test_an_interrupted_teardown_resumes_without_deleting_twice(db, runner, make_tenant,
                                                                      sandbox):
    acme = make_tenant('Acme Retail', stores=2, admin_email='ada@acme.test')
    await provision(db, runner, acme.id)
    rule = await fault(sandbox, method='DELETE', doctype='Warehouse', status=503)
    first = await deprovision_tenant(db, runner, acme.id)
    assert first['status'] == 'FAILED'
    await sandbox.delete(f'/__sandbox__/faults/{rule["id"]}')
    runs.retry_run(db, first['id'], actor='tests')
    await runner.execute(first['id'])

    assert runs.run_detail(db, first['id'])['status'] == 'SUCCEEDED'
    log = (await sandbox.get('/__sandbox__/requests')).json()
    deleted = [(entry['method'], entry['path']) for entry in log if entry['method'] == 'DELETE'
               and entry.get('status', 0) < 300]
    assert len(deleted) == len(set(deleted))
    for doctype in ('Company', 'Warehouse', 'POS Profile'):
        assert [n for n in await names(sandbox, doctype) if 'Acme' in n or n.endswith(' - AR')] == []


async def test_a_tenant_never_provisioned_cannot_be_deprovisioned(db, make_tenant):
    tenant = make_tenant('Never Ran')
    with pytest.raises(Exception, match='only a provisioned'):
        deprovision.request(db, tenant.id, actor='tests')
    with db.session() as session:
        assert session.get(Tenant, tenant.id).status == 'NOT_STARTED'


async def test_a_second_teardown_while_one_is_queued_is_refused_naming_the_tenant(db, runner, make_tenant):
    acme = make_tenant('Acme Retail')
    await provision(db, runner, acme.id)
    first = deprovision.request(db, acme.id, actor='tests')

    with pytest.raises(Conflict) as refused:
        deprovision.request(db, acme.id, actor='tests')

    assert str(refused.value) == (f"Tenant 'Acme Retail' already has an active run (run #{first.id}, QUEUED): "
                                  'wait for it or cancel it.')
    assert [step['key'] for step in runs.run_detail(db, first.id)['steps']] == [s.key for s in TEARDOWN_STEPS]


async def test_a_name_whose_creation_no_step_confirmed_is_never_deleted(db, runner, make_tenant, sandbox):
    # QA finding 14: the Price List POST failed and the step was skipped. A refused POST takes its
    # intent back (engine/steps/common.py), but a 503 or a timeout may or may not have created the
    # document, so its intent stays: a name that never existed. Someone then creates it.
    woc = make_tenant('Woc Outlet', admin_email='w@woc.test')
    rule = await fault(sandbox, method='POST', doctype='Price List', status=503, count=100)
    provisioned = await provision(db, runner, woc.id)
    assert steps(provisioned)['create_price_list']['status'] == 'FAILED'
    runs.skip_step(db, provisioned['id'], 'create_price_list', actor='tests', reason='refused by ERPNext')
    await sandbox.delete(f'/__sandbox__/faults/{rule["id"]}')
    foreign = await sandbox.post('/api/resource/Price List', json={
        'price_list_name': 'WO Selling', 'currency': 'EUR', 'selling': 1, 'enabled': 1})
    foreign.raise_for_status()

    planned = deprovision.plan(db, woc.id)
    detail = await deprovision_tenant(db, runner, woc.id)

    assert ('Price List', 'WO Selling') not in {(item['doctype'], item['name']) for item in planned['delete']}
    assert {'doctype': 'Price List', 'name': 'WO Selling', 'reason': 'no step confirmed creating it'} in planned['kept']
    assert detail['status'] == 'SUCCEEDED', {k: s['error'] for k, s in steps(detail).items() if s['error']}
    assert 'WO Selling' in await names(sandbox, 'Price List')  # the foreign one stays
    assert await names(sandbox, 'Company', company_name='Woc Outlet') == []  # the rest went
    assert await names(sandbox, 'Customer', customer_name='Walk-in Customer - WO') == []
    with db.session() as session:  # settled once, kept on record (a plan now finds nothing left to tear down)
        assert deprovision.confirmed_intents(session, woc.id)[1] == {'Price List': ['WO Selling']}


async def test_a_foreign_document_under_a_name_our_failed_step_recorded_stays(
        db, runner, make_tenant, sandbox):
    # The POS Profiles' POSTs keep failing with 503 (did they go through?): the critical step fails
    # with both intents recorded. Another company's POS Profile then takes one of those names; the
    # teardown removes only what ERPNext shows in this tenant's company.
    acme = make_tenant('Acme Retail', stores=2, admin_email='ada@acme.test')
    rule = await fault(sandbox, method='POST', doctype='POS Profile', status=503, count=100)
    failed = await provision(db, runner, acme.id)
    assert failed['status'] == 'FAILED'
    await sandbox.delete(f'/__sandbox__/faults/{rule["id"]}')
    assert await names(sandbox, 'POS Profile', company='Acme Retail') == []
    refused_name = 'AR Store 1'
    beta = make_tenant('Beta Shops', admin_email='bob@beta.test')
    assert (await provision(db, runner, beta.id))['status'] == 'SUCCEEDED'
    beta_profile = (await documents(sandbox, 'POS Profile'))[-1]
    assert beta_profile['company'] == 'Beta Shops'
    copy = {key: value for key, value in beta_profile.items() if key not in STANDARD_FIELDS}
    copy['payments'] = [{key: value for key, value in row.items() if key not in STANDARD_FIELDS + ('parent',)}
                        for row in copy.get('payments', [])]
    (await sandbox.post('/api/resource/POS Profile', json={**copy, 'name': refused_name})).raise_for_status()

    detail = await deprovision_tenant(db, runner, acme.id)

    assert detail['status'] == 'SUCCEEDED', {k: s['error'] for k, s in steps(detail).items() if s['error']}
    assert await names(sandbox, 'POS Profile', company='Acme Retail') == []
    assert refused_name in await names(sandbox, 'POS Profile', company='Beta Shops')
    assert await names(sandbox, 'Company', company_name='Acme Retail') == []
    assert steps(detail)['delete_pos_profiles']['output']['kept'] == [refused_name]
    assert steps(detail)['delete_pos_profiles']['output']['already_gone'] == ['AR Store 2']
