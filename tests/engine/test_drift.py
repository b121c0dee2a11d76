"""Drift: a provisioned tenant re-verified with look-ups only; Repair recreates only what is missing."""

from __future__ import annotations

from helpers import names, provision, stats, tenant, writes

from engine import drift
from engine.errors import VerificationFailedError, VerificationProblem
from storage.tables import Tenant


def diff(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {key: count - before.get(key, 0) for key, count in after.items() if count - before.get(key, 0)}


async def test_an_intact_tenant_has_no_drift_and_the_check_only_reads(db, runner, clients, make_tenant, sandbox):
    acme = make_tenant('Acme Retail', stores=2)
    await provision(db, runner, acme.id)
    before = (await stats(sandbox))['requests']

    result = await drift.check_tenant(db, clients.get, acme.id)

    assert result.checked and not result.drifted
    assert writes(diff((await stats(sandbox))['requests'], before)) == {}
    assert tenant(db, acme.id).drift_checked_at is not None


async def test_a_deleted_pos_profile_is_flagged_and_repair_recreates_only_it(db, runner, clients, make_tenant,
                                                                              sandbox):
    acme = make_tenant('Acme Retail', stores=2)
    await provision(db, runner, acme.id)
    profiles = await names(sandbox, 'POS Profile', company='Acme Retail')
    gone = profiles[0]
    assert (await sandbox.delete(f'/api/resource/POS Profile/{gone}')).status_code == 202

    result = await drift.check_tenant(db, clients.get, acme.id)

    assert result.drifted and gone in result.detail
    flagged = tenant(db, acme.id)
    assert flagged.drifted and gone in flagged.drift_detail
    before = (await stats(sandbox))['requests']
    repaired = await provision(db, runner, acme.id)  # Repair = provisioning again
    assert repaired['status'] == 'SUCCEEDED'
    assert writes(diff((await stats(sandbox))['requests'], before)) == {'POST POS Profile': 1}
    assert await names(sandbox, 'POS Profile', company='Acme Retail') == profiles
    assert not (await drift.check_tenant(db, clients.get, acme.id)).drifted
    assert not tenant(db, acme.id).drifted


async def test_a_disabled_warehouse_and_a_removed_payment_row_are_flagged(db, runner, clients, make_tenant, sandbox):
    acme = make_tenant('Acme Retail', stores=1)
    await provision(db, runner, acme.id)
    warehouse = [n for n in await names(sandbox, 'Warehouse', company='Acme Retail') if n.startswith('Store ')][0]
    await sandbox.put(f'/api/resource/Warehouse/{warehouse}', json={'disabled': 1})
    cash = (await sandbox.get('/api/resource/Mode of Payment/Cash')).json()['data']
    kept = [row for row in cash['accounts'] if row['company'] != 'Acme Retail']
    await sandbox.put('/api/resource/Mode of Payment/Cash', json={'accounts': kept})

    result = await drift.check_tenant(db, clients.get, acme.id)

    assert result.drifted
    assert warehouse in result.detail and "'Cash'" in result.detail


async def test_an_unreachable_engine_changes_nothing(db, runner, clients, make_tenant, sandbox):
    acme = make_tenant('Acme Retail')
    await provision(db, runner, acme.id)
    await sandbox.post('/__sandbox__/faults', json={'offline': True})

    result = await drift.check_tenant(db, clients.get, acme.id)

    assert not result.checked
    assert not tenant(db, acme.id).drifted


async def test_drift_opens_an_alert_that_repair_resolves(db, runner, clients, make_tenant, sandbox):
    from engine.alerting import Alerting
    from engine.services.alerts import open_alerts

    alerting = Alerting(db)
    acme = make_tenant('Acme Retail', stores=1)
    await provision(db, runner, acme.id)
    profile = (await names(sandbox, 'POS Profile', company='Acme Retail'))[0]
    await sandbox.delete(f'/api/resource/POS Profile/{profile}')
    await drift.check_tenant(db, clients.get, acme.id)

    opened = await alerting.evaluate()

    assert [(a.rule, a.subject) for a in opened.opened] == [('tenant_drifted', 'Acme Retail')]
    message = open_alerts(db)[0].message
    assert profile in message and "Repair fixes it (step 'Create POS profiles')" in message
    assert 'Each problem says what puts it right' in message
    await provision(db, runner, acme.id)  # Repair
    resolved = await alerting.evaluate()
    assert [(a.rule, a.subject) for a in resolved.resolved] == [('tenant_drifted', 'Acme Retail')]


async def test_the_drift_job_takes_the_flag_from_tenants_no_longer_provisioned(db, runner, clients, make_tenant,
                                                                                sandbox):
    # A row an older build left drifted while FAILED (QA finding 15): the job clears it, and checks
    # only the provisioned tenant.
    acme, beta = make_tenant('Acme Retail'), make_tenant('Beta Shops')
    await provision(db, runner, acme.id)
    with db.session() as session:
        legacy = session.get(Tenant, beta.id)
        legacy.status, legacy.drifted, legacy.drift_detail = 'FAILED', True, "POS Profile 'BS Store 1' is missing"
        session.add(legacy)

    results = await drift.check_all(db, clients.get)

    assert [result.tenant_id for result in results] == [acme.id]
    assert (tenant(db, beta.id).drifted, tenant(db, beta.id).drift_detail) == (False, None)


async def test_the_drift_detail_lists_the_verifications_problems_not_its_message(db, runner, clients, make_tenant,
                                                                               sandbox):
    # Review item 16: drift took the step's message apart by its wording. It reads the problems the
    # verification reports, so the run's message may change and the drift detail stays a plain list;
    # QA pass 6, finding 4: each says what to do on a provisioned tenant's page (Repair), not a step to retry.
    acme = make_tenant('Acme Retail', stores=2)
    await provision(db, runner, acme.id)
    warehouse, profile = 'Store 1 - AR', 'AR Store 2'
    await sandbox.put(f'/api/resource/Warehouse/{warehouse}', json={'disabled': 1})
    assert (await sandbox.delete(f'/api/resource/POS Profile/{profile}')).status_code == 202

    result = await drift.check_tenant(db, clients.get, acme.id)

    assert result.drifted and result.detail.split('; ') == [
        f"warehouse '{warehouse}' is disabled: Repair fixes it (step 'Create warehouses')",
        f"POS Profile '{profile}' is missing: Repair fixes it (step 'Create POS profiles')"]
    assert tenant(db, acme.id).drift_detail == result.detail
    # a run's error words the same problems its own way (tests/engine/test_verification_advice.py)
    failed = VerificationFailedError([VerificationProblem(f"warehouse '{warehouse}' is disabled",
                                                          step_title='Create warehouses')])
    assert failed.message == ("Verification found problems: warehouse 'Store 1 - AR' is disabled: "
                              "retry 'Create warehouses'")
