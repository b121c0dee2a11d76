"""QA pass 9, finding 3: ERPNext answering 409 (duplicate) to an insert of a document it then does
not have is a temporary problem (retried), not a refusal a person must fix in ERPNext."""

from __future__ import annotations

from helpers import fault, names, provision, steps

from engine.services import runs


async def test_a_duplicate_answer_for_a_missing_warehouse_is_retried_and_then_created(db, runner, make_tenant,
                                                                                      sandbox):
    await fault(sandbox, method='POST', doctype='Warehouse', status=409, count=1)

    detail = await provision(db, runner, make_tenant('Dune Traders').id)

    assert detail['status'] == 'SUCCEEDED', detail
    assert steps(detail)['create_warehouses']['attempts'] == 2
    assert 'Store 1 - DT' in await names(sandbox, 'Warehouse', company='Dune Traders')


async def test_a_duplicate_answer_that_persists_is_a_temporary_failure_worded_as_such(db, runner, make_tenant,
                                                                                       sandbox):
    await fault(sandbox, method='POST', doctype='Warehouse', status=409, count=50)

    detail = await provision(db, runner, make_tenant('Dune Traders').id)

    step = steps(detail)['create_warehouses']
    assert (detail['status'], step['status'], step['error_category']) == ('FAILED', 'FAILED', 'transient')
    assert step['error'] == ("ERPNext answered that Warehouse 'Store 1 - DT' already exists, but has no such "
                             'document: a temporary problem in ERPNext (nothing was created). Retrying is safe.')
    assert 'refused' not in step['error'] and 'Fix this' not in step['error']
    await sandbox.delete('/__sandbox__/faults')
    runs.retry_run(db, detail['id'], actor='sam')
    await runner.execute(detail['id'])
    assert runs.run_detail(db, detail['id'])['status'] == 'SUCCEEDED'
