"""A document is adopted under a recorded intent only when Provisioner's API user created it.

After an insert whose outcome is unknown (a 503, a timeout) the intent stays: the document may exist.
When somebody else then makes a document of exactly that name, its `owner` (the ERPNext user who
created it) tells it apart from ours: the retry fails saying whose it is, and deprovisioning leaves it.
The sandbox's engine key acts as Administrator; a second key acts as a person, jane@x.test."""

from __future__ import annotations

import httpx

from engine.services import deprovision, runs
from tests.conftest import JANE
from tests.engine.helpers import documents, fault, names, provision, resume, steps

STORE = 'Store 1 - AR'




async def deprovision_tenant(db, runner, tenant_id: int) -> dict:
    run = deprovision.request(db, tenant_id, actor='tests')
    await runner.execute(run.id)
    return runs.run_detail(db, run.id)


async def deleted(sandbox, doctype: str) -> list[str]:
    """The paths of the documents of `doctype` Provisioner deleted one by one."""
    log = (await sandbox.get('/__sandbox__/requests')).json()
    return [entry['path'] for entry in log if entry['method'] == 'DELETE' and entry['doctype'] == doctype]


async def warehouse_insert_unanswered(db, runner, sandbox, tenant) -> dict:
    """Every POST of the store warehouse fails with 503 before ERPNext writes: the run fails with the
    intent recorded (for all Provisioner knows, the warehouse exists)."""
    rule = await fault(sandbox, method='POST', doctype='Warehouse', status=503, count=100)
    failed = await provision(db, runner, tenant.id)
    assert steps(failed)['create_warehouses']['status'] == 'FAILED', steps(failed)['create_warehouses']
    assert STORE in failed['metadata']['intents']['Warehouse']
    await sandbox.delete(f'/__sandbox__/faults/{rule["id"]}')
    return failed


async def make_store_warehouse(client: httpx.AsyncClient) -> None:
    response = await client.post('/api/resource/Warehouse', json={
        'warehouse_name': 'Store 1', 'company': 'Acme Retail', 'parent_warehouse': 'All Warehouses - AR'})
    response.raise_for_status()


async def test_a_document_made_by_another_user_under_our_intent_is_not_adopted(db, runner, make_tenant, sandbox,
                                                                               jane):
    acme = make_tenant('Acme Retail')
    failed = await warehouse_insert_unanswered(db, runner, sandbox, acme)
    await make_store_warehouse(jane)

    runs.retry_run(db, failed['id'], actor='tests')
    detail = await resume(db, runner, failed['id'])

    step = steps(detail)['create_warehouses']
    assert detail['status'] == 'FAILED' and step['status'] == 'FAILED'
    assert (f"Warehouse '{STORE}' exists in ERPNext but was created by {JANE}, not by Provisioner's API user "
            "Administrator") in step['error']
    assert 'Rename or delete it in ERPNext, then retry' in step['error']
    assert STORE not in detail['metadata']['intents'].get('Warehouse', [])  # not recorded as ours
    assert steps(detail)['create_pos_profiles']['status'] != 'SUCCEEDED'
    plan = deprovision.plan(db, acme.id)
    assert ('Warehouse', STORE) not in {(item['doctype'], item['name']) for item in plan['delete']}

    torn_down = await deprovision_tenant(db, runner, acme.id)

    assert torn_down['status'] == 'SUCCEEDED', {k: s['error'] for k, s in steps(torn_down).items() if s['error']}
    assert STORE not in steps(torn_down)['delete_warehouses']['output']['deleted']
    assert await deleted(sandbox, 'Warehouse') == []  # (ERPNext removes a company's warehouses with it)


async def test_our_own_document_whose_answer_was_lost_is_adopted(db, runner, make_tenant, sandbox):
    """ERPNext committed the insert, then the answer was lost (503): the retry finds it, made by our
    API user under our intent, and adopts it; deprovisioning deletes it."""
    acme = make_tenant('Acme Retail')
    await fault(sandbox, method='POST', doctype='Warehouse', status=503, after_commit=True, count=1)

    detail = await provision(db, runner, acme.id)

    step = steps(detail)['create_warehouses']
    assert detail['status'] == 'SUCCEEDED', detail.get('error_message')
    assert step['attempts'] == 2 and step['output']['warehouses'] == [STORE] and step['output']['created'] == []
    [store] = [doc for doc in await documents(sandbox, 'Warehouse') if doc['name'] == STORE]
    assert store['owner'] == 'Administrator'

    torn_down = await deprovision_tenant(db, runner, acme.id)

    assert torn_down['status'] == 'SUCCEEDED', {k: s['error'] for k, s in steps(torn_down).items() if s['error']}
    assert STORE in steps(torn_down)['delete_warehouses']['output']['deleted']
    assert await names(sandbox, 'Warehouse', warehouse_name='Store 1') == []


async def test_a_document_a_person_vouched_for_is_used_but_never_deleted(db, runner, make_tenant, sandbox, jane):
    """Marked done by hand ("it is the right one"): the run takes jane's warehouse and goes on, but
    the intent an earlier attempt recorded does not make it ours: deprovisioning keeps it."""
    acme = make_tenant('Acme Retail')
    failed = await warehouse_insert_unanswered(db, runner, sandbox, acme)
    await make_store_warehouse(jane)

    runs.mark_step_succeeded(db, failed['id'], 'create_warehouses', actor='admin', reason="jane's is right")
    detail = await resume(db, runner, failed['id'])

    assert detail['status'] == 'SUCCEEDED', detail.get('error_message')
    assert steps(detail)['create_warehouses']['output']['warehouses'] == [STORE]

    torn_down = await deprovision_tenant(db, runner, acme.id)

    assert torn_down['status'] == 'SUCCEEDED', {k: s['error'] for k, s in steps(torn_down).items() if s['error']}
    warehouses = steps(torn_down)['delete_warehouses']['output']
    assert warehouses['kept'] == [STORE] and warehouses['deleted'] == [], warehouses
    assert await deleted(sandbox, 'Warehouse') == []
    assert any(JANE in warning for warning in warehouses['warnings'])


async def test_a_price_list_made_by_another_user_under_our_intent_survives_deprovisioning(
        db, runner, make_tenant, sandbox, jane):
    acme = make_tenant('Acme Retail')
    rule = await fault(sandbox, method='POST', doctype='Price List', status=503, count=100)
    first = await provision(db, runner, acme.id)
    assert steps(first)['create_price_list']['status'] == 'FAILED'  # optional: the run went on
    assert 'AR Selling' in first['metadata']['intents']['Price List']
    await sandbox.delete(f'/__sandbox__/faults/{rule["id"]}')
    (await jane.post('/api/resource/Price List', json={'price_list_name': 'AR Selling', 'currency': 'USD',
                                                       'selling': 1})).raise_for_status()

    again = await provision(db, runner, acme.id)

    step = steps(again)['create_price_list']
    assert step['status'] == 'FAILED' and f'created by {JANE}' in step['error']
    torn_down = await deprovision_tenant(db, runner, acme.id)
    assert torn_down['status'] == 'SUCCEEDED', {k: s['error'] for k, s in steps(torn_down).items() if s['error']}
    assert 'AR Selling' in await names(sandbox, 'Price List')
    assert await names(sandbox, 'Company', company_name='Acme Retail') == []  # the rest went


async def test_a_company_made_by_another_user_under_our_intent_is_not_adopted(db, runner, make_tenant, sandbox,
                                                                             jane):
    acme = make_tenant('Acme Retail')
    rule = await fault(sandbox, method='POST', doctype='Company', status=503, count=100)
    failed = await provision(db, runner, acme.id)
    assert 'Acme Retail' in failed['metadata']['intents']['Company']
    await sandbox.delete(f'/__sandbox__/faults/{rule["id"]}')
    (await jane.post('/api/resource/Company', json={'company_name': 'Acme Retail', 'default_currency': 'USD',
                                                    'country': 'United States'})).raise_for_status()

    runs.retry_run(db, failed['id'], actor='tests')
    detail = await resume(db, runner, failed['id'])

    error = steps(detail)['create_company']['error']
    assert f"Company 'Acme Retail' exists in ERPNext but was created by {JANE}" in error
    assert 'Acme Retail' not in detail['metadata']['intents'].get('Company', [])
    assert await names(sandbox, 'Warehouse', warehouse_name='Store 1') == []  # nothing built inside it
