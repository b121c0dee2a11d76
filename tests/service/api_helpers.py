"""Helpers for API tests: log in through the real endpoint, create users and tenant bodies."""

from __future__ import annotations

import httpx

ADMIN_PASSWORD = 'admin-password-1'
PASSWORD = 'correct-horse-battery'


async def login(api: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    answer = await api.post('/api/v1/auth/token', json={'username': username, 'password': password})
    assert answer.status_code == 200, answer.text
    return {'Authorization': f'Bearer {answer.json()["access_token"]}'}


async def make_user(api: httpx.AsyncClient, admin: dict[str, str], username: str,
                    role: str) -> dict[str, str]:
    """Create a user through the API and return its authorization headers."""
    answer = await api.post('/api/v1/users', headers=admin,
                            json={'username': username, 'password': PASSWORD, 'role': role})
    assert answer.status_code == 201, answer.text
    return await login(api, username, PASSWORD)


def tenant_body(name: str = 'Acme Retail', **fields: object) -> dict[str, object]:
    body: dict[str, object] = {'name': name, 'country': 'United States', 'currency': 'USD',
                               'admin_email': 'ops@acme.example.com', 'engine': 'Main ERP', 'stores': 2}
    body.update(fields)
    return body
