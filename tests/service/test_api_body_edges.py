"""Bodies the API cannot take as they stand answer 422 in the API's shape, never 400 or 500:
nested too deeply, not UTF-8, a key given twice (json.loads would keep the last one silently)."""

from __future__ import annotations

import pytest
from api_helpers import tenant_body

TENANTS = '/api/v1/tenants'
JSON = {'content-type': 'application/json'}


@pytest.mark.parametrize('body', [b'[' * 100_000 + b']' * 100_000,
                                  b'{"name": ' + b'{"a": ' * 50_000 + b'1' + b'}' * 50_001])
async def test_a_body_nested_too_deeply_is_a_422(api, admin, body) -> None:
    answer = await api.post(TENANTS, headers=admin | JSON, content=body)

    assert answer.status_code == 422, answer.text
    message = 'is not valid JSON (nested too deeply)'
    assert answer.json() == {'detail': f'body: {message}', 'errors': [{'field': 'body', 'message': message}]}


async def test_a_body_that_is_not_utf8_is_a_422(api, admin) -> None:
    answer = await api.post(TENANTS, headers=admin | JSON, content=b'{"name": "Caf\xe9 \xff"}')

    assert answer.status_code == 422, answer.text
    assert answer.json()['detail'] == 'body: is not valid JSON (not UTF-8 text)'


async def test_a_truncated_body_still_names_the_character(api, admin) -> None:
    answer = await api.post(TENANTS, headers=admin | JSON, content=b'{"name": "Acme"')

    assert answer.status_code == 422, answer.text
    assert answer.json()['detail'].startswith('body: is not valid JSON (at character ')


@pytest.mark.parametrize('content_type', ['application/json', 'application/merge-patch+json', None])
async def test_a_key_given_twice_is_a_422_and_nothing_is_created(api, admin, engine_id, content_type) -> None:
    body = b'{"name": "Acme A", "name": "Acme B", "country": "United States", "currency": "USD", ' \
           b'"admin_email": "ops@acme.example.com", "engine": "Main ERP"}'
    headers = admin | ({'content-type': content_type} if content_type else {})

    answer = await api.post(TENANTS, headers=headers, content=body)

    assert answer.status_code == 422, answer.text
    assert answer.json() == {'detail': "body: duplicate key 'name'",
                             'errors': [{'field': 'body', 'message': "duplicate key 'name'"}]}
    assert (await api.get(TENANTS, headers=admin)).json()['total'] == 0


async def test_a_key_given_twice_deeper_down_is_refused_too(api, admin) -> None:
    answer = await api.post('/api/v1/tenants/bulk-provision', headers=admin | JSON,
                            content=b'{"ids": [1], "options": {"plan": true, "plan": false}}')

    assert answer.status_code == 422, answer.text
    assert answer.json()['detail'] == "body: duplicate key 'plan'"


async def test_a_body_with_distinct_keys_is_taken(api, admin, engine_id) -> None:
    answer = await api.post(TENANTS, headers=admin, json=tenant_body())

    assert answer.status_code == 201, answer.text
