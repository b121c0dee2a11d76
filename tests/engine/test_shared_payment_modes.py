"""Modes of Payment are shared by every company on the site and gain a row per company: configuring
one tenant must neither send nor receive the other companies' rows, must keep them all, and must
survive other tenants creating or saving the same modes at the same time."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from engine.clients import EngineClients
from engine.erpnext import errors as erp
from engine.erpnext.client import ERPNextClient
from engine.runner import Runner
from engine.services import deprovision, runs
from engine.steps.configure_payment_modes import MODES
from engine.steps.shared_writes import SharedWrites
from tests.conftest import FAST_RETRIES
from tests.engine.helpers import documents, fault, provision, steps

OTHERS = ['Bravo Foods', 'Cedar Books', 'Delta Tools', 'Echo Games', 'Fjord Fish', 'Gamma Gear']


class Recording(httpx.ASGITransport):
    """The sandbox over ASGI, keeping every Mode of Payment exchange (request and answer bodies)."""

    def __init__(self, app) -> None:
        super().__init__(app=app)
        self.exchanges: list[tuple[str, str, bytes, bytes]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        body = await response.aread()
        path = request.url.path
        if 'Mode%20of%20Payment' in request.url.raw_path.decode() or 'insert_many' in path:
            self.exchanges.append((request.method, str(request.url), request.content, body))
        return httpx.Response(response.status_code, headers=response.headers, content=body)


@pytest.fixture
async def recorded(db, secrets, sandbox_app):
    transport = Recording(sandbox_app)
    pool = EngineClients(db, secrets, timeout=5, transport_for=lambda engine: transport)
    yield transport, pool
    await pool.aclose()


async def test_other_companies_rows_are_neither_sent_nor_received(db, runner, make_tenant, sandbox, recorded):
    for name in OTHERS:
        assert (await provision(db, runner, make_tenant(name).id))['status'] == 'SUCCEEDED'
    transport, pool = recorded
    detail = await provision(db, Runner(db, pool.get, policy=FAST_RETRIES), make_tenant('Acme Retail').id)

    assert detail['status'] == 'SUCCEEDED', detail
    added = steps(detail)['configure_payment_modes']['output']['rows_added']
    assert added == ['Credit Card', 'Bank Transfer']  # ERPNext gave the new company its Cash row itself
    (look_up_method, look_up_url, _, look_up), (write_method, write_url, sent, answer) = transport.exchanges[:2]
    assert look_up_method == 'GET' and write_method == 'POST' and write_url.endswith('frappe.client.insert_many')
    rows = json.loads(look_up)['data']
    # per mode its first row, and ours where there is one: not the rows of six other companies
    assert sorted((row['name'], row['row_company']) for row in rows) == sorted(
        [*((mode, OTHERS[0]) for mode in MODES), ('Cash', 'Acme Retail')])
    for other in OTHERS[1:]:  # the other companies' rows travel in neither direction
        assert other.encode() not in look_up + sent + answer
    assert json.loads(answer) == {'message': added}

    for mode in await documents(sandbox, 'Mode of Payment'):  # every company's row kept, ours once
        if mode['name'] in MODES:
            companies = [row['company'] for row in mode['accounts']]
            assert sorted(companies) == sorted([*OTHERS, 'Acme Retail']), mode['name']


async def test_a_re_run_reads_only_this_companys_rows_and_writes_nothing(db, runner, make_tenant, sandbox,
                                                                        recorded):
    for name in OTHERS[:3]:
        await provision(db, runner, make_tenant(name).id)
    acme = make_tenant('Acme Retail')
    await provision(db, runner, acme.id)
    transport, pool = recorded
    detail = await provision(db, Runner(db, pool.get, policy=FAST_RETRIES), acme.id)

    assert detail['status'] == 'SUCCEEDED'
    assert steps(detail)['configure_payment_modes']['output']['rows_added'] == []
    assert [method for method, *_ in transport.exchanges] == ['GET']
    rows = json.loads(transport.exchanges[0][3])['data']
    assert sorted((row['name'], row['row_company']) for row in rows) == sorted(
        [(mode, company) for mode in MODES for company in (OTHERS[0], 'Acme Retail')])


async def test_tenants_provisioned_together_each_add_their_row_once(db, runner, make_tenant, sandbox):
    """A fresh site has no 'Bank Transfer': both runs want to create it; the one that loses the race
    gets DuplicateEntryError for its whole batch (nothing written), reads again and adds its row."""
    tenants = [make_tenant(name) for name in ('Acme Retail', *OTHERS[:3])]
    # the first batch is slow: the other runs look the modes up before it created 'Bank Transfer'
    await fault(sandbox, method='POST', doctype='frappe.client.insert_many', latency_ms=300, count=1)
    details = await asyncio.gather(*(provision(db, runner, tenant.id) for tenant in tenants))

    assert [detail['status'] for detail in details] == ['SUCCEEDED'] * len(tenants)
    modes = {mode['name']: mode for mode in await documents(sandbox, 'Mode of Payment')}
    for mode in MODES:
        companies = [row['company'] for row in modes[mode]['accounts']]
        assert sorted(companies) == sorted(tenant.name for tenant in tenants), mode
    log = (await sandbox.get('/__sandbox__/requests')).json()
    batches = [r['status'] for r in log if r['doctype'] == 'frappe.client.insert_many']
    # the batch that lost the race wrote nothing (409); its runs looked again and went in later ones
    assert 409 in batches and batches[-1] == 200 and batches.count(200) >= 2


async def test_a_save_race_with_another_process_is_read_again_and_retried(db, runner, make_tenant, sandbox):
    await fault(sandbox, method='POST', doctype='frappe.client.insert_many', status=417,
                exc_type='TimestampMismatchError', count=2)
    detail = await provision(db, runner, make_tenant('Acme Retail').id)

    step = steps(detail)['configure_payment_modes']
    assert detail['status'] == 'SUCCEEDED' and step['attempts'] == 1  # retried inside the step
    for mode in await documents(sandbox, 'Mode of Payment'):
        if mode['name'] in MODES:
            assert [row['company'] for row in mode['accounts']] == ['Acme Retail']


async def test_a_row_erpnext_refuses_stops_with_what_to_check(db, runner, make_tenant, sandbox):
    await provision(db, runner, make_tenant('Acme Retail').id)
    await fault(sandbox, method='POST', doctype='frappe.client.insert_many', status=417, exc_type='ValidationError',
                count=1)
    detail = await provision(db, runner, make_tenant('Bravo Foods').id)

    step = steps(detail)['configure_payment_modes']
    assert step['status'] == 'FAILED' and step['error_category'] == 'critical' and step['attempts'] == 1
    assert step['error'].startswith("ERPNext refused to add company 'Bravo Foods' to Mode of Payment Credit Card, "
                                    'Bank Transfer: Injected fault (sandbox rule 1)')
    assert 'Check the accounts Bank - BF in ERPNext' in step['error']
    assert "retry 'Configure payment modes'" in step['error']


async def test_deprovisioning_removes_only_this_companys_rows_without_moving_the_others(
        db, runner, make_tenant, sandbox, recorded):
    for name in OTHERS[:4]:
        await provision(db, runner, make_tenant(name).id)
    acme = make_tenant('Acme Retail')
    await provision(db, runner, acme.id)
    transport, pool = recorded
    run = deprovision.request(db, acme.id, actor='tests')
    await Runner(db, pool.get, policy=FAST_RETRIES).execute(run.id)

    assert runs.run_detail(db, run.id)['status'] == 'SUCCEEDED'
    for other in OTHERS[1:4]:  # their rows travel in neither direction
        assert all(other.encode() not in sent + answer for *_, sent, answer in transport.exchanges)
    for mode in await documents(sandbox, 'Mode of Payment'):
        if mode['name'] in MODES:
            assert sorted(row['company'] for row in mode['accounts']) == sorted(OTHERS[:4]), mode['name']


async def test_a_mode_whose_rows_were_renumbered_is_read_whole_and_still_configured(db, runner, make_tenant,
                                                                                    sandbox, sandbox_app):
    """Rows normally run idx 1, 2, 3…; a client that saved them with their old idx after deleting the
    first leaves no row 1. The look-up (first row, or ours) then misses the mode: creating it fails
    as a duplicate, writes nothing, and the next look-up reads every row."""
    await provision(db, runner, make_tenant('Bravo Foods').id)
    store = sandbox_app.state.sandbox.store
    card = store.get('Mode of Payment', 'Credit Card')
    store.put({**card, 'accounts': [{**row, 'idx': row['idx'] + 1} for row in card['accounts']]})

    detail = await provision(db, runner, make_tenant('Acme Retail').id)

    assert detail['status'] == 'SUCCEEDED', detail
    assert 'Credit Card' in steps(detail)['configure_payment_modes']['output']['rows_added']
    card = next(m for m in await documents(sandbox, 'Mode of Payment') if m['name'] == 'Credit Card')
    assert sorted(row['company'] for row in card['accounts']) == ['Acme Retail', 'Bravo Foods']
    log = (await sandbox.get('/__sandbox__/requests')).json()
    assert [r['status'] for r in log if r['doctype'] == 'frappe.client.insert_many'][-2:] == [409, 200]


async def test_runs_that_arrive_together_share_one_request(db, runner, make_tenant, sandbox):
    """Group commit: while one run's batch is on its way, the runs that arrive wait for their turn
    and then go together, so a site is not limited to one tenant per round trip."""
    await provision(db, runner, make_tenant('Acme Retail').id)  # every mode exists: no creation race
    tenants = [make_tenant(name) for name in OTHERS[:4]]
    before = len((await sandbox.get('/__sandbox__/requests')).json())
    # the first batch is held long enough for the other runs to arrive while it is out, on a busy machine
    await fault(sandbox, method='POST', doctype='frappe.client.insert_many', latency_ms=1500, count=1)

    details = await asyncio.gather(*(provision(db, runner, tenant.id) for tenant in tenants))

    assert [detail['status'] for detail in details] == ['SUCCEEDED'] * len(tenants)
    log = (await sandbox.get('/__sandbox__/requests')).json()[before:]
    assert [r['status'] for r in log if r['doctype'] == 'frappe.client.insert_many'] == [200, 200]
    modes = {mode['name']: mode for mode in await documents(sandbox, 'Mode of Payment')}
    for mode in ('Credit Card', 'Bank Transfer'):
        assert sorted(row['company'] for row in modes[mode]['accounts']) == sorted(['Acme Retail', *OTHERS[:4]])


@pytest.fixture
async def two_companies_writing(db, runner, make_tenant, sandbox_app):
    """Acme Retail and Bravo Foods provisioned; a client on the sandbox and this site's shared writes."""
    await provision(db, runner, make_tenant('Acme Retail').id)
    await provision(db, runner, make_tenant('Bravo Foods').id)
    client = ERPNextClient('http://sandbox', 'sandbox', 'sandbox', transport=httpx.ASGITransport(app=sandbox_app))
    yield client, SharedWrites.of('http://sandbox')
    await client.aclose()


def account_row(mode: str, company: str, account: str) -> list[dict]:
    """This company's row for a fixture mode (Wire Transfer, Bank Draft, Cheque: no tenant has one)."""
    return [{'doctype': 'Mode of Payment Account', 'parenttype': 'Mode of Payment', 'parent': mode,
             'parentfield': 'accounts', 'company': company, 'default_account': account}]


async def test_a_refused_batch_is_sent_again_run_by_run(sandbox, two_companies_writing):
    """One run's refused row must not fail the runs it shared a request with."""
    client, shared = two_companies_writing
    await fault(sandbox, method='POST', doctype='frappe.client.insert_many', latency_ms=300, count=1)
    before = len((await sandbox.get('/__sandbox__/requests')).json())
    acme_row = account_row('Wire Transfer', 'Acme Retail', 'Cash - AR')
    first = asyncio.create_task(shared.insert(client.bound('run-1'), acme_row))
    await asyncio.sleep(0.05)  # the first batch is on its way; these two wait and go together
    results = await asyncio.gather(
        shared.insert(client.bound('run-2'), account_row('Bank Draft', 'Bravo Foods', 'Cash - AR')),  # not Bravo's
        shared.insert(client.bound('run-3'), account_row('Cheque', 'Bravo Foods', 'Cash - BF')), first,
        return_exceptions=True)

    refused, accepted, alone = results
    assert isinstance(refused, erp.ValidationError) and 'Cash - AR' in refused.message
    assert accepted is None and alone is None
    log = (await sandbox.get('/__sandbox__/requests')).json()[before:]
    assert [r['status'] for r in log if r['doctype'] == 'frappe.client.insert_many'] == [200, 417, 417, 200]
    modes = {mode['name']: mode for mode in await documents(sandbox, 'Mode of Payment')}
    assert [r['company'] for r in modes['Cheque']['accounts']] == ['Bravo Foods']
    assert modes['Bank Draft']['accounts'] == []  # the refused batch wrote nothing


async def test_a_batch_that_lost_a_creation_race_is_looked_up_again_not_sent_run_by_run(
        db, runner, make_tenant, sandbox):
    """A fresh site has no 'Bank Transfer'; the runs waiting behind the first batch all mean to
    create it. Their shared batch fails as a duplicate: that is a race, not a refusal of anyone's
    data, so each looks again and then adds its rows, instead of first sending its doomed creation
    alone (one more 409 per run, one round trip each, in turn)."""
    tenants = [make_tenant(name) for name in ('Acme Retail', *OTHERS)]
    # Long enough for every other run to reach its payment modes meanwhile, even on a loaded machine
    # (300 ms let the first batch end before the others came, once in a CI run under pytest -n 2).
    await fault(sandbox, method='POST', doctype='frappe.client.insert_many', latency_ms=1500, count=1)

    details = await asyncio.gather(*(provision(db, runner, tenant.id) for tenant in tenants))

    assert [detail['status'] for detail in details] == ['SUCCEEDED'] * len(tenants)
    log = (await sandbox.get('/__sandbox__/requests')).json()
    batches = [r['status'] for r in log if r['doctype'] == 'frappe.client.insert_many']
    assert batches.count(409) == 1 and len(batches) <= len(tenants) + 1, batches


async def test_a_run_stopped_while_waiting_for_its_turn_sends_nothing(sandbox, two_companies_writing):
    """A step attempt that times out (or a shutdown) while its rows wait must not have them sent later
    by another run: its retry would then add the same company's row a second time."""
    client, shared = two_companies_writing
    await fault(sandbox, method='POST', doctype='frappe.client.insert_many', latency_ms=300, count=1)
    acme_row = account_row('Wire Transfer', 'Acme Retail', 'Cash - AR')
    first = asyncio.create_task(shared.insert(client.bound('run-1'), acme_row))
    await asyncio.sleep(0.05)
    bravo_row = account_row('Cheque', 'Bravo Foods', 'Cash - BF')
    stopped = asyncio.create_task(shared.insert(client.bound('run-2'), bravo_row))
    await asyncio.sleep(0.05)
    stopped.cancel()
    await shared.insert(client.bound('run-3'), account_row('Bank Draft', 'Bravo Foods', 'Cash - BF'))
    await first

    assert stopped.cancelled() and shared.waiting == []
    modes = {mode['name']: mode for mode in await documents(sandbox, 'Mode of Payment')}
    assert modes['Cheque']['accounts'] == []  # never sent
    assert [r['company'] for r in modes['Bank Draft']['accounts']] == ['Bravo Foods']


async def test_a_batch_erpnext_could_not_take_fails_every_run_once(sandbox, two_companies_writing):
    """ERPNext down or throttling is no one run's fault: every run gets the error at once (and
    retries as its own step would) instead of each being sent alone into the same outage."""
    client, shared = two_companies_writing
    await fault(sandbox, method='POST', doctype='frappe.client.insert_many', latency_ms=300, count=1)
    before = len((await sandbox.get('/__sandbox__/requests')).json())
    first = asyncio.create_task(shared.insert(client.bound('run-1'), account_row('Wire Transfer', 'Acme Retail',
                                                                                 'Cash - AR')))
    await asyncio.sleep(0.05)  # the first batch is on its way; the next one meets an outage
    await fault(sandbox, method='POST', doctype='frappe.client.insert_many', status=503, count=1)
    results = await asyncio.gather(
        shared.insert(client.bound('run-2'), account_row('Bank Draft', 'Bravo Foods', 'Cash - BF')),
        shared.insert(client.bound('run-3'), account_row('Cheque', 'Acme Retail', 'Cash - AR')),
        return_exceptions=True)
    await first

    assert all(isinstance(result, erp.UnavailableError) for result in results) and results[0] is not results[1]
    log = (await sandbox.get('/__sandbox__/requests')).json()[before:]
    assert [r['status'] for r in log if r['doctype'] == 'frappe.client.insert_many'] == [200, 503]
