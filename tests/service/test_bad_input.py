"""No input, however odd, makes the API answer 500; every error is JSON with a detail."""

from __future__ import annotations

import json
import re

import pytest

NASTY_BODIES: list[bytes] = [
    b'', b'{', b'null', b'[]', b'"text"', b'12', b'{"name": {"nested": []}}',
    b'{"name": "\\ud800", "username": "\\ud800", "password": "\\ud800\\ud800\\ud800\\ud800\\ud800"}',
    b'{"name": "a\\u0000b", "engine": "\\u0000", "country": "\\u0000", "currency": "\\u0000"}',
    b'{"stores": 1e400, "engine": 99999999999999999999999999, "max_concurrent_runs": -99999999999999999999}',
    b'{"role": ["admin"], "active": "perhaps", "password": 12345678901}',
    b'\xff\xfe\x00garbage',
    json.dumps({'name': 'x' * 100_000, 'base_url': 'http://' + 'a' * 5000}).encode(),
    b'[' * 5000 + b']' * 5000,
]
NASTY_PATHS = ['0', '-1', '99999999999999999999999', 'abc', '1.5', '%00']
NASTY_QUERIES = ['limit=99999999999999999999', 'offset=-1', 'q=%00', 'q=%ED%A0%80', 'q=%FF%FE', 'tenant_id=x',
                 'status=%00', 'action=' + 'a' * 1000, 'actor=%00', 'limit=1&limit=2', 'engine_id=1e3']


def _operations(app) -> list[tuple[str, str]]:
    paths = app.openapi()['paths']
    return [(method.upper(), path) for path, operations in paths.items() for method in operations]


async def test_odd_bodies_never_cause_a_500(app, api, admin, engine_id) -> None:
    for method, path in _operations(app):
        if path.endswith('/logout'):
            continue  # ignores its body, and would end the admin's session for the rest of the test
        url = re.sub(r'\{\w+\}', str(engine_id), path)
        for body in NASTY_BODIES:
            answer = await api.request(method, url, headers={**admin, 'Content-Type': 'application/json'},
                                       content=body)
            assert answer.status_code < 500, (method, path, body[:40], answer.text)
            assert answer.is_success or 'detail' in answer.json()


@pytest.mark.parametrize('value', NASTY_PATHS)
async def test_odd_ids_never_cause_a_500(app, api, admin, value) -> None:
    for method, path in _operations(app):
        if '{' not in path:
            continue
        answer = await api.request(method, re.sub(r'\{\w+\}', value, path), headers=admin, json={})
        assert answer.status_code in (404, 405, 422), (method, path, value, answer.text)
        assert answer.json()['detail']


@pytest.mark.parametrize('query', NASTY_QUERIES)
async def test_odd_query_parameters_never_cause_a_500(api, admin, query) -> None:
    for path in ('/api/v1/tenants', '/api/v1/audit'):
        answer = await api.get(f'{path}?{query}', headers=admin)
        assert answer.status_code in (200, 422), (path, query, answer.text)


async def test_an_unknown_api_path_is_a_json_404(api, admin) -> None:
    answer = await api.get('/api/v1/nothing-here', headers=admin)

    assert answer.status_code == 404 and answer.json() == {'detail': 'Not Found'}
