"""API limits: the request body cap (413 before the body is read in full) and tenant names whose
spaces are normalised before they are stored or compared."""

from __future__ import annotations

import json
import re

import pytest
from api_helpers import tenant_body
from pydantic import ValidationError
from starlette.requests import Request

from dashboard import ops
from dashboard.api.body_limit import MAX_BODY_BYTES
from engine.validation import TenantCreate, describe_errors

TOO_LARGE = {'detail': 'The request body is larger than 1 MiB'}
CHUNK = 64 * 1024


class Chunks:
    """`payload` as an async request body of 64 KiB chunks that counts how many the server pulled."""

    def __init__(self, payload: bytes, size: int = CHUNK) -> None:
        self.parts = [payload[start:start + size] for start in range(0, len(payload), size)]
        self.pulled = 0

    async def __aiter__(self):
        for part in self.parts:
            self.pulled += 1
            yield part


def padded_tenant(size: int) -> bytes:
    """A valid tenant body as JSON, padded with blanks to exactly `size` bytes."""
    text = json.dumps(tenant_body('Acme Retail')).encode()
    return text[:-1] + b' ' * (size - len(text)) + b'}'


# ---- the body cap --------------------------------------------------------------------------------

async def test_a_declared_length_over_the_cap_is_refused_before_any_byte_is_read(api, admin, engine_id):
    body = Chunks(padded_tenant(MAX_BODY_BYTES + 1))
    headers = {**admin, 'Content-Type': 'application/json', 'Content-Length': str(MAX_BODY_BYTES + 1)}

    answer = await api.post('/api/v1/tenants', headers=headers, content=body)

    assert answer.status_code == 413
    assert answer.json() == TOO_LARGE
    assert answer.headers['content-type'] == 'application/json'
    assert body.pulled == 0
    assert (await api.get('/api/v1/tenants', headers=admin)).json()['total'] == 0


async def test_a_chunked_body_is_refused_once_it_grows_past_the_cap(api, admin, engine_id):
    body = Chunks(padded_tenant(2 * MAX_BODY_BYTES))
    headers = {**admin, 'Content-Type': 'application/json'}

    answer = await api.post('/api/v1/tenants', headers=headers, content=body)

    assert answer.status_code == 413
    assert answer.json() == TOO_LARGE
    assert answer.headers['connection'] == 'close'
    assert body.pulled == MAX_BODY_BYTES // CHUNK + 1 < len(body.parts)  # stopped at the chunk past the cap
    assert (await api.get('/api/v1/tenants', headers=admin)).json()['total'] == 0


@pytest.mark.parametrize('declared', [True, False], ids=['content-length', 'chunked'])
async def test_a_body_of_exactly_the_cap_is_accepted(api, admin, engine_id, declared):
    payload = padded_tenant(MAX_BODY_BYTES)
    headers = {**admin, 'Content-Type': 'application/json'}
    if declared:
        headers['Content-Length'] = str(len(payload))

    answer = await api.post('/api/v1/tenants', headers=headers, content=Chunks(payload))

    assert len(payload) == MAX_BODY_BYTES
    assert answer.status_code == 201, answer.text
    assert answer.json()['name'] == 'Acme Retail'


async def test_every_api_route_that_takes_a_body_is_capped(app, api):
    """Walks the app's own OpenAPI paths, so a new API route cannot escape the cap."""
    headers = {'Content-Type': 'application/json', 'Content-Length': str(MAX_BODY_BYTES + 1)}
    operations = [(method.upper(), path) for path, methods in app.openapi()['paths'].items()
                  for method in methods if method in ('post', 'put', 'patch', 'delete')]

    for method, path in operations:
        url = re.sub(r'{[^}]+}', '1', path)
        answer = await api.request(method, url, headers=headers, content=Chunks(b'{}'))
        assert (answer.status_code, answer.json()) == (413, TOO_LARGE), f'{method} {path}'
    assert len(operations) >= 15  # auth, users, engines, tenants, runs and lifecycle actions


async def test_paths_outside_the_api_are_not_capped(app, api):
    app.include_router(ops.router)

    async def upload(request: Request) -> dict[str, int]:  # stands in for a NiceGUI upload
        return {'bytes': len(await request.body())}

    app.add_api_route('/_upload', upload, methods=['POST'])
    big = b'x' * (MAX_BODY_BYTES + 1)

    uploaded = await api.post('/_upload', content=Chunks(big))
    metrics = await api.request('GET', '/metrics', headers={'Content-Length': str(len(big))}, content=big)

    assert (uploaded.status_code, uploaded.json()) == (200, {'bytes': MAX_BODY_BYTES + 1})
    assert metrics.status_code == 200 and 'provisioner_runs_total' in metrics.text


# ---- tenant names: spaces normalised, compared without regard to case ------------------------------

async def test_a_name_that_differs_only_in_spaces_or_case_is_a_conflict(api, admin, engine_id):
    first = await api.post('/api/v1/tenants', headers=admin, json=tenant_body('Acme Retail'))
    assert first.status_code == 201, first.text

    answer = await api.post('/api/v1/tenants', headers=admin, json=tenant_body('  acme   RETAIL '))

    assert answer.status_code == 409
    assert answer.json() == {'detail': "a tenant named 'Acme Retail' already exists"}
    assert (await api.get('/api/v1/tenants', headers=admin)).json()['total'] == 1


async def test_a_name_is_stored_with_one_plain_space_between_words(api, admin, engine_id):
    answer = await api.post('/api/v1/tenants', headers=admin,
                            json=tenant_body('Acme \u00a0 Retail\u3000Group'))

    assert answer.status_code == 201, answer.text
    tenant = answer.json()
    assert (tenant['name'], tenant['company_name']) == ('Acme Retail Group', 'Acme Retail Group')
    again = await api.post('/api/v1/tenants', headers=admin, json=tenant_body('Acme Retail Group'))
    assert again.status_code == 409


async def test_a_tab_inside_a_name_is_refused_not_collapsed(api, admin, engine_id):
    answer = await api.post('/api/v1/tenants', headers=admin, json=tenant_body('Acme\tRetail'))

    assert answer.status_code == 422
    assert answer.json()['errors'][0]['field'] == 'name'
    assert 'no tabs, line breaks' in answer.json()['detail']


def test_the_form_model_normalises_and_refuses_like_the_api():
    """The New tenant dialog validates with TenantCreate, as the REST body does."""
    fields = tenant_body(engine=1)

    assert TenantCreate.model_validate({**fields, 'name': ' Acme \u2009  Retail  '}).name == 'Acme Retail'
    with pytest.raises(ValidationError) as refused:
        TenantCreate.model_validate({**fields, 'name': 'Acme\nRetail'})
    [(field, message)] = describe_errors(refused.value)
    assert field == 'name' and message.startswith('must contain only printable characters')
