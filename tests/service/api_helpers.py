"""Helpers for API tests: log in through the real endpoint, create users and tenant bodies."""

from __future__ import annotations

import asyncio

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


async def wait_for_run(api, headers, run_id: int, *, until=('SUCCEEDED', 'FAILED', 'CANCELLED')) -> dict:
    for _ in range(200):
        run = (await api.get(f'/api/v1/runs/{run_id}', headers=headers)).json()
        if run['status'] in until:
            return run
        await asyncio.sleep(0.05)
    raise AssertionError(f'run {run_id} stayed {run["status"]}')


async def new_tenant(api, headers, name='Acme Retail', **fields) -> int:
    answer = await api.post('/api/v1/tenants', headers=headers, json=tenant_body(name, engine='Sandbox', **fields))
    assert answer.status_code == 201, answer.text
    return answer.json()['id']
