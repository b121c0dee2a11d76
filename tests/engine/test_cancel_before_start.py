"""QA pass 9, finding 1: a run cancelled before it started (nothing ran, ERPNext was not touched)
gives its tenant back the status it had when the run was queued, instead of FAILED. A run that
started stays FAILED: a step in flight may still write after the cancel."""

from __future__ import annotations

from helpers import provision, tenant

from engine import drift
from engine.run_store import RunStore
from engine.services import runs
from engine.services.overview import overview


async def test_a_first_run_cancelled_while_queued_leaves_the_tenant_not_started(db, make_tenant, sandbox):
    acme = make_tenant('Acme Retail')
    run = runs.request_provision(db, acme.id, actor='sam')
    assert tenant(db, acme.id).status == 'QUEUED'

    runs.cancel_run(db, run.id, actor='admin')

    assert runs.run_detail(db, run.id)['status'] == 'CANCELLED'
    assert (tenant(db, acme.id).status, tenant(db, acme.id).last_error) == ('NOT_STARTED', None)
    assert 'FAILED' not in overview(db).tenants_by_status


async def test_a_provisioned_tenant_whose_re_run_or_plan_is_cancelled_while_queued_stays_provisioned(
        db, runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail')
    assert (await provision(db, runner, acme.id))['status'] == 'SUCCEEDED'

    for plan in (False, True):
        run = runs.request_provision(db, acme.id, actor='sam', plan=plan)
        runs.cancel_run(db, run.id, actor='admin')
        assert (tenant(db, acme.id).status, tenant(db, acme.id).last_error) == ('PROVISIONED', None), plan


async def test_a_drifted_tenant_keeps_its_drift_when_its_repair_is_cancelled_while_queued(
        db, runner, clients, make_tenant, sandbox):
    acme = make_tenant('Acme Retail')
    await provision(db, runner, acme.id)
    assert (await sandbox.delete('/api/resource/POS Profile/AR Store 1')).status_code == 202
    assert (await drift.check_tenant(db, clients.get, acme.id)).drifted

    repair = runs.request_provision(db, acme.id, actor='sam', repair=True)
    runs.cancel_run(db, repair.id, actor='admin')

    kept = tenant(db, acme.id)
    assert kept.status == 'PROVISIONED' and kept.drifted and 'AR Store 1' in kept.drift_detail


async def test_a_failed_run_retried_then_cancelled_while_queued_keeps_its_failure(db, runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail')
    await sandbox.post('/__sandbox__/faults', json={'method': 'POST', 'doctype': 'Company', 'status': 403,
                                                    'count': 10})
    failed = await provision(db, runner, acme.id)
    assert failed['status'] == 'FAILED'
    error = tenant(db, acme.id).last_error

    runs.retry_run(db, failed['id'], actor='sam')
    assert tenant(db, acme.id).status == 'QUEUED'
    runs.cancel_run(db, failed['id'], actor='admin')

    assert (tenant(db, acme.id).status, tenant(db, acme.id).last_error) == ('FAILED', error)


async def test_a_run_that_started_is_failed_by_its_cancel(db, make_tenant, sandbox):
    """Chosen: once the run's execution started, its tenant is FAILED by a cancel, even if no step
    created anything yet: a step in flight may still write to ERPNext, and the cancel cannot wait."""
    acme = make_tenant('Acme Retail')
    run = runs.request_provision(db, acme.id, actor='sam')
    assert RunStore(db).start(run.id) is not None  # the runner's first checkpoint: RUNNING, PROVISIONING

    runs.cancel_run(db, run.id, actor='admin')

    assert tenant(db, acme.id).status == 'FAILED'
    assert tenant(db, acme.id).last_error == f'Run #{run.id} was cancelled by admin: provision again or retry the ' \
                                             'run to continue.'

