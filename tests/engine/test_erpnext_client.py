"""The ERPNext client maps every kind of answer onto its small error tree, never crashing.

Answers ERPNext itself gives come from the sandbox; the malformed ones (proxy pages, truncated
JSON, wrong shapes) come from httpx.MockTransport, the fake at the boundary httpx owns."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from engine.erpnext import ERPNextClient
from engine.erpnext import errors as erp


def client_for(handler) -> ERPNextClient:
    return ERPNextClient('http://erp', 'key', 'supersecret', transport=httpx.MockTransport(handler))


def sandbox_client(app, secret: str = 'sandbox') -> ERPNextClient:
    return ERPNextClient('http://sandbox', 'sandbox', secret, transport=httpx.ASGITransport(app=app))


def server_messages(*texts: str) -> str:
    return json.dumps([json.dumps({'message': text, 'title': 'Message', 'indicator': 'red'}) for text in texts])


@pytest.mark.parametrize(('status', 'body', 'expected'), [
    (417, {'exc_type': 'ValidationError', '_server_messages': server_messages('Abbreviation <strong>AR</strong> used')},
     erp.ValidationError),
    (409, {'exc_type': 'DuplicateEntryError'}, erp.DuplicateError),
    (404, {'exc_type': 'DoesNotExistError'}, erp.NotFoundError),
    (401, {'exc_type': 'AuthenticationError'}, erp.AuthError),
    (403, {'exc_type': 'PermissionError', '_error_message': 'No permission for Company'}, erp.AuthError),
    (417, {'exc_type': 'TimestampMismatchError'}, erp.TimestampMismatchError),
    (500, {'exc_type': 'QueryDeadlockError'}, erp.UnavailableError),
    (503, {'exc_type': 'SessionStopped'}, erp.UnavailableError),
    (429, {'exc_type': 'TooManyRequestsError'}, erp.RateLimitedError),
])
async def test_status_and_exc_type_map_to_the_error_tree(status, body, expected):
    async with client_for(lambda request: httpx.Response(status, json=body)) as client:
        with pytest.raises(expected) as info:
            await client.get_doc('Company', 'Acme')
    assert info.value.status == status
    assert info.value.doctype == 'Company' and info.value.name == 'Acme'


async def test_server_messages_are_decoded_twice_and_stripped_of_html():
    body = {'exc_type': 'MandatoryError', '_server_messages': server_messages(
        'Error: Value missing for Company: Default Currency', 'Error: Value missing for Company: <b>Country</b>')}
    async with client_for(lambda request: httpx.Response(417, json=body)) as client:
        with pytest.raises(erp.ValidationError) as info:
            await client.insert('Company', {'company_name': 'Acme'})
    assert info.value.message == ('Error: Value missing for Company: Default Currency; '
                                  'Error: Value missing for Company: Country')


@pytest.mark.parametrize(('status', 'content', 'expected', 'fragment'), [
    (502, b'<html><body>Bad Gateway</body></html>', erp.UnavailableError, 'not a JSON answer'),
    (200, b'{"data": {"name": "Ac', erp.InvalidResponseError, 'not JSON'),
    (200, b'<html>login</html>', erp.InvalidResponseError, 'not JSON'),
    (200, b'{"data": ["not", "a", "doc"]}', erp.InvalidResponseError, 'expected {"data": {document}}'),
    (200, b'[]', erp.InvalidResponseError, 'expected'),
    (200, b'', erp.InvalidResponseError, 'not JSON'),
])
async def test_unreadable_answers_become_clear_errors(status, content, expected, fragment):
    async with client_for(lambda request: httpx.Response(status, content=content)) as client:
        with pytest.raises(expected) as info:
            await client.get_doc('Company', 'Acme')
    assert fragment in info.value.message


async def test_list_with_wrong_shape_is_invalid_response():
    async with client_for(lambda request: httpx.Response(200, json={'data': {'name': 'x'}})) as client:
        with pytest.raises(erp.InvalidResponseError):
            await client.get_list('Company')


async def test_rate_limit_carries_retry_after():
    response = httpx.Response(429, headers={'Retry-After': '7'}, json={'exc_type': 'TooManyRequestsError'})
    async with client_for(lambda request: response) as client:
        with pytest.raises(erp.RateLimitedError) as info:
            await client.get_list('Company')
    assert info.value.retry_after == 7.0


async def test_connection_errors_and_timeouts_are_transient():
    def refuse(request):
        raise httpx.ConnectError('refused', request=request)

    def slow(request):
        raise httpx.ReadTimeout('slow', request=request)

    async with client_for(refuse) as client:
        with pytest.raises(erp.UnavailableError):
            await client.ping()
    async with client_for(slow) as client:
        with pytest.raises(erp.RequestTimeoutError):
            await client.ping()


async def test_the_secret_never_appears_in_messages():
    body = {'exc_type': 'ValidationError', '_server_messages': server_messages('bad token supersecret here')}
    async with client_for(lambda request: httpx.Response(417, json=body)) as client:
        with pytest.raises(erp.ValidationError) as info:
            await client.get_list('Company')
    assert 'supersecret' not in info.value.message and '***' in info.value.message


async def test_the_published_demo_secret_is_a_word_like_any_other():
    """The embedded sandbox's `sandbox`/`sandbox` pair is in the README: its faults read 'sandbox rule 1'."""
    body = {'exc_type': 'ValidationError', '_server_messages': server_messages('Injected fault (sandbox rule 1)')}
    transport = httpx.MockTransport(lambda request: httpx.Response(417, json=body))
    async with ERPNextClient('http://erp', 'sandbox', 'sandbox', transport=transport) as client:
        with pytest.raises(erp.ValidationError) as info:
            await client.get_list('Company')
    assert info.value.message == 'Injected fault (sandbox rule 1)'


async def test_requests_carry_token_auth_request_id_and_encoded_names():
    seen = []

    def record(request: httpx.Request):
        seen.append(request)
        return httpx.Response(200, json={'data': {'name': 'Store 1 - A/B'}})

    async with client_for(record) as client:
        await client.bound('corr-123').get_doc('Warehouse', 'Store 1 - A/B')
    request = seen[0]
    assert request.headers['Authorization'] == 'token key:supersecret'
    assert request.headers['X-Request-ID'] == 'corr-123'
    assert request.url.raw_path == b'/api/resource/Warehouse/Store%201%20-%20A%2FB'


async def test_session_cookies_of_an_answer_are_not_sent_back_and_bodies_are_compact_utf8_json():
    """ERPNext sets `sid=Guest` and friends on API answers; token auth is stateless, so they stay unsent."""
    seen = []

    def record(request: httpx.Request):
        seen.append(request)
        data = {'name': 'Café'} if request.method == 'POST' else [{'name': 'Café'}]
        return httpx.Response(200, json={'data': data},
                              headers=[('Set-Cookie', 'sid=Guest; Path=/'), ('Set-Cookie', 'system_user=no; Path=/')])

    async with client_for(record) as client:
        await client.insert('Customer', {'customer_name': 'Café'})
        await client.get_list('Customer', filters={'customer_name': 'Café'}, limit=5)
    insert, listing = seen
    assert 'cookie' not in insert.headers and 'cookie' not in listing.headers
    assert insert.headers['Content-Type'] == 'application/json'
    assert insert.content == '{"customer_name":"Café"}'.encode()
    assert json.loads(listing.url.params['filters']) == {'customer_name': 'Café'}
    assert listing.url.params['limit_page_length'] == '5'


async def test_list_sends_json_encoded_filters_and_no_limit(sandbox_app):
    async with sandbox_client(sandbox_app) as client:
        rows = await client.get_list('Mode of Payment', filters=[['name', 'in', ['Cash', 'Cheque']]],
                                     fields=['name', 'type'])
    assert sorted((row['name'], row['type']) for row in rows) == [('Cash', 'Cash'), ('Cheque', 'Bank')]


async def test_against_the_sandbox_auth_and_methods(sandbox_app):
    async with sandbox_client(sandbox_app) as client:
        await client.ping()
        assert await client.logged_user() == 'Administrator'
        assert 'frappe' in await client.versions()
    async with sandbox_client(sandbox_app, secret='wrong') as client:
        await client.ping()  # guest-allowed: proves reachability without credentials
        with pytest.raises(erp.AuthError):
            await client.logged_user()


async def test_against_the_sandbox_duplicate_and_not_found(sandbox_app):
    async with sandbox_client(sandbox_app) as client:
        assert await client.find_doc('Company', 'Nope') is None
        doc = {'company_name': 'Acme Retail', 'default_currency': 'USD', 'country': 'United States'}
        created = await client.insert('Company', doc)
        assert created.doc['abbr'] == 'AR'
        with pytest.raises(erp.DuplicateError) as info:
            await client.insert('Company', doc)
        assert 'already exists' in info.value.message


async def _server(handler) -> tuple[asyncio.Server, str]:
    server = await asyncio.start_server(handler, '127.0.0.1', 0)
    return server, f'http://127.0.0.1:{server.sockets[0].getsockname()[1]}'


async def test_over_the_network_a_refused_connection_is_unreachable():
    server, url = await _server(lambda reader, writer: None)
    server.close()
    await server.wait_closed()  # nothing listens on that port any more
    async with ERPNextClient(url, 'key', 'secret') as client:
        with pytest.raises(erp.UnavailableError) as info:
            await client.get_list('Company')
    assert 'unreachable' in info.value.message and 'cannot connect' in info.value.message


async def test_over_the_network_a_silent_server_times_out():
    async def silent(reader, writer):
        await reader.read(65536)
        await asyncio.sleep(5)
        writer.close()

    server, url = await _server(silent)
    async with server, ERPNextClient(url, 'key', 'secret', timeout=0.3) as client:
        with pytest.raises(erp.RequestTimeoutError) as info:
            await client.get_list('Company')
    assert 'in time' in info.value.message


async def test_over_the_network_a_dropped_or_garbled_answer_is_unreachable():
    async def hang_up(reader, writer):
        await reader.read(65536)
        writer.close()

    async def garble(reader, writer):
        await reader.read(65536)
        writer.write(b'this is not HTTP\r\n\r\n')
        await writer.drain()
        writer.close()

    for handler in (hang_up, garble):
        server, url = await _server(handler)
        async with server, ERPNextClient(url, 'key', 'secret', timeout=2) as client:
            with pytest.raises(erp.UnavailableError) as info:
                await client.get_list('Company')
        assert 'unreachable' in info.value.message
