"""End to end: the real runner provisions tenants into the sandbox and leaves exactly the
documents ERPNext should hold."""

from __future__ import annotations

import asyncio

from engine.services import runs
from storage.tables import Tenant
from tests.engine.helpers import diff, documents, fault, names, provision, resume, stats, steps, tenant, writes

ALL_STEPS = ['check_engine', 'create_company', 'resolve_accounts', 'ensure_cost_center', 'create_warehouses',
             'configure_payment_modes', 'create_price_list', 'create_walkin_customer', 'create_pos_profiles',
             'invite_tenant_admin', 'verify_provisioning']


async def test_one_store_tenant_is_provisioned_fully(db, runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail', admin_email='Ada@Acme.test')
    detail = await provision(db, runner, acme.id)

    assert detail['status'] == 'SUCCEEDED', detail
    assert [s['key'] for s in detail['steps']] == ALL_STEPS
    assert all(s['status'] == 'SUCCEEDED' and s['attempts'] == 1 for s in detail['steps'])
    assert tenant(db, acme.id).status == 'PROVISIONED' and tenant(db, acme.id).abbr == 'AR'
    assert await names(sandbox, 'Company') == ['Acme Retail']
    assert await names(sandbox, 'Warehouse', company='Acme Retail', is_group=0) == [
        'Finished Goods - AR', 'Goods In Transit - AR', 'Store 1 - AR', 'Stores - AR', 'Work In Progress - AR']
    assert await names(sandbox, 'POS Profile') == ['AR Store 1']
    assert 'Bank - AR' in await names(sandbox, 'Account', company='Acme Retail', account_type='Bank')
    assert 'AR Selling' in await names(sandbox, 'Price List')
    assert await names(sandbox, 'Customer', customer_name='Walk-in Customer - AR') == ['Walk-in Customer - AR']
    assert 'ada@acme.test' in await names(sandbox, 'User')
    permissions = await documents(sandbox, 'User Permission')
    assert [(p['user'], p['allow'], p['for_value']) for p in permissions] == [('ada@acme.test', 'Company',
                                                                               'Acme Retail')]
    for mode in await documents(sandbox, 'Mode of Payment'):
        if mode['name'] in ('Cash', 'Credit Card', 'Bank Transfer'):
            assert [(r['company'], r['default_account']) for r in mode['accounts']] == [
                ('Acme Retail', 'Cash - AR' if mode['name'] == 'Cash' else 'Bank - AR')]


async def test_pos_profile_is_ready_to_sell(db, runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail')
    await provision(db, runner, acme.id)
    [profile] = await documents(sandbox, 'POS Profile')
    assert profile['warehouse'] == 'Store 1 - AR' and profile['company'] == 'Acme Retail'
    assert profile['write_off_account'] == 'Write Off - AR' and profile['write_off_cost_center'] == 'Main - AR'
    assert profile['selling_price_list'] == 'AR Selling' and profile['customer'] == 'Walk-in Customer - AR'
    assert [(p['mode_of_payment'], p['default']) for p in profile['payments']] == [
        ('Cash', 1), ('Credit Card', 0), ('Bank Transfer', 0)]


async def test_three_store_tenant_gets_three_numbered_warehouses_and_profiles(db, runner, make_tenant, sandbox):
    shop = make_tenant('Beta Shops', stores=3)
    detail = await provision(db, runner, shop.id)
    assert detail['status'] == 'SUCCEEDED'
    stores = [name for name in await names(sandbox, 'Warehouse', company='Beta Shops') if name.startswith('Store ')]
    assert stores == ['Store 1 - BS', 'Store 2 - BS', 'Store 3 - BS']
    profiles = {p['name']: p['warehouse'] for p in await documents(sandbox, 'POS Profile')}
    assert profiles == {'BS Store 1': 'Store 1 - BS', 'BS Store 2': 'Store 2 - BS', 'BS Store 3': 'Store 3 - BS'}


async def test_same_initials_get_different_abbreviations(db, runner, make_tenant, sandbox):
    first, second, third = make_tenant('Acme Retail'), make_tenant('Alpha Rentals'), make_tenant('Apex Rail')
    for each in (first, second, third):
        assert (await provision(db, runner, each.id))['status'] == 'SUCCEEDED'
    assert [tenant(db, t.id).abbr for t in (first, second, third)] == ['AR', 'AR1', 'AR2']
    companies = {c['name']: c['abbr'] for c in await documents(sandbox, 'Company')}
    assert companies == {'Acme Retail': 'AR', 'Alpha Rentals': 'AR1', 'Apex Rail': 'AR2'}


async def test_second_run_over_a_provisioned_tenant_writes_nothing(db, runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail', stores=2)
    await provision(db, runner, acme.id)
    before = (await stats(sandbox))['requests']
    documents_before = (await stats(sandbox))['documents']

    again = await provision(db, runner, acme.id)

    after = await stats(sandbox)
    assert again['status'] == 'SUCCEEDED'
    assert writes(diff(after['requests'], before)) == {}
    assert after['documents'] == documents_before
    assert steps(again)['create_company']['output']['created'] is False


async def test_ten_tenants_at_once_all_keep_their_payment_mode_rows(db, runner, make_tenant, sandbox):
    tenants = [make_tenant(f'Parallel Shop {n}') for n in range(10)]
    queued = [runs.request_provision(db, t.id, actor='tests') for t in tenants]

    results = await asyncio.gather(*(runner.execute(run.id) for run in queued))

    assert results == ['SUCCEEDED'] * 10
    companies = sorted(t.company_name for t in tenants)
    for mode in await documents(sandbox, 'Mode of Payment'):
        if mode['name'] in ('Cash', 'Credit Card', 'Bank Transfer'):
            assert sorted(row['company'] for row in mode['accounts']) == companies, mode['name']
    assert len({tenant(db, t.id).abbr for t in tenants}) == 10


async def test_offline_engine_parks_the_run_as_waiting_not_failed(db, runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail')
    await fault(sandbox, offline=True)
    detail = await provision(db, runner, acme.id)

    check = steps(detail)['check_engine']
    assert detail['status'] == 'QUEUED' and check['status'] == 'FAILED'  # an outage fails no run
    assert check['attempts'] == 4  # transient: retried before giving up
    assert 'retrying is safe' in check['error'] and 'HTTP 503' in check['error']
    assert detail['error_step'] == 'check_engine' and detail['error_category'] == 'transient'
    assert all(s['status'] == 'PENDING' for s in detail['steps'][1:])
    assert tenant(db, acme.id).status == 'QUEUED'
    assert "Waiting for ERPNext: the engine stopped answering during 'Check ERPNext'" in tenant(db, acme.id).last_error


async def test_deleted_cash_account_gives_an_actionable_error(db, runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail')
    first = await provision(db, runner, acme.id)
    # Someone removes the cash ledger in ERPNext: unlink it from the company and the Cash mode first.
    assert (await sandbox.put('/api/resource/Company/Acme Retail', json={'default_cash_account': ''})).is_success
    cash = (await sandbox.get('/api/resource/Mode of Payment/Cash')).json()['data']
    others = [row for row in cash['accounts'] if row['company'] != 'Acme Retail']
    assert (await sandbox.put('/api/resource/Mode of Payment/Cash', json={'accounts': others})).is_success
    assert (await sandbox.delete('/api/resource/Account/Cash - AR')).status_code == 202

    runs.retry_step(db, first['id'], 'resolve_accounts', actor='tests')
    detail = await resume(db, runner, first['id'])

    step = steps(detail)['resolve_accounts']
    assert detail['status'] == 'FAILED' and step['status'] == 'FAILED' and step['error_category'] == 'critical'
    assert "no usable cash account" in step['error'] and "retry 'Resolve accounts'" in step['error']


async def test_two_503s_on_pos_profile_inserts_are_retried(db, runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail')
    await fault(sandbox, method='POST', doctype='POS Profile', status=503, count=2)
    detail = await provision(db, runner, acme.id)
    assert detail['status'] == 'SUCCEEDED'
    assert steps(detail)['create_pos_profiles']['attempts'] == 3
    assert await names(sandbox, 'POS Profile') == ['AR Store 1']


async def test_a_failing_non_critical_step_leaves_a_warning(db, runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail')
    await fault(sandbox, method='POST', doctype='Customer', status=403, count=10)
    detail = await provision(db, runner, acme.id)

    customer = steps(detail)['create_walkin_customer']
    assert detail['status'] == 'SUCCEEDED' and detail['warnings'] == 1
    assert customer['status'] == 'FAILED' and customer['error_category'] == 'non_critical'
    assert 'Customer' in customer['error']
    [profile] = await documents(sandbox, 'POS Profile')
    assert 'customer' not in profile  # created without the walk-in customer
    assert tenant(db, acme.id).status == 'PROVISIONED'


async def test_interrupted_run_resumes_at_the_first_unfinished_step(db, clients, make_tenant, sandbox):
    from engine.runner import Runner
    from tests.conftest import FAST_RETRIES

    acme = make_tenant('Acme Retail')
    run = runs.request_provision(db, acme.id, actor='tests')
    task = None

    def crash_after_warehouses(key, outcome):
        if key == 'create_warehouses':
            task.cancel()  # the process dies right after step 5 is checkpointed

    crashing = Runner(db, clients.get, policy=FAST_RETRIES, on_step_finished=crash_after_warehouses)
    task = asyncio.create_task(crashing.execute(run.id))
    await asyncio.gather(task, return_exceptions=True)
    interrupted = runs.run_detail(db, run.id)
    assert interrupted['status'] == 'RUNNING'
    assert steps(interrupted)['create_warehouses']['status'] == 'SUCCEEDED'
    # Steps run concurrently when their needs are met, so which siblings finished before the crash
    # varies; the POS profiles need the warehouses, so they cannot have ended (the checkpoint that
    # recorded the warehouses may have started them: RUNNING, a CI run under pytest -n 2 showed it).
    assert steps(interrupted)['create_pos_profiles']['status'] in ('PENDING', 'RUNNING')
    finished = [key for key in ALL_STEPS if steps(interrupted)[key]['status'] == 'SUCCEEDED']
    assert 'create_company' in finished and 'verify_provisioning' not in finished
    before = (await stats(sandbox))['requests']

    detail = await resume(db, Runner(db, clients.get, policy=FAST_RETRIES), run.id)

    after = (await stats(sandbox))['requests']
    assert detail['status'] == 'SUCCEEDED'
    for key in finished:
        assert steps(detail)[key]['attempts'] == 1  # not run again
    assert after.get('POST Company') == 1 and after.get('POST Warehouse') == 1
    assert 'POST Company' not in diff(after, before) and 'POST Warehouse' not in diff(after, before)
    assert await names(sandbox, 'POS Profile') == ['AR Store 1']
    assert await names(sandbox, 'Warehouse', warehouse_name='Store 1') == ['Store 1 - AR']


async def test_a_cancel_stops_the_run_before_the_next_steps_write(db, clients, make_tenant, sandbox):
    """Steps start their look-ups while the checkpoint that starts them commits; when that
    checkpoint finds the run cancelled, they write nothing (no intent, no POST)."""
    from engine.runner import Runner
    from engine.steps import STEPS
    from engine.steps.check_engine import CheckEngine
    from tests.conftest import FAST_RETRIES

    acme = make_tenant('Acme Retail')
    run = runs.request_provision(db, acme.id, actor='tests')

    class CancelledMeanwhile(CheckEngine):  # an admin cancels while the engine check runs
        async def run(self, ctx):
            output = await super().run(ctx)
            await asyncio.to_thread(runs.cancel_run, db, run.id, actor='admin')
            return output

    status = await Runner(db, clients.get, steps=(CancelledMeanwhile, *STEPS[1:]), policy=FAST_RETRIES).execute(run.id)

    detail = runs.run_detail(db, run.id)
    assert status == detail['status'] == 'CANCELLED'
    # The check itself counts only if the checkpoint that started it committed before the cancel
    # (a step the cancel caught as it started records nothing: test_cancel_as_a_step_starts.py).
    assert steps(detail)['check_engine']['status'] in ('SUCCEEDED', 'PENDING')
    assert {s['status'] for key, s in steps(detail).items() if key != 'check_engine'} == {'PENDING'}
    requests = (await stats(sandbox))['requests']
    assert writes(requests) == {} and await names(sandbox, 'Company') == []
    assert requests.get('GET Company', 0) <= 1  # its look-up may have gone out: reads are harmless
    with db.session() as session:
        from storage.tables import Run
        assert session.get(Run, run.id).meta.get('intents', {}) == {}
    assert tenant(db, acme.id).status == 'FAILED'


async def test_a_retried_run_keeps_the_warnings_of_the_steps_that_succeeded_before(db, runner, make_tenant, sandbox):
    # The run's warning count (the tenants list's "succeeded with warnings" filter reads it) is the whole
    # run's, not only the last execution's.
    acme = make_tenant('Acme Retail')
    assert (await provision(db, runner, acme.id))['status'] == 'SUCCEEDED'
    with db.session() as session:
        row = session.get(Tenant, acme.id)
        row.currency = 'EUR'  # the price list made in USD now earns a warning
        session.add(row)
    await fault(sandbox, method='GET', doctype='POS Profile', status=417, count=1)
    repair = runs.request_provision(db, acme.id, actor='tests')
    await runner.execute(repair.id)
    failed = runs.run_detail(db, repair.id)
    assert failed['status'] == 'FAILED' and failed['warnings'] == 1
    assert steps(failed)['create_price_list']['status'] == 'SUCCEEDED'
    runs.retry_run(db, repair.id, actor='admin')
    detail = await resume(db, runner, repair.id)
    assert detail['status'] == 'SUCCEEDED' and detail['warnings'] == 1
