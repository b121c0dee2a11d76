"""Schemathesis against /api/v1/openapi.json of the real API (routers, error handlers, middleware,
services, a SQLite file; ERPNext calls go to the sandbox in-process), signed in as each role:
valid and invalid requests to every operation give no 5xx and no answer that breaks the schema."""

from __future__ import annotations

import os

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from dashboard import ops
from dashboard.api import build_api_router
from dashboard.api.errors import install_error_handlers
from dashboard.security_headers import SecurityHeadersMiddleware
from engine.security import SecretBox, ensure_secret_key
from engine.services import runs, users
from engine.settings import load_settings
from engine.validation import UserCreate
from sandbox import create_app
from storage.db import Database
from storage.tables import Engine, Tenant

ADMIN_PASSWORD = 'schemathesis-admin-1'
PASSWORD = 'schemathesis-user-1'
EXAMPLES_PER_OPERATION = 12
# Requests that would end the fuzzing session itself: logging out revokes the token in use.
SKIPPED = {('POST', '/api/v1/auth/logout')}


@pytest.fixture
def api_app(tmp_path, monkeypatch) -> FastAPI:
    """What main.py wires for the API (no UI): state, routers, error handlers, middleware, seed data."""
    for name in list(os.environ):
        if name.startswith('PROVISIONER_'):
            monkeypatch.delenv(name)
    config = load_settings(database_url=f'sqlite:///{tmp_path / "api.db"}', data_dir=tmp_path / 'data',
                           admin_password=ADMIN_PASSWORD)
    db = Database.from_url(config.database_url)
    secrets = SecretBox(ensure_secret_key(config))
    application = FastAPI(openapi_url='/api/v1/openapi.json')
    application.state.db, application.state.settings, application.state.secrets = db, config, secrets
    application.state.erpnext_transport = httpx.ASGITransport(app=create_app())
    application.include_router(build_api_router())
    application.include_router(ops.router)
    install_error_handlers(application)
    application.add_middleware(SecurityHeadersMiddleware)
    users.ensure_admin(db, config)
    for role in ('support', 'manager'):
        users.create_user(db, UserCreate(username=role, password=PASSWORD, role=role), actor='tests')
    victim = users.create_user(db, UserCreate(username='victim', password=PASSWORD, role='support'), actor='tests')
    application.state.victim_id = victim.id
    with db.session() as session:
        engine = Engine(name='Sandbox', base_url='http://sandbox', api_key='sandbox',
                        api_secret_encrypted=secrets.encrypt('sandbox'))
        session.add(engine)
        session.flush()
        tenant = Tenant(name='Fuzz Retail', company_name='Fuzz Retail', country='Germany', currency='EUR',
                        admin_email='ops@example.com', engine_id=engine.id)
        session.add(tenant)
    runs.request_provision(db, tenant.id, actor='tests')
    yield application
    db.dispose()


@pytest.mark.parametrize('role', ['admin', 'support', 'manager'])
def test_no_server_error_and_no_schema_violation(api_app, role):
    schema = schemathesis.openapi.from_asgi('/api/v1/openapi.json', api_app)
    headers = token_headers(schema, api_app, role)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20, [op.label for op in operations]
    for operation in operations:
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        fuzz_operation(operation, headers, api_app.state.victim_id, failures)
    assert not failures, '\n\n'.join(failures[:10])


def token_headers(schema, app: FastAPI, role: str) -> dict[str, str]:
    username, password = ('admin', ADMIN_PASSWORD) if role == 'admin' else (role, PASSWORD)
    login = schema['/api/v1/auth/token']['POST'].Case(body={'username': username, 'password': password})
    answer = login.call()
    assert answer.status_code == 200, answer.text
    return {'Authorization': f'Bearer {answer.json()["access_token"]}'}


def fuzz_operation(operation, headers: dict[str, str], victim_id: int, failures: list[str]) -> None:
    """Valid and invalid cases for one operation; collect what broke instead of stopping at the first."""
    # Changing a user may deactivate the very user fuzzing: aim those requests at a spare user.
    fixed = {'user_id': victim_id} if '{user_id}' in operation.path else None
    strategies = [operation.as_strategy(mode, path_parameters=fixed)
                  for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]

    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=st.one_of(strategies))
    def check(case) -> None:
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
        except Exception as exc:  # schemathesis raises a group of check failures
            failures.append(f'{operation.label}: {case.as_curl_command(headers=headers)}\n{exc}')

    check()
