"""QA pass 8, finding 3: a request ERPNext never answers. The client's per-request timeout applies on
every transport (the embedded sandbox's in-process ASGI one too, and an answer trickling in over the
network), the step's error names the request that was in flight and what to do, and a request the
step's time limit cut off still logs its `erpnext.request` line."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from helpers import fault, provision, steps

from engine.erpnext import ERPNextClient
from engine.erpnext import errors as erp
from engine.runner import RetryPolicy, Runner
from tests.observability.conftest import captured_logs

HUNG_CUSTOMER = {'method': 'POST', 'doctype': 'Customer', 'timeout': True, 'hang_s': 20}


async def test_the_timeout_applies_to_the_in_process_sandbox(sandbox_app, sandbox):
    await fault(sandbox, **HUNG_CUSTOMER)
    transport = httpx.ASGITransport(app=sandbox_app)
    async with ERPNextClient('http://sandbox', 'sandbox', 'sandbox', timeout=0.5, transport=transport) as client:
        started = time.monotonic()
        with pytest.raises(erp.RequestTimeoutError) as info:
            await client.insert('Customer', {'customer_name': 'Hung'}, name='Hung')

    assert time.monotonic() - started < 5
    assert info.value.message == "ERPNext did not answer POST Customer 'Hung' in time (within 0.5 s)"


async def test_over_the_network_an_answer_that_trickles_in_times_out():
    """aiohttp's read timeout restarts with every byte: the request's deadline does not."""
    async def trickle(reader, writer):
        await reader.read(65536)
        body = b'{"data": []}'
        head = f'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n'.encode()
        for byte in head:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.05)
        writer.write(b'\r\n' + body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(trickle, '127.0.0.1', 0)
    url = f'http://127.0.0.1:{server.sockets[0].getsockname()[1]}'
    async with server, ERPNextClient(url, 'key', 'secret', timeout=0.5) as client:
        started = time.monotonic()
        with pytest.raises(erp.RequestTimeoutError) as info:
            await client.get_list('Company')

    assert time.monotonic() - started < 2
    assert 'GET Company in time (within 0.5 s)' in info.value.message


async def test_a_request_timeout_names_the_request_and_what_to_do(db, clients, make_tenant, sandbox):
    clients.timeout = 0.3  # the clients this pool builds from now on
    runner = Runner(db, clients.get, policy=RetryPolicy(max_attempts=2, step_budget_s=30, attempt_timeout_s=20,
                                                        backoff_s=0.01, backoff_max_s=0.02))
    await fault(sandbox, **HUNG_CUSTOMER)

    detail = await provision(db, runner, make_tenant('Acme Retail').id)

    customer = steps(detail)['create_walkin_customer']
    assert (customer['status'], customer['attempts']) == ('FAILED', 2)
    assert customer['error'] == (
        "ERPNext did not answer POST Customer 'Walk-in Customer - AR' in time (within 0.3 s): check ERPNext's "
        'load (its workers and error log); ERPNext may have created the document all the same: a retry '
        'adopts it, so retrying is safe.')


async def test_a_step_time_limit_names_what_was_in_flight_and_logs_the_cut_off_request(
        db, clients, make_tenant, sandbox):
    runner = Runner(db, clients.get, policy=RetryPolicy(max_attempts=1, step_budget_s=30, attempt_timeout_s=0.5,
                                                        backoff_s=0.01, backoff_max_s=0.02))
    await fault(sandbox, **HUNG_CUSTOMER)

    with captured_logs('json') as stream:
        detail = await provision(db, runner, make_tenant('Acme Retail').id)

    customer = steps(detail)['create_walkin_customer']
    assert customer['error'] == (
        "ERPNext did not answer POST Customer 'Walk-in Customer - AR' within the step's time limit (0.5 s): "
        "check ERPNext's load (its workers and error log); ERPNext may have created the document all the "
        'same: a retry adopts it, so retrying is safe.')
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    cut = [line for line in lines if line['event'] == 'erpnext.request' and line.get('doctype') == 'Customer'
           and line.get('method') == 'POST']
    assert [line['outcome'] for line in cut] == ['cancelled']
    assert cut[0]['correlation_id'] == detail['correlation_id'] and cut[0]['duration_ms'] >= 400
    assert 'sandbox:sandbox' not in stream.getvalue()
