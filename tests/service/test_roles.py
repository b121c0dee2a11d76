"""Who may do what: DESIGN.md's role column, walked as one table."""

from __future__ import annotations

import re

from api_helpers import make_user, tenant_body

# (role, method, path, body, expected status); None = no token at all
MATRIX: list[tuple[str | None, str, str, dict | None, int]] = [
    (None, 'GET', '/api/v1/tenants', None, 401),
    (None, 'POST', '/api/v1/tenants', tenant_body('Nobody'), 401),
    (None, 'GET', '/api/v1/auth/me', None, 401),
    ('manager', 'GET', '/api/v1/tenants', None, 200),
    ('manager', 'GET', '/api/v1/tenants/{tenant}', None, 200),
    ('manager', 'GET', '/api/v1/engines', None, 200),
    ('manager', 'GET', '/api/v1/engines/{engine}', None, 200),
    ('manager', 'DELETE', '/api/v1/engines/{engine}', None, 403),
    ('manager', 'POST', '/api/v1/tenants', tenant_body('Manager Co'), 403),
    ('manager', 'POST', '/api/v1/engines/{engine}/check', None, 403),
    ('manager', 'GET', '/api/v1/audit', None, 403),
    ('manager', 'GET', '/api/v1/users', None, 403),
    ('manager', 'GET', '/api/v1/metrics/summary', None, 200),
    ('support', 'GET', '/api/v1/metrics/summary', None, 403),
    ('admin', 'GET', '/api/v1/metrics/summary', None, 200),
    ('support', 'GET', '/api/v1/tenants', None, 200),
    ('support', 'POST', '/api/v1/tenants', tenant_body('Support Co'), 201),
    ('support', 'POST', '/api/v1/engines/{engine}/check', None, 200),
    ('support', 'POST', '/api/v1/engines', {'name': 'X', 'base_url': 'https://x.example.com',
                                            'api_key': 'k', 'api_secret': 's'}, 403),
    ('support', 'PATCH', '/api/v1/engines/{engine}', {'max_concurrent_runs': 2}, 403),
    ('support', 'DELETE', '/api/v1/engines/{engine}', None, 403),
    ('support', 'POST', '/api/v1/users', {'username': 'eve', 'password': 'x' * 12, 'role': 'admin'}, 403),
    ('support', 'PATCH', '/api/v1/users/1', {'role': 'support'}, 403),
    ('support', 'GET', '/api/v1/users', None, 403),
    ('support', 'GET', '/api/v1/audit', None, 403),
    ('admin', 'POST', '/api/v1/tenants', tenant_body('Admin Co'), 201),
    ('admin', 'POST', '/api/v1/engines/{engine}/check', None, 200),
    ('admin', 'PATCH', '/api/v1/engines/{engine}', {'max_concurrent_runs': 2}, 200),
    ('admin', 'DELETE', '/api/v1/engines/{engine}', None, 409),  # the tenant uses it
    ('admin', 'GET', '/api/v1/users', None, 200),
    ('admin', 'GET', '/api/v1/audit', None, 200),
]


async def test_role_matrix(api, admin, engine_id) -> None:
    headers = {None: {}, 'admin': admin,
               'support': await make_user(api, admin, 'sam', 'support'),
               'manager': await make_user(api, admin, 'mia', 'manager')}
    tenant = (await api.post('/api/v1/tenants', headers=admin, json=tenant_body())).json()['id']

    outcomes = []
    for role, method, path, body, _expected in MATRIX:
        url = path.format(tenant=tenant, engine=engine_id)
        answer = await api.request(method, url, headers=headers[role], json=body)
        outcomes.append((role, method, path, answer.status_code))

    assert outcomes == [(role, method, path, expected) for role, method, path, _, expected in MATRIX]


def _api_operations(app) -> list[tuple[str, str]]:
    paths = app.openapi()['paths']
    return [(method.upper(), path) for path, operations in paths.items() for method in operations]


async def test_every_api_route_but_login_needs_a_token(app, api) -> None:
    operations = [op for op in _api_operations(app) if op != ('POST', '/api/v1/auth/token')]
    assert len(operations) >= 12

    for method, path in operations:
        answer = await api.request(method, re.sub(r'\{\w+\}', '1', path), json={})
        assert answer.status_code == 401, (method, path, answer.status_code)
        assert answer.headers['content-type'] == 'application/json'
