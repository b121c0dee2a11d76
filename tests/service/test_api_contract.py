"""DESIGN.md's REST API as an outside acceptance tester reads it: wrong types are refused rather
than guessed at, misspelt fields never change what a request does, errors say what is wrong in
words, answers have the documented shapes, and empty query values mean "not given"."""

from __future__ import annotations

import pytest
from api_helpers import make_user, new_tenant, tenant_body, wait_for_run

ENGINE = {'name': 'Second ERP', 'base_url': 'https://erp2.example.com', 'api_key': 'key-2',
          'api_secret': 'secret-2'}


async def test_true_is_not_a_number(api, admin, engine_id) -> None:
    answers = [await api.post('/api/v1/tenants', headers=admin, json=tenant_body(stores=True)),
               await api.post('/api/v1/engines', headers=admin, json={**ENGINE, 'max_concurrent_runs': True}),
               await api.patch(f'/api/v1/engines/{engine_id}', headers=admin,
                               json={'requests_per_second': True}),
               await api.post('/api/v1/tenants/bulk-provision', headers=admin, json={'tenant_ids': [True]})]

    assert [answer.status_code for answer in answers] == [422, 422, 422, 422]
    assert [answer.json()['errors'][0]['field'] for answer in answers] == [
        'stores', 'max_concurrent_runs', 'requests_per_second', 'tenant_ids.0']
    assert (await api.get('/api/v1/tenants', headers=admin)).json()['total'] == 0


async def test_a_word_is_not_a_boolean(api, admin, sandbox_engine) -> None:
    tenant_id = await new_tenant(api, admin)
    manager = await make_user(api, admin, 'mia', 'manager')
    mia = next(u for u in (await api.get('/api/v1/users', headers=admin)).json() if u['username'] == 'mia')

    plan = await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin, json={'plan': 'yes'})
    deactivate = await api.patch(f'/api/v1/users/{mia["id"]}', headers=admin, json={'active': 'no'})

    assert (plan.status_code, plan.json()['errors'][0]['field']) == (422, 'plan')
    assert (deactivate.status_code, deactivate.json()['detail']) == (422, 'active: must be true or false')
    assert (await api.get(f'/api/v1/tenants/{tenant_id}', headers=admin)).json()['latest_run'] is None
    assert (await api.get('/api/v1/auth/me', headers=manager)).status_code == 200  # still active


async def test_a_misspelt_field_in_an_action_body_changes_nothing(api, admin, sandbox_engine) -> None:
    tenant_id = await new_tenant(api, admin)

    typo = await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin, json={'plam': True})
    bulk = await api.post('/api/v1/tenants/bulk-provision', headers=admin,
                          json={'tenant_ids': [tenant_id], 'plan': True})
    teardown = await api.post(f'/api/v1/tenants/{tenant_id}/deprovision', headers=admin, json={'plna': True})

    assert [answer.status_code for answer in (typo, bulk, teardown)] == [422, 422, 422]
    assert typo.json()['detail'] == 'plam: is not a known field'
    tenant = (await api.get(f'/api/v1/tenants/{tenant_id}', headers=admin)).json()
    assert tenant['status'] == 'NOT_STARTED' and tenant['latest_run'] is None


async def test_a_misspelt_field_next_to_a_reason_is_refused(api, admin, sandbox_engine) -> None:
    tenant_id = await new_tenant(api, admin)
    run_id = (await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin)).json()['id']
    await api.post(f'/api/v1/runs/{run_id}/cancel', headers=admin)

    answer = await api.post(f'/api/v1/runs/{run_id}/steps/create_price_list/skip', headers=admin,
                            json={'reason': 'own price list', 'force': True})

    assert (answer.status_code, answer.json()['detail']) == (422, 'force: is not a known field')
    step = next(s for s in (await api.get(f'/api/v1/runs/{run_id}', headers=admin)).json()['steps']
                if s['key'] == 'create_price_list')
    assert step['status'] == 'PENDING'


@pytest.mark.parametrize('currency', ['XXX', 'xts', 'XAU', 'XDR'])
async def test_a_unit_that_is_no_money_is_not_a_currency(api, admin, engine_id, currency) -> None:
    answer = await api.post('/api/v1/tenants', headers=admin, json=tenant_body(currency=currency))

    assert answer.status_code == 422
    assert answer.json()['detail'] == (f"currency: '{currency.upper()}' is not a currency a company keeps its "
                                       "books in (use an ISO 4217 code such as 'USD')")


@pytest.mark.parametrize('currency', ['XOF', 'XAF', 'XCD', 'XPF'])
async def test_the_franc_and_dollar_zones_keep_their_currencies(api, admin, engine_id, currency) -> None:
    answer = await api.post('/api/v1/tenants', headers=admin, json=tenant_body(currency=currency))

    assert (answer.status_code, answer.json()['currency']) == (201, currency)


@pytest.mark.parametrize('body', [b'{"name": ', b'{"name": "x",}', b"{'name': 'x'}"])
async def test_malformed_json_is_reported_against_the_body(api, admin, body) -> None:
    headers = {**admin, 'Content-Type': 'application/json'}
    answer = await api.post('/api/v1/tenants', headers=headers, content=body)

    assert answer.status_code == 422
    assert answer.json()['detail'].startswith('body: is not valid JSON (at character ')
    assert [error['field'] for error in answer.json()['errors']] == ['body']


@pytest.mark.parametrize(('method', 'url', 'payload', 'detail'), [
    ('POST', '/api/v1/tenants/bulk-provision', {'tenant_ids': []}, 'tenant_ids: must have at least 1 item'),
    ('POST', '/api/v1/tenants/bulk-provision', {'tenant_ids': list(range(1, 1002))},
     'tenant_ids: must have at most 1000 items'),
    ('POST', '/api/v1/tenants/bulk-provision', {'tenant_ids': 5}, 'tenant_ids: must be a list'),
    ('GET', '/api/v1/metrics/summary?since=yesterday', None,
     'since: must be a date and time such as 2026-01-31T09:00:00Z'),
])
async def test_errors_are_in_words_not_in_the_validator_s_jargon(api, admin, method, url, payload,
                                                                  detail) -> None:
    answer = await api.request(method, url, headers=admin, json=payload)

    assert (answer.status_code, answer.json()['detail']) == (422, detail)


async def test_an_engine_url_never_carries_credentials(api, admin, engine_id) -> None:
    created = await api.post('/api/v1/engines', headers=admin,
                             json={**ENGINE, 'base_url': 'https://api:hunter2hunter2@erp2.example.com'})
    edited = await api.patch(f'/api/v1/engines/{engine_id}', headers=admin,
                             json={'base_url': 'https://api:hunter2hunter2@erp.example.com'})

    assert (created.status_code, edited.status_code) == (422, 422)
    assert created.json()['errors'][0]['field'] == 'base_url' and 'hunter2' not in created.text
    listed = await api.get('/api/v1/engines', headers=admin)
    assert 'hunter2' not in listed.text
    assert [engine['base_url'] for engine in listed.json()] == ['https://erp.example.com']


async def test_a_tenant_s_latest_run_has_the_shape_of_get_run(api, admin, sandbox_engine) -> None:
    tenant_id = await new_tenant(api, admin)  # no dispatcher: the run stays QUEUED, so both reads agree
    run_id = (await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin)).json()['id']

    latest = (await api.get(f'/api/v1/tenants/{tenant_id}', headers=admin)).json()['latest_run']
    run = (await api.get(f'/api/v1/runs/{run_id}', headers=admin)).json()

    assert latest == run
    assert not {'lease_owner', 'lease_expires_at', 'meta'} & set(latest)


async def test_a_succeeded_step_cannot_be_skipped_or_marked(api, admin, provisioning, sandbox_engine):
    tenant_id = await new_tenant(api, admin)
    run_id = (await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin)).json()['id']
    before = await wait_for_run(api, admin, run_id)
    assert before['status'] == 'SUCCEEDED'
    url = f'/api/v1/runs/{run_id}/steps/create_company'

    answers = [await api.post(f'{url}/skip', headers=admin, json={'reason': 'not needed'}),
               await api.post(f'{url}/mark-succeeded', headers=admin, json={'reason': 'done by hand'})]

    assert [answer.status_code for answer in answers] == [409, 409]
    assert answers[0].json()['detail'] == (f"Step 'Create company' of run #{run_id} is SUCCEEDED: "
                                           'it cannot be skipped (retry the step to run it again).')
    after = (await api.get(f'/api/v1/runs/{run_id}', headers=admin)).json()
    assert after == before  # the step keeps its output, the run and its attempt are untouched
    tenant = (await api.get(f'/api/v1/tenants/{tenant_id}', headers=admin)).json()
    assert tenant['status'] == 'PROVISIONED'


async def test_a_skipped_step_can_be_marked_succeeded_but_not_skipped_again(api, admin,
                                                                            sandbox_engine) -> None:
    tenant_id = await new_tenant(api, admin)
    run_id = (await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin)).json()['id']
    await api.post(f'/api/v1/runs/{run_id}/cancel', headers=admin)
    url = f'/api/v1/runs/{run_id}/steps/create_price_list'
    assert (await api.post(f'{url}/skip', headers=admin, json={'reason': 'own list'})).status_code == 202
    await api.post(f'/api/v1/runs/{run_id}/cancel', headers=admin)  # no dispatcher: stop the requeued run

    again = await api.post(f'{url}/skip', headers=admin, json={'reason': 'own list'})
    marked = await api.post(f'{url}/mark-succeeded', headers=admin, json={'reason': 'made it by hand'})

    assert again.status_code == 409 and 'is SKIPPED' in again.json()['detail']
    assert marked.status_code == 202
    step = next(s for s in marked.json()['steps'] if s['key'] == 'create_price_list')
    assert (step['status'], step['manual_reason']) == ('SUCCEEDED', 'made it by hand')


async def test_a_refused_api_key_is_reported_with_what_to_do(api, admin, provisioning) -> None:
    created = await api.post('/api/v1/engines', headers=admin, json={
        'name': 'Sandbox', 'base_url': 'http://sandbox', 'api_key': 'sandbox',
        'api_secret': 'wrong-secret-42'})

    check = await api.post(f'/api/v1/engines/{created.json()["id"]}/check', headers=admin)

    assert check.status_code == 200 and check.json()['health'] == 'offline'
    error = check.json()['error']
    assert "refused the API key 'sandbox'" in error and 'Generate Keys' in error
    assert 'wrong-secret-42' not in check.text
    engine = (await api.get('/api/v1/engines', headers=admin)).json()[0]
    assert engine['last_error'] == error


async def test_empty_query_values_mean_not_given(api, admin, sandbox_engine) -> None:
    await new_tenant(api, admin, 'Acme Retail')
    await new_tenant(api, admin, 'Bolt Bikes')

    tenants = await api.get('/api/v1/tenants?status=&q=&engine_id=&drifted=&limit=&offset=', headers=admin)
    audit = await api.get('/api/v1/audit?limit=&offset=&action=&actor=&tenant_id=', headers=admin)
    summary = await api.get('/api/v1/metrics/summary?since=', headers=admin)

    assert [answer.status_code for answer in (tenants, audit, summary)] == [200, 200, 200]
    assert tenants.json()['total'] == 2 and [t['name'] for t in tenants.json()['items']] == ['Bolt Bikes',
                                                                                           'Acme Retail']
    assert audit.json()['total'] >= 3  # engine and two tenants created
    # a value that is given is still checked
    assert (await api.get('/api/v1/tenants?limit=0', headers=admin)).status_code == 422
