"""Engines: the API secret is write-only and encrypted at rest; names are unique; health checks."""

from __future__ import annotations

import httpx
import pytest

from engine.services import engines
from storage.tables import Engine

SECRET = 'very-secret-api-password'


async def test_the_secret_never_leaves_and_is_encrypted_at_rest(api, admin, db, secrets) -> None:
    created = await api.post('/api/v1/engines', headers=admin, json={
        'name': 'Prod', 'base_url': 'https://erp.example.com/', 'api_key': 'key-1', 'api_secret': SECRET})
    engine_id = created.json()['id']
    answers = [created,
               await api.get('/api/v1/engines', headers=admin),
               await api.patch(f'/api/v1/engines/{engine_id}', headers=admin,
                               json={'max_concurrent_runs': 8}),
               await api.get('/api/v1/audit', headers=admin)]

    assert [answer.status_code for answer in answers] == [201, 200, 200, 200]
    assert all(SECRET not in answer.text and 'api_secret_encrypted' not in answer.text for answer in answers)
    assert created.json()['base_url'] == 'https://erp.example.com' and created.json()['health'] == 'unknown'
    with db.session() as session:
        stored = session.get(Engine, engine_id).api_secret_encrypted
    assert SECRET not in stored and secrets.decrypt(stored) == SECRET


async def test_the_secret_is_replaced_only_when_a_new_one_is_sent(api, admin, db, secrets, engine_id) -> None:
    await api.patch(f'/api/v1/engines/{engine_id}', headers=admin, json={'name': 'Renamed ERP'})
    assert engines.engine_secret(secrets, engines.get_engine(db, engine_id)) == 'secret-1'

    answer = await api.patch(f'/api/v1/engines/{engine_id}', headers=admin, json={'api_secret': 'secret-2'})

    assert answer.status_code == 200 and answer.json()['name'] == 'Renamed ERP'
    assert engines.engine_secret(secrets, engines.get_engine(db, engine_id)) == 'secret-2'


async def test_engine_names_are_unique_regardless_of_case(api, admin, engine_id) -> None:
    body = {'name': 'main erp', 'base_url': 'https://other.example.com', 'api_key': 'k', 'api_secret': 's'}

    answer = await api.post('/api/v1/engines', headers=admin, json=body)

    assert answer.status_code == 409
    assert answer.json()['detail'] == "an engine named 'Main ERP' already exists"


@pytest.mark.parametrize(('field', 'value', 'message'), [
    ('base_url', 'ftp://erp.example.com', 'base_url: must be an http:// or https:// URL'),
    ('base_url', 'erp.example.com', 'base_url: must be an http:// or https:// URL'),
    ('max_concurrent_runs', 0, 'max_concurrent_runs: must be at least 1'),
    ('max_concurrent_runs', 65, 'max_concurrent_runs: must be at most 64'),
    ('name', '', 'name: must not be empty'),
    ('api_secret', 'tab\there', 'api_secret: must contain only printable characters'),
])
async def test_engine_input_is_validated(api, admin, field, value, message) -> None:
    body = {'name': 'New', 'base_url': 'https://erp.example.com', 'api_key': 'k', 'api_secret': 's'}
    body[field] = value

    answer = await api.post('/api/v1/engines', headers=admin, json=body)

    assert answer.status_code == 422
    assert answer.json()['detail'].startswith(message)


async def test_unknown_engine_is_404(api, admin) -> None:
    patched = await api.patch('/api/v1/engines/999', headers=admin, json={'api_key': 'x'})
    checked = await api.post('/api/v1/engines/999/check', headers=admin)

    for answer in (patched, checked):
        assert answer.status_code == 404 and answer.json() == {'detail': 'no engine with id 999'}


async def test_an_unreachable_engine_is_recorded_offline_with_the_reason(api, admin, engine_id) -> None:
    answer = await api.post(f'/api/v1/engines/{engine_id}/check', headers=admin)

    assert answer.status_code == 200
    assert answer.json()['health'] == 'offline' and 'unreachable' in answer.json()['error']
    listed = (await api.get('/api/v1/engines', headers=admin)).json()[0]
    assert listed['health'] == 'offline' and listed['last_checked_at'] and listed['last_error']


def test_the_sandbox_engine_is_registered_once_and_follows_its_url(db, secrets) -> None:
    first = engines.ensure_sandbox_engine(db, secrets, 'http://127.0.0.1:8080/sandbox')
    again = engines.ensure_sandbox_engine(db, secrets, 'http://127.0.0.1:9090/sandbox/')

    assert first.id == again.id and again.base_url == 'http://127.0.0.1:9090/sandbox'
    assert (again.name, again.api_key) == ('Sandbox', 'sandbox')
    assert engines.engine_secret(secrets, again) == 'sandbox'
    assert len(engines.list_engines(db)) == 1


def _sandbox_factory():
    try:
        from sandbox import create_app
    except ImportError:
        return None
    return create_app


@pytest.mark.skipif(_sandbox_factory() is None, reason='sandbox.create_app is not there yet')
async def test_checking_the_sandbox_records_it_online_with_its_version(app, api, admin, db, secrets) -> None:
    app.state.erpnext_transport = httpx.ASGITransport(app=_sandbox_factory()())
    engine = engines.ensure_sandbox_engine(db, secrets, 'http://sandbox')

    answer = await api.post(f'/api/v1/engines/{engine.id}/check', headers=admin)

    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result['health'] == 'online' and result['error'] is None
    assert result['user'] and result['version']
    assert engines.get_engine(db, engine.id).health == 'online'


# ---- the request budget (requests_per_second) -------------------------------------------------------

async def test_the_request_budget_defaults_to_50_and_is_in_every_engine_answer(api, admin) -> None:
    body = {'name': 'Small ERP', 'base_url': 'https://small.example.com', 'api_key': 'k', 'api_secret': 's'}
    default = await api.post('/api/v1/engines', headers=admin, json=body)
    chosen = await api.post('/api/v1/engines', headers=admin,
                            json={**body, 'name': 'Big ERP', 'requests_per_second': 400})

    assert (default.status_code, chosen.status_code) == (201, 201)
    assert default.json()['requests_per_second'] == 50 and chosen.json()['requests_per_second'] == 400
    engines_now = (await api.get('/api/v1/engines', headers=admin)).json()
    listed = {engine['name']: engine['requests_per_second'] for engine in engines_now}
    assert listed == {'Small ERP': 50, 'Big ERP': 400}


async def test_the_request_budget_is_edited_alone_and_audited(api, admin, db, engine_id) -> None:
    answer = await api.patch(f'/api/v1/engines/{engine_id}', headers=admin, json={'requests_per_second': 7})

    assert answer.status_code == 200, answer.text
    assert answer.json()['requests_per_second'] == 7 and answer.json()['max_concurrent_runs'] == 4
    assert engines.get_engine(db, engine_id).requests_per_second == 7
    [event] = (await api.get('/api/v1/audit', headers=admin)).json()['items'][:1]
    assert event['action'] == 'engine.updated'
    assert event['details']['changes'] == {'requests_per_second': [50, 7]}


@pytest.mark.parametrize(('value', 'message'), [
    (0, 'requests_per_second: must be at least 1'),
    (-1, 'requests_per_second: must be at least 1'),
    (10_001, 'requests_per_second: must be at most 10000'),
    ('abc', 'requests_per_second: must be a whole number'),
    (2.5, 'requests_per_second: must be a whole number'),
    (None, 'requests_per_second: must be a whole number'),
])
async def test_a_bad_request_budget_is_a_422_on_create_and_on_edit(api, admin, db, engine_id, value,
                                                                    message) -> None:
    body = {'name': 'New', 'base_url': 'https://erp.example.com', 'api_key': 'k', 'api_secret': 's',
            'requests_per_second': value}
    created = await api.post('/api/v1/engines', headers=admin, json=body)
    edited = await api.patch(f'/api/v1/engines/{engine_id}', headers=admin,
                             json={'requests_per_second': value})

    answers = [created] if value is None else [created, edited]  # null on edit means "keep it"
    for answer in answers:
        assert answer.status_code == 422, answer.text
        assert answer.json()['detail'].startswith(message)
    assert [e.name for e in engines.list_engines(db)] == ['Main ERP']
    assert engines.get_engine(db, engine_id).requests_per_second == 50


async def test_checks_over_the_network_share_the_apps_transport_without_closing_it(
        app, api, admin, db, secrets, live_sandbox) -> None:
    # QA pass 2, finding 3: with the embedded sandbox on, the app keeps one transport for every check;
    # the first check of an engine reached over the network closed it, and each later one was a 500.
    from engine.clients import EmbeddedSandboxTransport
    app.state.erpnext_transport = EmbeddedSandboxTransport('http://127.0.0.1:9/sandbox', _sandbox_factory()())
    engine = engines.ensure_sandbox_engine(db, secrets, live_sandbox.url)  # not under the embedded prefix

    for _ in range(3):
        answer = await api.post(f'/api/v1/engines/{engine.id}/check', headers=admin)
        assert answer.status_code == 200, answer.text
        assert answer.json()['health'] == 'online', answer.json()
    await app.state.erpnext_transport.aclose()


async def test_clients_for_an_app_without_a_process_leave_its_transport_open(app, db, secrets, live_sandbox) -> None:
    # An app without a process (the REST tests' app) gets engine clients for one use; closing them
    # must not close the transport the app shares between uses (the fault of QA pass 2, finding 3).
    from engine.clients import EmbeddedSandboxTransport
    from dashboard import state
    app.state.erpnext_transport = EmbeddedSandboxTransport('http://127.0.0.1:9/sandbox', _sandbox_factory()())
    engine = engines.ensure_sandbox_engine(db, secrets, live_sandbox.url)  # reached over the network
    for _ in range(2):
        async with state.engine_clients(app) as clients:
            assert await (await clients.get(engine.id)).logged_user()
    await app.state.erpnext_transport.aclose()
