"""Many users clicking at once, and the rate limits: through the real REST API on SQLite and on
PostgreSQL, with the real login, services and the database's one-active-run index."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI
from sqlmodel import func, select

from dashboard.api import build_api_router
from dashboard.api.errors import install_error_handlers
from engine.rate_limits import PROVISION_PER_USER
from engine.security import SecretBox
from engine.services import users
from engine.settings import load_settings
from engine.validation import UserCreate
from storage.db import Database
from storage.tables import Run
from tests.reliability.processes import PASSWORD

USER_PASSWORD = 'a-long-password-1'


@pytest.fixture(params=['sqlite', 'postgres'])
def database_url(request, tmp_path) -> str:
    if request.param == 'sqlite':
        return f'sqlite:///{tmp_path / "burst.db"}'
    return request.getfixturevalue('pg_url')


@pytest.fixture
def settings(tmp_path, database_url, monkeypatch):
    return load_settings(database_url=database_url, data_dir=tmp_path / 'data', admin_password=PASSWORD)


@pytest.fixture
def db(settings):
    database = Database.from_url(settings.database_url)
    yield database
    database.dispose()


@pytest.fixture
async def api(db, settings) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.state.db, app.state.settings, app.state.secrets = db, settings, SecretBox(Fernet.generate_key())
    app.include_router(build_api_router())
    install_error_handlers(app)
    users.ensure_admin(db, settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url='http://provisioner') as client:
        yield client


async def headers_of(api: httpx.AsyncClient, username: str) -> dict[str, str]:
    password = PASSWORD if username == 'admin' else USER_PASSWORD
    answer = await api.post('/api/v1/auth/token', json={'username': username, 'password': password})
    assert answer.status_code == 200, answer.text
    return {'Authorization': f'Bearer {answer.json()["access_token"]}'}


async def new_tenant(api: httpx.AsyncClient, headers: dict[str, str], name: str = 'Acme Retail') -> int:
    engine = await api.post('/api/v1/engines', headers=headers, json={
        'name': 'Main ERP', 'base_url': 'https://erp.example.com', 'api_key': 'k', 'api_secret': 's'})
    assert engine.status_code in (201, 409), engine.text
    answer = await api.post('/api/v1/tenants', headers=headers, json={
        'name': name, 'country': 'United States', 'currency': 'USD', 'admin_email': 'ops@acme.example.com',
        'engine': 'Main ERP'})
    assert answer.status_code == 201, answer.text
    return answer.json()['id']


async def test_fifty_simultaneous_provision_calls_make_exactly_one_run(api, db):
    admin = await headers_of(api, 'admin')
    tenant_id = await new_tenant(api, admin)
    for number in range(5):
        users.create_user(db, UserCreate(username=f'support{number}', password=USER_PASSWORD, role='support'),
                          actor='tests')
    clickers = [await headers_of(api, f'support{number}') for number in range(5)]

    answers = await asyncio.gather(*[api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=clickers[n % 5])
                                     for n in range(50)])

    assert Counter(answer.status_code for answer in answers) == {202: 1, 409: 49}
    assert all('already has an active run' in a.json()['detail'] for a in answers if a.status_code == 409)
    with db.session() as session:
        assert session.exec(select(func.count()).select_from(Run).where(Run.tenant_id == tenant_id)).one() == 1


@pytest.mark.parametrize('database_url', ['sqlite'], indirect=True)  # the limiter counts in memory
async def test_the_request_after_the_limit_is_429_with_retry_after(api, db):
    admin = await headers_of(api, 'admin')
    tenant_id = await new_tenant(api, admin)
    allowed = int(PROVISION_PER_USER.split('/')[0])
    for _ in range(allowed):  # 202 the first time, then 409: each is a request all the same
        assert (await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin)).status_code in (202, 409)

    refused = await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin)
    bulk = await api.post('/api/v1/tenants/bulk-provision', headers=admin, json={'tenant_ids': [tenant_id]})

    assert refused.status_code == 429 and bulk.status_code == 429
    assert 1 <= int(refused.headers['Retry-After']) <= 60
    assert refused.json()['detail'].startswith('too many provision requests: try again in')
    users.create_user(db, UserCreate(username='sam', password=USER_PASSWORD, role='support'), actor='tests')
    other = await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=await headers_of(api, 'sam'))
    assert other.status_code == 409  # another user has a budget of their own
