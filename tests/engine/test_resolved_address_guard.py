"""QA finding (network safety 1): an engine URL whose host NAME resolves to a cloud metadata or
link-local address is never connected to. The engine's own network transport (aiohttp) looks names
up through a resolver we hand it; here that resolver is a small hosts table (aiohttp's resolver
interface, where aiohttp takes one), so 'meta.test' can resolve to 169.254.169.254 and the rest of
the path (the guard, aiohttp's connector, the client, the runner) is the real one, against a real
socket on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from helpers import provision, steps

from engine.clients import EngineClients
from engine.erpnext import ERPNextClient
from engine.erpnext import errors as erp
from engine.erpnext.client import network_transport
from engine.runner import RetryPolicy, Runner
from storage.tables import Engine, Tenant
from tests.support.name_resolution import CountingServer, HostsTable

ONE_TRY = RetryPolicy(max_attempts=1, step_budget_s=10, attempt_timeout_s=10, backoff_s=0.01, backoff_max_s=0.02)


@pytest.fixture
async def server() -> AsyncIterator[CountingServer]:
    async with CountingServer() as running:
        yield running


async def test_a_name_resolving_to_an_allowed_address_is_connected_to(server) -> None:
    hosts = HostsTable({'erp.test': ['127.0.0.1']})
    async with ERPNextClient(f'http://erp.test:{server.port}', 'key', 'secret',
                             transport=network_transport(hosts), owns_transport=True) as client:
        await client.ping()

    assert hosts.looked_up == ['erp.test'] and server.connections == 1


# The refused address comes first, a reachable one after it: without the guard aiohttp tries the next
# address when the first fails (and reaches the server), so a connection would be counted.
@pytest.mark.parametrize(('address', 'kind'), [
    ('169.254.169.254', 'a cloud metadata address'), ('fd00:ec2::254', 'a cloud metadata address'),
    ('100.100.100.200', 'a cloud metadata address'), ('::ffff:169.254.169.254', 'a cloud metadata address'),
    ('169.254.10.1', 'a link-local address'), ('fe80::1', 'a link-local address'),
])
async def test_a_name_resolving_to_a_metadata_or_link_local_address_is_not_connected_to(server, address,
                                                                                        kind) -> None:
    hosts = HostsTable({'meta.test': [address, '127.0.0.1']})
    shown = address.removeprefix('::ffff:')
    async with ERPNextClient(f'http://meta.test:{server.port}', 'key', 'secret', timeout=3,
                             transport=network_transport(hosts), owns_transport=True) as client:
        started = time.monotonic()
        with pytest.raises(erp.UnavailableError) as info:
            await client.ping()

    assert server.connections == 0 and time.monotonic() - started < 1
    assert (f"engine URL's host 'meta.test' resolves to {shown}, {kind}: Provisioner never connects there"
            "; point the engine's URL, or the name's DNS record, at the ERPNext site") in info.value.message


async def test_the_check_engine_step_says_where_the_name_resolves_and_sends_nothing(db, secrets, server) -> None:
    hosts = HostsTable({'meta.test': ['169.254.169.254', '127.0.0.1']})
    with db.session() as session:
        engine = Engine(name='Cloud ERP', base_url=f'http://meta.test:{server.port}', api_key='key',
                        api_secret_encrypted=secrets.encrypt('secret-123'))
        session.add(engine)
        session.flush()
        tenant = Tenant(name='Acme', company_name='Acme', country='United States', currency='USD',
                        admin_email='ops@acme.test', stores=1, engine_id=engine.id, created_by='tests')
        session.add(tenant)
    clients = EngineClients(db, secrets, timeout=3, transport_for=lambda engine: network_transport(hosts))
    try:
        detail = await provision(db, Runner(db, clients.get, policy=ONE_TRY), tenant.id)
    finally:
        await clients.aclose()

    check = steps(detail)['check_engine']
    # unreachable as far as runs go: the run waits for its engine (parked), the step says why
    assert (detail['status'], check['status'], check['error_category']) == ('QUEUED', 'FAILED', 'transient')
    assert "host 'meta.test' resolves to 169.254.169.254, a cloud metadata address: Provisioner never connects " \
           'there' in check['error']
    assert server.connections == 0 and 'secret-123' not in check['error']
