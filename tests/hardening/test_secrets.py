"""No secret leaves the service: after a full provisioning through the real service, neither an
engine's API secret nor the admin password is in any log line, page, API answer, database text
column or session file.

The engine under test is a second sandbox served over real HTTP with its own distinctive secret,
registered through the API like an operator would register an ERPNext site."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hardening_helpers import (
    ADMIN_PASSWORD,
    browser_sign_in,
    chrome,
    environment,
    page_html,
    page_routes,
    provision,
    start_service,
    table_rows,
)

from sandbox import create_app

ENGINE_SECRET = 'THE-SECRET-h4rd3n1ng-0b5e55ed'
ENGINE_KEY = 'hardening-key'


@pytest.fixture
def sandbox_app():
    """The `live_sandbox` fixture serves this: a sandbox that knows only our key pair (and the demo one)."""
    return create_app(api_keys={ENGINE_KEY: (ENGINE_SECRET, 'Administrator')})


@pytest.fixture
def service(tmp_path):
    running = start_service(environment(tmp_path), tmp_path / 'service.log')
    yield running
    running.stop()


def test_no_secret_in_logs_pages_api_answers_or_database(service, live_sandbox, tmp_path):
    api = service.client()
    answers = [api.post('/api/v1/engines', json={'name': 'Remote ERP', 'base_url': live_sandbox.url,
                                                 'api_key': ENGINE_KEY, 'api_secret': ENGINE_SECRET})]
    assert answers[0].status_code == 201, answers[0].text
    engine_id = answers[0].json()['id']
    answers.append(api.patch(f'/api/v1/engines/{engine_id}', json={'api_secret': ENGINE_SECRET}))
    answers.append(api.post(f'/api/v1/engines/{engine_id}/check'))
    assert answers[-1].json()['health'] == 'online', answers[-1].text

    run = provision(api, 'Secretive Retail', engine='Remote ERP', stores=2)
    assert run['status'] == 'SUCCEEDED', run
    assert len(run['steps']) == 11 and all(step['status'] == 'SUCCEEDED' for step in run['steps'])
    answers.append(api.post('/api/v1/auth/token', json={'username': 'admin', 'password': ADMIN_PASSWORD}))
    answers += every_get_answer(api, ids={'engine_id': engine_id, 'tenant_id': run['tenant_id'],
                                          'run_id': run['id'], 'user_id': 1})
    pages = every_page(service.url, tenant_id=run['tenant_id'])
    service.stop()  # every log line written and flushed
    logs = service.output().splitlines()

    haystacks = {
        **{f'log line {number}': line for number, line in enumerate(logs, 1)},
        **{f'page {path}': html for path, html in pages.items()},
        **{f'answer {answer.request.method} {answer.request.url.path}': answer.text for answer in answers},
        **database_texts(tmp_path / 'provisioner.db'),
        **{f'session file {path.name}': path.read_text() for path in (tmp_path / 'nicegui').glob('*')},
    }
    # The search looks at the real material: the run's id, the tenant and the key are all in it.
    assert any(run['correlation_id'] in line for line in logs)
    assert any('Secretive Retail' in html for html in pages.values())
    assert any(ENGINE_KEY in answer.text for answer in answers)
    for secret in (ENGINE_SECRET, ADMIN_PASSWORD):
        leaks = [where for where, text in haystacks.items() if secret in text]
        assert not leaks, f'{secret!r} found in: {leaks}'


def every_get_answer(api, ids: dict[str, int]) -> list:
    """One answer of every GET of the OpenAPI document (path ids filled in), plus the ops endpoints."""
    document = api.get('/api/v1/openapi.json')
    answers = [document]
    for path, operations in document.json()['paths'].items():
        if 'get' in operations:
            answer = api.get(path.format(**ids))
            assert answer.status_code == 200, (path, answer.text)
            answers.append(answer)
    answers += [api.get(path) for path in ('/healthz', '/readyz', '/metrics')]
    return answers


def every_page(base_url: str, tenant_id: int) -> dict[str, str]:
    """The rendered HTML of every dashboard page, signed in as admin (the login page signed out)."""
    driver = chrome()
    try:
        pages = {'/login (signed out)': page_html(driver, f'{base_url}/login', settle_text='Sign in')}
        browser_sign_in(driver, base_url)
        for route in page_routes():  # /logout too: opening it only asks
            pages[route] = page_html(driver, base_url + route.format(tenant_id=tenant_id))
        return pages
    finally:
        driver.quit()


def database_texts(database: Path) -> dict[str, str]:
    """Every row of every table as text (JSON columns included), keyed by table and row number."""
    return {f'table {table} row {number}': json.dumps(row, default=str)
            for table, rows in table_rows(database).items() for number, row in enumerate(rows, 1)}
