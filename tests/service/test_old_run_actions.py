"""Only a tenant's current run can be retried or have its steps settled: acting on an earlier run
would set the tenant's status from old history (review: marking the last failed step of an old run
made a newer, deprovisioned or provisioned tenant PROVISIONED again)."""

from __future__ import annotations

import pytest

from engine.services import runs
from engine.validation import Conflict, NotFound
from tests.engine.helpers import fault, provision, tenant

STALE = r"Run #{} is not the tenant's current run \(run #{} is\): act on that one\."


async def test_an_earlier_run_cannot_be_acted_on(db, runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail')
    await fault(sandbox, method='POST', doctype='POS Profile', status=417, count=1)
    old = await provision(db, runner, acme.id)
    assert old['status'] == 'FAILED'
    new = await provision(db, runner, acme.id)  # provisioned again: a new run
    assert new['status'] == 'SUCCEEDED' and tenant(db, acme.id).status == 'PROVISIONED'

    for action in (lambda: runs.retry_run(db, old['id'], actor='admin'),
                   lambda: runs.retry_step(db, old['id'], 'create_pos_profiles', actor='admin'),
                   lambda: runs.skip_step(db, old['id'], 'create_pos_profiles', actor='admin', reason='x'),
                   lambda: runs.mark_step_succeeded(db, old['id'], 'create_pos_profiles', actor='admin',
                                                    reason='x')):
        with pytest.raises(Conflict, match=STALE.format(old['id'], new['id'])):
            action()
    assert runs.run_detail(db, old['id'])['status'] == 'FAILED'
    assert tenant(db, acme.id).status == 'PROVISIONED'
    with pytest.raises(NotFound, match="There is no step 'no_such_step'"):  # a 404 first (QA pass 7)
        runs.retry_step(db, old['id'], 'no_such_step', actor='admin')


async def test_the_current_run_still_can(db, runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail')
    await fault(sandbox, method='POST', doctype='POS Profile', status=417, count=1)
    failed = await provision(db, runner, acme.id)
    await provision(db, runner, acme.id, plan=True)  # a newer plan does not make the run stale
    runs.mark_step_succeeded(db, failed['id'], 'create_pos_profiles', actor='admin', reason='made by hand')
    assert runs.run_detail(db, failed['id'])['status'] == 'QUEUED'  # the verification still has to run
