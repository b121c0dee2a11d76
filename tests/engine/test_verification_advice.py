"""What verification advises, where: a run's error names the step to retry, a drift detail names the
tenant page's Repair (QA pass 6, finding 4), and a problem no step fixes says what to do in ERPNext
in both. A plan says which disabled documents a run would enable again, or would leave disabled."""

from __future__ import annotations

from engine import drift
from engine.services import runs
from engine.services.tenant_view import plan_report
from tests.engine.helpers import documents, provision, resume, steps

WAREHOUSE_FIX = 'it creates a missing warehouse of the tenant and enables a disabled one'


async def disable(sandbox, doctype: str, name: str, **fields) -> None:
    (await sandbox.put(f'/api/resource/{doctype}/{name}', json=fields or {'disabled': 1})).raise_for_status()


async def test_drift_advises_repair_where_a_run_advises_retrying_the_step(db, runner, clients, make_tenant, sandbox):
    acme = make_tenant('Acme Retail', stores=2)
    assert (await provision(db, runner, acme.id))['status'] == 'SUCCEEDED'
    await disable(sandbox, 'Warehouse', 'Store 1 - AR')
    assert (await sandbox.delete('/api/resource/POS Profile/AR Store 2')).status_code == 202

    result = await drift.check_tenant(db, clients.get, acme.id)

    assert result.detail.split('; ') == [
        "warehouse 'Store 1 - AR' is disabled: Repair fixes it (step 'Create warehouses')",
        "POS Profile 'AR Store 2' is missing: Repair fixes it (step 'Create POS profiles')"]
    assert 'retry' not in result.detail  # a provisioned tenant's page has no step to retry

    # the same problems in a run: verification retried alone, after a person disabled the cost center
    repaired = await provision(db, runner, acme.id)  # Repair puts back the warehouse and the profile
    assert repaired['status'] == 'SUCCEEDED'
    await disable(sandbox, 'Cost Center', 'Main - AR')  # ('Ensure cost center' would stop a Repair on it)
    await disable(sandbox, 'Warehouse', 'Store 1 - AR')
    runs.retry_step(db, repaired['id'], 'verify_provisioning', actor='tests')
    again = steps(await resume(db, runner, repaired['id']))['verify_provisioning']
    assert again['error'] == (
        "Verification found problems: cost center 'Main - AR' is disabled: enable it in ERPNext (Accounting > "
        "Cost Center), then retry the run; warehouse 'Store 1 - AR' is disabled: retry 'Create warehouses' "
        f'({WAREHOUSE_FIX})')


async def test_what_repair_does_not_fix_is_said_to_be_done_in_erpnext(db, runner, clients, make_tenant, sandbox):
    acme = make_tenant('Acme Retail', stores=1)
    assert (await provision(db, runner, acme.id))['status'] == 'SUCCEEDED'
    await disable(sandbox, 'Cost Center', 'Main - AR')
    await disable(sandbox, 'POS Profile', 'AR Store 1', warehouse='Stores - AR')

    detail = (await drift.check_tenant(db, clients.get, acme.id)).detail

    assert detail.split('; ') == [
        "cost center 'Main - AR' is disabled: Repair leaves it as it is, so enable it in ERPNext (Accounting > "
        'Cost Center)',
        "POS Profile 'AR Store 1' is on warehouse 'Stores - AR', not 'Store 1 - AR': Repair leaves it as it is, so "
        "set its warehouse back to 'Store 1 - AR' in ERPNext"]
    repaired = await provision(db, runner, acme.id)  # the advice is true: Repair leaves both as they are
    assert repaired['status'] == 'FAILED' and repaired['error_step'] == 'ensure_cost_center'
    assert 'Enable it in ERPNext (Accounting > Cost Center' in steps(repaired)['ensure_cost_center']['error']
    await disable(sandbox, 'Cost Center', 'Main - AR', disabled=0)  # a person enables it, then retries the run
    runs.retry_run(db, repaired['id'], actor='tests')
    retried = await resume(db, runner, repaired['id'])
    assert retried['status'] == 'FAILED' and retried['error_step'] == 'verify_provisioning'
    assert steps(retried)['verify_provisioning']['error'] == (
        "Verification found problems: POS Profile 'AR Store 1' is on warehouse 'Stores - AR', not "
        "'Store 1 - AR': set its warehouse back to 'Store 1 - AR' in ERPNext, then retry the run")


async def test_a_plan_says_a_run_would_enable_a_disabled_warehouse_and_pos_profile(db, runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail', stores=2)
    assert (await provision(db, runner, acme.id))['status'] == 'SUCCEEDED'
    await disable(sandbox, 'Warehouse', 'Store 1 - AR')
    await disable(sandbox, 'POS Profile', 'AR Store 2')

    plan = await provision(db, runner, acme.id, plan=True)

    warehouses, profiles = steps(plan)['create_warehouses']['output'], steps(plan)['create_pos_profiles']['output']
    assert (warehouses['enable'], warehouses['create']) == (['Warehouse Store 1 - AR'], [])
    assert (profiles['enable'], profiles['create']) == (['POS Profile AR Store 2'], [])
    assert warehouses['note'] == 'would enable again (disabled in ERPNext): Warehouse Store 1 - AR'
    card = {step.key: step for step in plan_report(plan)}  # what the tenant page's plan card shows
    assert (card['create_warehouses'].enable, card['create_warehouses'].note) == (['Warehouse Store 1 - AR'], None)
    assert (card['create_pos_profiles'].enable, card['create_pos_profiles'].note) == (['POS Profile AR Store 2'], None)
    assert (await provision(db, runner, acme.id))['status'] == 'SUCCEEDED'  # and a run does enable them
    assert not any(doc.get('disabled') for doc in await documents(sandbox, 'Warehouse')
                   if doc['name'] == 'Store 1 - AR')
    after = await provision(db, runner, acme.id, plan=True)
    assert steps(after)['create_warehouses']['output']['enable'] == []
    assert {step.key: step.enable for step in plan_report(after)}['create_warehouses'] == []


async def test_a_plan_warns_of_a_disabled_cost_center_or_mode_of_payment_no_step_enables(db, runner, clients,
                                                                                          make_tenant, sandbox):
    acme = make_tenant('Acme Retail', stores=1)
    assert (await provision(db, runner, acme.id))['status'] == 'SUCCEEDED'
    # ERPNext refuses to disable a mode a POS Profile uses: with the tenant's profile gone, nothing does
    assert (await sandbox.delete('/api/resource/POS Profile/AR Store 1')).status_code == 202
    await disable(sandbox, 'Mode of Payment', 'Cash', enabled=0)
    await disable(sandbox, 'Cost Center', 'Main - AR')

    notes = {step.key: step.note for step in plan_report(await provision(db, runner, acme.id, plan=True))}

    assert notes['ensure_cost_center'] == ("disabled in ERPNext, and no step enables it: Cost Center Main - AR. "
                                           "Enable it there, or 'Ensure cost center' fails.")
    assert notes['configure_payment_modes'] == ("disabled in ERPNext, and no step enables it: Mode of Payment "
                                                "Cash. Enable it there, or 'Verify provisioning' fails.")
    assert "Mode of Payment 'Cash' is disabled: Repair leaves it as it is, so enable it in ERPNext (Accounting > " \
           'Mode of Payment)' in (await drift.check_tenant(db, clients.get, acme.id)).detail.split('; ')


async def test_a_disabled_account_is_for_resolve_accounts_unless_only_enabling_it_helps(
        db, runner, clients, make_tenant, sandbox):
    acme = make_tenant('Acme Retail', stores=1)
    provisioned = await provision(db, runner, acme.id)
    accounts = steps(provisioned)['resolve_accounts']['output']['accounts']
    purpose = next(purpose for purpose, name in accounts.items() if name == 'Bank - AR')
    await disable(sandbox, 'Account', 'Bank - AR')

    detail = (await drift.check_tenant(db, clients.get, acme.id)).detail

    assert detail == (f"{purpose} account 'Bank - AR' is disabled: Repair fixes it (step 'Resolve accounts'); if it "
                      'cannot, enable it in ERPNext (Accounting > Chart of Accounts)')
    repaired = await provision(db, runner, acme.id)  # the company has no other bank ledger: it cannot
    assert repaired['status'] == 'FAILED' and repaired['error_step'] == 'resolve_accounts'
    assert 'Enable it in ERPNext (Accounting > Chart of Accounts' in steps(repaired)['resolve_accounts']['error']
