"""Deprovisioning undoes exactly what a tenant's runs created, and nothing else."""

from __future__ import annotations

import pytest
from helpers import documents, fault, names, provision, stats, steps, writes

from engine.runner import Runner
from engine.services import deprovision, runs
from storage.tables import Tenant

# DocTypes provisioning touches, whose documents we compare before and after.
DOCTYPES = ('Company', 'Account', 'Cost Center', 'Warehouse', 'Mode of Payment', 'Price List', 'Customer',
            'POS Profile', 'User', 'User Permission')


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
    # The admin's ERPNext user existed before: provisioning adopts nothing and must not delete it.
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
