"""QA pass 8, finding 2: after a teardown, a document ERPNext no longer had when the teardown ran reads
"already gone", not "deleted by the teardown"; and the ledgers and cost center of a company that was
already gone read "already gone with the company", not "left in ERPNext"; and so does a shared Mode of
Payment (a mode the run created that is gone, or this company's row in one it did not)."""

from __future__ import annotations

from helpers import provision, steps

from engine.services import deprovision, runs
from engine.services.tenant_view import created_documents


async def deprovision_tenant(db, runner, tenant_id: int) -> dict:
    run = deprovision.request(db, tenant_id, actor='tests')
    await runner.execute(run.id)
    return runs.run_detail(db, run.id)


def fates(db, tenant_id: int) -> dict[tuple[str, str], str]:
    return {(doc.doctype, doc.name): doc.fate for doc in created_documents(db, tenant_id)}


async def test_after_a_reset_every_document_reads_already_gone(db, runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail', stores=2)
    assert (await provision(db, runner, acme.id))['status'] == 'SUCCEEDED'
    (await sandbox.post('/__sandbox__/reset')).raise_for_status()

    detail = await deprovision_tenant(db, runner, acme.id)

    assert detail['status'] == 'SUCCEEDED', {k: s['error'] for k, s in steps(detail).items() if s['error']}
    assert steps(detail)['delete_company']['output']['already_gone'] == ['Acme Retail']
    found = fates(db, acme.id)
    assert found['Company', 'Acme Retail'] == 'already gone before the teardown'
    assert found['Warehouse', 'Store 1 - AR'] == 'already gone before the teardown'
    assert found['Account', 'Bank - AR'] == 'already gone before the teardown'  # one the run created
    assert found['Account', 'Cash - AR'] == 'already gone with the company'  # one of the chart it adopted
    assert found['Cost Center', 'Main - AR'] == 'already gone with the company'
    assert found['User', 'admin1@example.test'] == 'already gone before the teardown'
    [permission] = [fate for (doctype, _), fate in found.items() if doctype == 'User Permission']
    assert permission == 'already gone with the user'
    # the shared Modes of Payment: the one the run created is gone, the seeded ones lost this company's row
    assert found['Mode of Payment', 'Bank Transfer'] == 'already gone before the teardown'
    assert found['Mode of Payment', 'Cash'] == "shared: this company's row was already gone before the teardown"
    assert found['Mode of Payment', 'Credit Card'] == "shared: this company's row was already gone before the teardown"
    assert not [key for key, fate in found.items() if fate == 'deleted by the teardown'], found
    assert not [key for key, fate in found.items() if fate.startswith('left in ERPNext') and key[0] in
                ('Account', 'Cost Center', 'Warehouse')], found


async def test_a_teardown_that_deleted_them_still_says_so(db, runner, make_tenant):
    acme = make_tenant('Acme Retail')
    assert (await provision(db, runner, acme.id))['status'] == 'SUCCEEDED'

    assert (await deprovision_tenant(db, runner, acme.id))['status'] == 'SUCCEEDED'

    found = fates(db, acme.id)
    assert found['Company', 'Acme Retail'] == 'deleted by the teardown'
    assert found['Account', 'Bank - AR'] == 'deleted by the teardown'
    assert found['Account', 'Cash - AR'] == 'deleted with the company'
    assert found['Mode of Payment', 'Bank Transfer'] == 'deleted by the teardown'
    assert found['Mode of Payment', 'Cash'] == "shared: the teardown removed this company's row"


async def test_a_mode_somebody_else_made_under_our_name_reads_kept(db, runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail')
    assert (await provision(db, runner, acme.id))['status'] == 'SUCCEEDED'
    (await sandbox.post('/__sandbox__/reset')).raise_for_status()  # our 'Bank Transfer' is gone ...
    (await sandbox.post('/__sandbox__/api-keys', json={'key': 'jane', 'secret': 'jane-secret-1',
                                                       'user': 'jane@example.com'})).raise_for_status()
    (await sandbox.post('/api/resource/Mode of Payment', headers={'Authorization': 'token jane:jane-secret-1'},
                        json={'mode_of_payment': 'Bank Transfer', 'type': 'Bank'})).raise_for_status()  # ... made again

    detail = await deprovision_tenant(db, runner, acme.id)

    assert detail['status'] == 'SUCCEEDED'
    assert steps(detail)['release_payment_modes']['output']['kept'] == ['Bank Transfer']
    assert fates(db, acme.id)['Mode of Payment', 'Bank Transfer'] == 'kept in ERPNext'
