"""ERPNext compares names without case or accents (MariaDB's utf8mb4_unicode_ci): a document whose
name differs from ours only in that way is somebody else's, never adopted, never deleted later.
A duplicate answer to our own insert is ours only when an earlier attempt recorded the intent."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from engine.erpnext.collation import fold as engine_fold
from engine.services import deprovision, runs
from engine.validation import Conflict
from sandbox.store import fold as sandbox_fold
from tests.engine.helpers import documents, fault, names, provision, resume, steps

FOREIGN_LOOKALIKES = {  # step → a hand-made document whose name differs from ours in case or accents
    'create_company': ('Company', {'company_name': 'ACME RETAIL', 'abbr': 'XAR', 'default_currency': 'USD',
                                   'country': 'United States'}, 'ACME RETAIL'),
    'create_price_list': ('Price List', {'price_list_name': 'ar sélling', 'currency': 'USD', 'selling': 1},
                          'ar sélling'),
    'create_walkin_customer': ('Customer', {'customer_name': 'WALK-IN CUSTOMER - AR'}, 'WALK-IN CUSTOMER - AR'),
}


@pytest.mark.parametrize('key', sorted(FOREIGN_LOOKALIKES))
async def test_a_lookalike_made_by_hand_is_a_conflict_not_ours(db, runner, make_tenant, sandbox, key):
    doctype, doc, shown = FOREIGN_LOOKALIKES[key]
    assert (await sandbox.post(f'/api/resource/{doctype}', json=doc)).status_code == 200
    acme = make_tenant('Acme Retail')

    detail = await provision(db, runner, acme.id)

    step = steps(detail)[key]
    assert step['status'] == 'FAILED'
    assert f"{doctype} '{shown}' already exists" in step['error'] and 'not created by Provisioner' in step['error']
    assert 'mark this step succeeded' not in step['error']  # that advice led to a loop of failures
    assert shown not in detail['metadata'].get('intents', {}).get(doctype, [])
    if key == 'create_company':  # nothing was built inside the hand-made company, and nothing is to tear down
        assert detail['status'] == 'FAILED'
        assert await names(sandbox, 'Warehouse', warehouse_name='Store 1') == []
        with pytest.raises(Conflict, match="Nothing of tenant 'Acme Retail' is in ERPNext"):
            deprovision.plan(db, acme.id)
    else:
        plan = deprovision.plan(db, acme.id)
        assert all(item['doctype'] != doctype for item in plan['delete']), plan['delete']


async def test_a_duplicate_answer_is_not_ours_when_no_earlier_attempt_recorded_it(db, runner, make_tenant, sandbox):
    """The look-up missed the price list (somebody made it a moment later): the insert's duplicate is
    a conflict, the intent recorded for the insert is taken back, and teardown will not touch it."""
    body = {'price_list_name': 'AR Selling', 'currency': 'EUR', 'selling': 1}
    assert (await sandbox.post('/api/resource/Price List', json=body)).status_code == 200
    await fault(sandbox, method='GET', doctype='Price List', status=404, exc_type='DoesNotExistError', count=1)
    acme = make_tenant('Acme Retail')

    detail = await provision(db, runner, acme.id)

    step = steps(detail)['create_price_list']
    assert step['status'] == 'FAILED' and "Price List 'AR Selling' already exists" in step['error']
    assert 'AR Selling' not in detail['metadata']['intents'].get('Price List', [])
    assert all(item['doctype'] != 'Price List' for item in deprovision.plan(db, acme.id)['delete'])
    [price_list] = [doc for doc in await documents(sandbox, 'Price List') if doc['name'] == 'AR Selling']
    assert price_list['currency'] == 'EUR'  # not taken for ours


async def test_a_refused_insert_takes_its_intent_back(db, runner, make_tenant, sandbox):
    """ERPNext refused the price list (nothing created): deprovisioning must not delete a price list
    somebody makes under that name later."""
    await fault(sandbox, method='POST', doctype='Price List', status=417, exc_type='ValidationError', count=10)
    acme = make_tenant('Acme Retail')

    detail = await provision(db, runner, acme.id)

    assert steps(detail)['create_price_list']['status'] == 'FAILED'
    assert 'AR Selling' not in detail['metadata']['intents'].get('Price List', [])
    assert all(item['doctype'] != 'Price List' for item in deprovision.plan(db, acme.id)['delete'])


async def test_our_own_document_whose_answer_was_lost_is_still_adopted(db, runner, make_tenant, sandbox):
    """The other side of the rule: an earlier attempt recorded the intent and its insert went
    through, so the duplicate answer on the retry is ours."""
    acme = make_tenant('Acme Retail')
    first = await provision(db, runner, acme.id)
    assert first['status'] == 'SUCCEEDED'
    await fault(sandbox, method='GET', doctype='Price List', status=404, exc_type='DoesNotExistError', count=1)

    again = await provision(db, runner, acme.id)  # its look-up misses the price list, its insert is a duplicate

    step = steps(again)['create_price_list']
    assert step['status'] == 'SUCCEEDED', step['error']
    assert step['output']['price_list'] == 'AR Selling' and step['output']['created'] is False
    assert await names(sandbox, 'Price List', price_list_name='AR Selling') == ['AR Selling']


async def test_a_sites_differently_cased_mode_of_payment_is_its_mode(db, runner, make_tenant, sandbox):
    """Modes of Payment are shared: the site's "CASH" is the Cash mode, and gets this company's row."""
    await sandbox.delete('/api/resource/Mode of Payment/Cash')
    assert (await sandbox.post('/api/resource/Mode of Payment',
                               json={'mode_of_payment': 'CASH', 'type': 'Cash'})).status_code == 200
    acme = make_tenant('Acme Retail')

    detail = await provision(db, runner, acme.id)

    assert detail['status'] == 'SUCCEEDED', detail.get('error_message')
    modes = {doc['name']: doc for doc in await documents(sandbox, 'Mode of Payment')}
    assert 'Cash' not in modes
    assert [row['company'] for row in modes['CASH']['accounts']] == ['Acme Retail']


async def test_a_conflict_marked_done_by_hand_takes_the_found_document_and_goes_on(db, runner, make_tenant, sandbox):
    """"It is the right one": the person marks the step done, and the run adopts what ERPNext holds
    (without an intent: deprovisioning leaves it alone) instead of failing every later step."""
    body = {'company_name': 'Acme Retail', 'abbr': 'ACR', 'default_currency': 'USD', 'country': 'United States'}
    assert (await sandbox.post('/api/resource/Company', json=body)).status_code == 200
    acme = make_tenant('Acme Retail')
    failed = await provision(db, runner, acme.id)
    assert steps(failed)['create_company']['status'] == 'FAILED'

    runs.mark_step_succeeded(db, failed['id'], 'create_company', actor='admin', reason='our company')
    detail = await resume(db, runner, failed['id'])

    assert detail['status'] == 'SUCCEEDED', detail.get('error_message')
    company = steps(detail)['create_company']
    assert company['manual_by'] == 'admin' and company['output']['abbr'] == 'ACR'
    assert 'Store 1 - ACR' in await names(sandbox, 'Warehouse', company='Acme Retail')
    assert 'Company' not in detail['metadata'].get('intents', {})
    assert all(item['doctype'] != 'Company' for item in deprovision.plan(db, acme.id)['delete'])


async def test_a_step_marked_done_whose_document_is_missing_says_so_once(db, runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail')
    await fault(sandbox, method='POST', doctype='Warehouse', status=417, exc_type='ValidationError', count=10)
    failed = await provision(db, runner, acme.id)
    assert steps(failed)['create_warehouses']['status'] == 'FAILED'
    await sandbox.delete('/__sandbox__/faults')

    runs.mark_step_succeeded(db, failed['id'], 'create_warehouses', actor='admin', reason='made by hand')
    detail = await resume(db, runner, failed['id'])  # nobody made the warehouse

    step = steps(detail)['create_warehouses']
    assert detail['status'] == 'FAILED' and step['status'] == 'FAILED'
    assert 'was marked done by hand, but ERPNext lacks' in step['error']
    assert await names(sandbox, 'Warehouse', warehouse_name='Store 1') == []  # nothing written
    assert 'was it marked done by hand' not in (steps(detail)['create_pos_profiles']['error'] or '')


# Names as people type them (letters with and without accents, spaces, punctuation) and any text at all.
name_text = st.text(st.characters(codec='utf-8'), max_size=40) | st.text(
    st.sampled_from('aAeEsSßẞéÉèçÇøØﬁﬀＡｃｍｅ ー　\u00a0\u0301-.&'), max_size=20)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(name=name_text)
@example(name='Straße GmbH  ')
@example(name='ＡＣＭＥ Ｒｅｔａｉｌ')
@example(name='Cafe\u0301')
def test_the_sandbox_and_the_engine_take_the_same_names_for_one(name):
    """The sandbox keeps its own copy of `fold` (it depends on nothing of ours): both must agree on
    which names collide, or the simulator would let through what ERPNext refuses (or the reverse)."""
    assert sandbox_fold(name) == engine_fold(name)
