"""Tenants: validation of every field, duplicates, pagination and search."""

from __future__ import annotations

import pytest
from api_helpers import tenant_body


async def test_a_valid_tenant_is_created_normalised_and_not_started(api, admin, engine_id) -> None:
    body = tenant_body('  Acme Retail  ', country='united kingdom', currency='gbp',
                       admin_email='Ops@Acme.Example.COM', engine=engine_id)

    answer = await api.post('/api/v1/tenants', headers=admin, json=body)

    assert answer.status_code == 201, answer.text
    tenant = answer.json()
    assert (tenant['name'], tenant['company_name']) == ('Acme Retail', 'Acme Retail')
    assert tenant['status'] == 'NOT_STARTED'
    assert (tenant['country'], tenant['currency'], tenant['admin_email']) == ('United Kingdom', 'GBP',
                                                                              'ops@acme.example.com')
    assert (tenant['engine_id'], tenant['stores'], tenant['created_by']) == (engine_id, 2, 'admin')


@pytest.mark.parametrize(('fields', 'expected'), [
    ({'country': 'Narnia'}, "country: unknown country 'Narnia'"),
    ({'currency': 'XYZ'}, "currency: unknown currency 'XYZ'"),
    ({'admin_email': 'not-an-email'}, 'admin_email: not a valid email address'),
    ({'stores': 0}, 'stores: must be at least 1'),
    ({'stores': 21}, 'stores: must be at most 20'),
    ({'stores': 'two'}, 'stores: must be a whole number'),
    ({'name': 'Acme\x07Retail'}, 'name: must contain only printable characters'),
    ({'name': 'Acme\nRetail'}, 'name: must contain only printable characters'),
    ({'name': 'x' * 141}, 'name: must be at most 140 characters long'),
    ({'name': '   '}, 'name: must not be empty'),
    ({'name': 'Acme <b>'}, "name: must not contain '<' or '>'"),
    ({'engine': 'No Such Engine'}, "engine: no engine with id or name 'No Such Engine'"),
    ({'engine': 424242}, "engine: no engine with id or name '424242'"),
    ({'colour': 'red'}, 'colour: is not a known field'),
])
async def test_each_rule_gives_a_readable_422(api, admin, engine_id, fields, expected) -> None:
    answer = await api.post('/api/v1/tenants', headers=admin, json=tenant_body(**fields))

    assert answer.status_code == 422, answer.text
    assert answer.json()['detail'].startswith(expected)
    assert answer.json()['errors'][0]['field'] == expected.split(':')[0]


@pytest.mark.parametrize(('country', 'stored'), [
    ('United States', 'United States'), ('US', 'United States'), ('usa', 'United States'),
    ('Türkiye', 'Turkey'), ('turkey', 'Turkey'), ('Viet Nam', 'Vietnam'), ('Czechia', 'Czech Republic'),
])
async def test_countries_are_accepted_in_common_spellings_and_stored_as_erpnext_names(
        api, admin, engine_id, country, stored) -> None:
    body = tenant_body(country=country, currency='usd')

    answer = await api.post('/api/v1/tenants', headers=admin, json=body)

    assert answer.status_code == 201, answer.text
    assert answer.json()['country'] == stored and answer.json()['currency'] == 'USD'


async def test_a_missing_body_field_is_named(api, admin, engine_id) -> None:
    body = tenant_body()
    del body['currency']

    answer = await api.post('/api/v1/tenants', headers=admin, json=body)

    assert answer.status_code == 422 and answer.json()['detail'] == 'currency: is required'


async def test_duplicate_names_conflict_even_in_another_case(api, admin, engine_id) -> None:
    first = await api.post('/api/v1/tenants', headers=admin, json=tenant_body('Acme Retail'))
    assert first.status_code == 201

    answer = await api.post('/api/v1/tenants', headers=admin, json=tenant_body('ACME retail'))

    assert answer.status_code == 409
    assert answer.json() == {'detail': "a tenant named 'Acme Retail' already exists"}


async def test_a_tenant_is_read_by_id_with_its_latest_run(api, admin, engine_id) -> None:
    created = (await api.post('/api/v1/tenants', headers=admin, json=tenant_body())).json()

    answer = await api.get(f'/api/v1/tenants/{created["id"]}', headers=admin)

    assert answer.status_code == 200
    assert answer.json() == {**created, 'latest_run': None, 'current_run': None, 'waiting_for_engine': None}
    missing = await api.get('/api/v1/tenants/9999', headers=admin)
    assert missing.status_code == 404 and missing.json() == {'detail': 'There is no tenant with id 9999.'}


async def test_pagination_is_newest_first_with_a_total(api, admin, engine_id) -> None:
    for number in range(7):
        await api.post('/api/v1/tenants', headers=admin, json=tenant_body(f'Tenant {number}'))

    first = (await api.get('/api/v1/tenants', headers=admin, params={'limit': 3})).json()
    last = (await api.get('/api/v1/tenants', headers=admin, params={'limit': 3, 'offset': 6})).json()

    assert first['total'] == last['total'] == 7
    assert [t['name'] for t in first['items']] == ['Tenant 6', 'Tenant 5', 'Tenant 4']
    assert [t['name'] for t in last['items']] == ['Tenant 0']


async def test_search_matches_name_company_and_email_in_any_case(api, admin, engine_id) -> None:
    for name, email in [('Acme Retail', 'a@acme.example.com'), ('Globex', 'it@globex.example.com'),
                        ('100% Bakery', 'b@bake.example.com')]:
        await api.post('/api/v1/tenants', headers=admin, json=tenant_body(name, admin_email=email))

    async def names(**params: object) -> list[str]:
        page = (await api.get('/api/v1/tenants', headers=admin, params=params)).json()
        assert page['total'] == len(page['items'])
        return [tenant['name'] for tenant in page['items']]

    assert await names(q='ACME') == ['Acme Retail']
    assert await names(q='globex.example') == ['Globex']
    assert await names(q='%') == ['100% Bakery']  # LIKE wildcards are searched for literally
    assert await names(q='nothing like this') == []
    assert await names(status='NOT_STARTED', engine_id=engine_id) == ['100% Bakery', 'Globex', 'Acme Retail']
    assert await names(status='PROVISIONED') == []


@pytest.mark.parametrize(('params', 'field'), [
    ({'limit': 0}, 'limit'), ({'limit': 501}, 'limit'), ({'offset': -1}, 'offset'),
    ({'status': 'DONE'}, 'status'), ({'q': 'x' * 201}, 'q'), ({'engine_id': 'abc'}, 'engine_id'),
])
async def test_bad_list_parameters_are_422(api, admin, params, field) -> None:
    answer = await api.get('/api/v1/tenants', headers=admin, params=params)

    assert answer.status_code == 422
    assert answer.json()['errors'][0]['field'] == field
