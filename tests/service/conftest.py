"""Fixtures for the REST API and its services: a real SQLite file, the real routers on a bare
FastAPI app driven over ASGI, and tokens from the real login endpoint."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from api_helpers import ADMIN_PASSWORD, login
from fastapi import FastAPI

from dashboard.api import build_api_router
from dashboard.api.errors import install_error_handlers
from engine.clients import EngineClients
from engine.dispatcher import Dispatcher
from engine.runner import RetryPolicy, Runner
from engine.security import SecretBox, ensure_secret_key
from engine.services import users
from engine.settings import Settings, load_settings
from sandbox import create_app
from storage.db import Database
from tests.support.databases import migrated_sqlite

FAST = RetryPolicy(max_attempts=3, step_budget_s=20, attempt_timeout_s=10, backoff_s=0.01, backoff_max_s=0.02)


@pytest.fixture
def clean_env(monkeypatch) -> None:
    """No PROVISIONER_* variable of the machine running the tests leaks into them."""
    for name in list(os.environ):
        if name.startswith('PROVISIONER_'):
            monkeypatch.delenv(name)


@pytest.fixture
def settings(tmp_path, clean_env) -> Settings:
    return load_settings(database_url=f'sqlite:///{tmp_path / "provisioner.db"}', data_dir=tmp_path / 'data',
                         admin_password=ADMIN_PASSWORD)


@pytest.fixture
def db(settings) -> Iterator[Database]:
    database = migrated_sqlite(Path(settings.database_url.removeprefix('sqlite:///')))
    yield database
    database.dispose()


@pytest.fixture
def secrets(settings) -> SecretBox:
    return SecretBox(ensure_secret_key(settings))


@pytest.fixture
def app(db, settings, secrets) -> FastAPI:
    """What main.py wires, minus the UI: state, routers, error handlers, the first admin."""
    application = FastAPI()
    application.state.db, application.state.settings, application.state.secrets = db, settings, secrets
    application.state.erpnext_transport = httpx.MockTransport(_refuse_connection)
    application.include_router(build_api_router())
    install_error_handlers(application)
    users.ensure_admin(db, settings)
    return application


@pytest.fixture
async def api(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url='http://provisioner') as client:
        yield client


@pytest.fixture
async def admin(api) -> dict[str, str]:
    """Authorization headers of the first-start admin."""
    return await login(api, 'admin', ADMIN_PASSWORD)


@pytest.fixture
async def engine_id(api, admin) -> int:
    answer = await api.post('/api/v1/engines', headers=admin, json={
        'name': 'Main ERP', 'base_url': 'https://erp.example.com', 'api_key': 'key-1',
        'api_secret': 'secret-1'})
    assert answer.status_code == 201, answer.text
    return answer.json()['id']


def _refuse_connection(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError('connection refused', request=request)


# ---- provisioning through the API: the real dispatcher and runner against the sandbox --------------

@pytest.fixture
def sandbox_app():
    return create_app()


@pytest.fixture
async def provisioning(app, db, secrets, sandbox_app):
    """The app with a dispatcher whose runner talks to the sandbox over ASGI."""
    clients = EngineClients(db, secrets, transport_for=lambda engine: httpx.ASGITransport(app=sandbox_app))
    app.state.erpnext_transport = httpx.ASGITransport(app=sandbox_app)
    app.state.dispatcher = Dispatcher(db, Runner(db, clients.get, policy=FAST), max_concurrent=4)
    yield app.state.dispatcher
    await app.state.dispatcher.drain(grace_seconds=5)
    await clients.aclose()


@pytest.fixture
async def sandbox_engine(api, admin) -> str:
    answer = await api.post('/api/v1/engines', headers=admin, json={
        'name': 'Sandbox', 'base_url': 'http://sandbox', 'api_key': 'sandbox', 'api_secret': 'sandbox'})
    assert answer.status_code == 201, answer.text
    return 'Sandbox'
