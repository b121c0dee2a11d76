"""QA finding (network safety 1): the engine URL check through the REST API. Cloud metadata addresses
outside 169.254.0.0/16 (AWS's IPv6 one, Alibaba Cloud's) and names that spell out a metadata address
for wildcard DNS are refused, and so is a host that is no host name or IP literal: a 422 naming the
problem, never a 201 or a 500. A name that passes but RESOLVES to a metadata address is checked
when the engine is contacted: its health check says so and sends nothing there."""

from __future__ import annotations

import pytest

from engine.erpnext.client import network_transport
from tests.support.name_resolution import CountingServer, HostsTable

ENGINE = {'api_key': 'key-2', 'api_secret': 'secret-2'}


async def create_and_edit(api, admin, engine_id: int, url: str) -> list:
    created = await api.post('/api/v1/engines', headers=admin, json={**ENGINE, 'name': 'Cloud', 'base_url': url})
    edited = await api.patch(f'/api/v1/engines/{engine_id}', headers=admin, json={'base_url': url})
    return [created, edited]


@pytest.mark.parametrize(('url', 'shown'), [
    ('http://169.254.169.254.nip.io/', "'169.254.169.254.nip.io' (the name spells out 169.254.169.254, a cloud "
                                       'metadata address: wildcard DNS such as nip.io resolves it there)'),
    ('http://app-169-254-169-254.sslip.io', "'app-169-254-169-254.sslip.io' (the name spells out 169.254.169.254"),
    ('http://[fd00:ec2::254]/', "'fd00:ec2::254', a cloud metadata address"),
    ('http://[fd20:ce::254]:80', "'fd20:ce::254', a cloud metadata address"),
    ('http://100.100.100.200/', "'100.100.100.200', a cloud metadata address"),
    ('http://[::ffff:100.100.100.200]/', "'::ffff:100.100.100.200', a cloud metadata address"),
    ('http://instance-data/latest', "'instance-data':"),
    # IPv6 spellings that carry 169.254.169.254 (review of the day #8): NAT64 (DNS64 on an IPv6-only
    # host hands these out), 6to4, IPv4-compatible
    ('http://[64:ff9b::a9fe:a9fe]/', "'64:ff9b::a9fe:a9fe', a cloud metadata address"),
    ('http://[2002:a9fe:a9fe::1]/', "'2002:a9fe:a9fe::1', a cloud metadata address"),
    ('http://[::a9fe:a9fe]/', "'::a9fe:a9fe', a cloud metadata address"),
])
async def test_more_metadata_addresses_are_refused(api, admin, engine_id, url, shown) -> None:
    for answer in await create_and_edit(api, admin, engine_id, url):
        assert answer.status_code == 422, answer.text
        assert answer.json()['detail'].startswith(f'base_url: must not point at {shown}')
        assert 'are never an ERPNext site' in answer.json()['detail']


@pytest.mark.parametrize(('url', 'problem'), [
    ('http://exa mple.com', "'exa mple.com' contains a space"),
    ('http://erp..example.com', "'erp..example.com' has an empty part between dots"),
    ('http://.example.com', "'.example.com' has an empty part between dots"),
    (f'http://{"a" * 64}.example.com', 'has a part longer than 63 characters'),
    ('http://erp!.example.com', "'erp!.example.com' has characters a host name cannot have in 'erp!'"),
    ('http://exa%20mple.com', "'exa%20mple.com' has characters a host name cannot have"),
    ('http://300.1.1.1:8000', "'300.1.1.1' is not a valid IPv4 address"),
    ('http://127.1:8000', "'127.1' is an unusual spelling of the IP address 127.0.0.1: write it as 127.0.0.1"),
    (f'http://{"a." * 127}com', 'is longer than 253 characters'),
])
async def test_a_host_that_is_no_host_name_or_ip_literal_is_refused(api, admin, engine_id, url, problem) -> None:
    for answer in await create_and_edit(api, admin, engine_id, url):
        assert answer.status_code == 422, answer.text
        detail = answer.json()['detail']
        assert detail.startswith('base_url: has no valid host: ') and problem in detail, answer.text


@pytest.mark.parametrize(('url', 'detail'), [
    ('http://erp\x07.example.com', 'base_url: must not contain tabs, line breaks or other control characters'),
    ('http://erp.exa\tmple.com', 'base_url: must not contain tabs, line breaks or other control characters'),
    ('http://[fd00::zz]/', 'base_url: is not a valid URL ('),
    ('http://erp.example.com:http', 'base_url: is not a valid URL (Port could not be cast to integer'),
    ('http://erp.example.com:70000', 'base_url: is not a valid URL (Port out of range 0-65535)'),
    ('http://erp.example.com:0', 'base_url: must not name port 0'),
])
async def test_a_malformed_url_is_a_422_not_a_500(api, admin, engine_id, url, detail) -> None:
    for answer in await create_and_edit(api, admin, engine_id, url):
        assert answer.status_code == 422, answer.text
        assert answer.json()['detail'].startswith(detail), answer.text


@pytest.mark.parametrize('url', [
    'https://bücher.example', 'https://xn--bcher-kva.example', 'http://erp_next:8000', 'http://erp-1.internal.',
    'http://10.0.0.5.nip.io', 'http://[fd00::5]:8000', 'http://100.100.100.201', 'http://localhost:8001',
])
async def test_idna_names_private_addresses_and_docker_names_stay_allowed(api, admin, engine_id, url) -> None:
    created, edited = await create_and_edit(api, admin, engine_id, url)

    assert (created.status_code, edited.status_code) == (201, 200), (created.text, edited.text)
    assert created.json()['base_url'] == edited.json()['base_url'] == url.rstrip('/')


async def test_a_name_that_resolves_to_a_metadata_address_is_offline_with_the_reason(api, admin, app) -> None:
    hosts = HostsTable({'erp.cloud.test': ['169.254.169.254', '127.0.0.1']})
    transport = network_transport(hosts)
    app.state.erpnext_transport = transport
    async with CountingServer() as server:
        created = await api.post('/api/v1/engines', headers=admin, json={
            **ENGINE, 'name': 'Cloud', 'base_url': f'http://erp.cloud.test:{server.port}'})
        assert created.status_code == 201, created.text  # the name itself is fine

        checked = await api.post(f'/api/v1/engines/{created.json()["id"]}/check', headers=admin)
    await transport.aclose()

    assert checked.status_code == 200, checked.text
    assert checked.json()['health'] == 'offline' and server.connections == 0
    assert ("engine URL's host 'erp.cloud.test' resolves to 169.254.169.254, a cloud metadata address: Provisioner "
            "never connects there; point the engine's URL, or the name's DNS record, at the ERPNext site"
            ) in checked.json()['error']
    assert 'secret-2' not in checked.text
