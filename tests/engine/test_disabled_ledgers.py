"""A disabled account or cost center is never taken, nor enabled: 'Resolve accounts' skips disabled
ledgers in every fallback and fails naming the one it would have used (ERPNext refuses ledger
entries against a disabled account); 'Ensure cost center' fails on a disabled main cost center,
which drift already says Repair leaves as it is. Neither writes anything to get there, and a plan
says so beforehand."""

from __future__ import annotations

from engine.services import runs
from tests.engine.helpers import diff, documents, provision, resume, stats, steps, writes


async def disable(sandbox, doctype: str, name: str) -> None:
    (await sandbox.put(f'/api/resource/{doctype}/{name}', json={'disabled': 1})).raise_for_status()


async def is_disabled(sandbox, doctype: str, name: str) -> bool:
    return bool(next(doc for doc in await documents(sandbox, doctype) if doc['name'] == name).get('disabled'))


async def test_the_bank_ledger_it_created_disabled_fails_the_step_naming_it(db, runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail')
    assert (await provision(db, runner, acme.id))['status'] == 'SUCCEEDED'
    await disable(sandbox, 'Account', 'Bank - AR')  # not a company default: ERPNext lets a person disable it
    before = (await stats(sandbox))['requests']

    repaired = await provision(db, runner, acme.id)

    step = steps(repaired)['resolve_accounts']
    assert repaired['status'] == 'FAILED' and repaired['error_step'] == 'resolve_accounts'
    assert step['status'] == 'FAILED' and step['error_category'] == 'critical'
    assert step['error'] == (
        "The bank account 'Bank - AR' (created by this step earlier) of company 'Acme Retail' is disabled in "
        "ERPNext. ERPNext refuses ledger entries against a disabled account, and no step enables one. Enable it "
        "in ERPNext (Accounting > Chart of Accounts: open the account, untick Disable), or set an enabled ledger "
        "as the company's default account, then retry 'Resolve accounts'.")
    changed = writes(diff((await stats(sandbox))['requests'], before))
    assert not any(key.endswith(' Account') for key in changed), changed  # no insert to adopt, no enabling
    assert await is_disabled(sandbox, 'Account', 'Bank - AR')
    assert steps(repaired)['configure_payment_modes']['status'] == 'PENDING'  # nothing points at it anew


async def test_an_enabled_bank_ledger_is_taken_over_the_disabled_one(db, runner, make_tenant, sandbox, jane):
    acme = make_tenant('Acme Retail')
    assert (await provision(db, runner, acme.id))['status'] == 'SUCCEEDED'
    await disable(sandbox, 'Account', 'Bank - AR')
    savings = {'account_name': 'Savings', 'company': 'Acme Retail', 'parent_account': 'Bank Accounts - AR',
               'account_type': 'Bank', 'is_group': 0}
    assert (await jane.post('/api/resource/Account', json=savings)).status_code == 200

    repaired = await provision(db, runner, acme.id)

    output = steps(repaired)['resolve_accounts']['output']
    assert (output['accounts']['bank'], output['sources']['bank'], output['created']) == \
        ('Savings - AR', 'account type', [])
    assert await is_disabled(sandbox, 'Account', 'Bank - AR')


async def test_a_disabled_ledger_that_was_the_only_candidate_is_named(db, runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail')
    assert (await provision(db, runner, acme.id))['status'] == 'SUCCEEDED'
    # ERPNext refuses to disable a company's default account: a person unsets the default first
    assert (await sandbox.put('/api/resource/Company/Acme Retail', json={'default_receivable_account': ''})).is_success
    await disable(sandbox, 'Account', 'Debtors - AR')

    repaired = await provision(db, runner, acme.id)

    error = steps(repaired)['resolve_accounts']['error']
    assert repaired['error_step'] == 'resolve_accounts'
    assert error.startswith("The receivable account 'Debtors - AR' of company 'Acme Retail' is disabled in "
                            "ERPNext.")  # not taken for ours: ERPNext made it with the chart
    assert 'Enable it in ERPNext (Accounting > Chart of Accounts' in error


async def test_a_plan_says_the_disabled_bank_ledger_would_fail_the_step(db, runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail')
    assert (await provision(db, runner, acme.id))['status'] == 'SUCCEEDED'
    await disable(sandbox, 'Account', 'Bank - AR')

    plan = steps(await provision(db, runner, acme.id, plan=True))['resolve_accounts']['output']

    assert plan['create'] == [] and plan['sources']['bank'] == 'disabled' and plan['accounts']['bank'] == 'Bank - AR'
    assert plan['note'] == ("disabled in ERPNext, and no step enables it: Account Bank - AR. Enable it there, or "
                            "'Resolve accounts' fails.")


async def test_a_disabled_main_cost_center_fails_the_step_and_stays_disabled(db, runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail')
    first = await provision(db, runner, acme.id)
    assert first['status'] == 'SUCCEEDED'
    await disable(sandbox, 'Cost Center', 'Main - AR')  # the company's default: ERPNext allows it
    before = (await stats(sandbox))['requests']

    repaired = await provision(db, runner, acme.id)

    step = steps(repaired)['ensure_cost_center']
    assert repaired['status'] == 'FAILED' and repaired['error_step'] == 'ensure_cost_center'
    assert step['status'] == 'FAILED' and step['error_category'] == 'critical'
    assert step['error'] == (
        "Cost Center 'Main - AR', the main cost center of company 'Acme Retail', is disabled in ERPNext, and no "
        "step enables it (the POS profiles book to it). Enable it in ERPNext (Accounting > Cost Center: open "
        "'Main - AR', untick Disabled), then retry 'Ensure cost center'.")
    changed = writes(diff((await stats(sandbox))['requests'], before))
    assert not any('Cost Center' in key for key in changed), changed
    assert await is_disabled(sandbox, 'Cost Center', 'Main - AR')

    # once a person enables it, retrying the run finishes it
    (await sandbox.put('/api/resource/Cost Center/Main - AR', json={'disabled': 0})).raise_for_status()
    runs.retry_run(db, repaired['id'], actor='tests')
    assert (await resume(db, runner, repaired['id']))['status'] == 'SUCCEEDED'
