"""Marking a failed optional step done by hand takes its warning off the run (QA pass 7, finding 6:
the run still read "SUCCEEDED · 1 warning" and the tenant stayed under "Succeeded with warnings")."""

from __future__ import annotations

from engine.services import runs, tenants
from tests.engine.helpers import fault, provision, steps


async def test_marking_the_failed_optional_step_done_leaves_no_warning(db, runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail')
    await fault(sandbox, method='POST', doctype='Customer', status=403, count=10)
    detail = await provision(db, runner, acme.id)
    assert (detail['status'], detail['warnings'], steps(detail)['create_walkin_customer']['status']) == (
        'SUCCEEDED', 1, 'FAILED')
    assert [t.id for t in tenants.list_tenants(db, warnings=True).items] == [acme.id]

    runs.mark_step_succeeded(db, detail['id'], 'create_walkin_customer', actor='admin', reason='made by hand')

    after = runs.run_detail(db, detail['id'])
    assert (after['status'], after['warnings']) == ('SUCCEEDED', 0)
    assert tenants.list_tenants(db, warnings=True).items == []


async def test_skipping_it_keeps_the_warning(db, runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail')
    await fault(sandbox, method='POST', doctype='Customer', status=403, count=10)
    detail = await provision(db, runner, acme.id)
    runs.skip_step(db, detail['id'], 'create_walkin_customer', actor='admin', reason='not needed')
    assert runs.run_detail(db, detail['id'])['warnings'] == 1  # the customer is still missing
