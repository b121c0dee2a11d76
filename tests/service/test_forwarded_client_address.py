"""QA finding (network safety 2): the client address the sign-in lock-out, the rate limits and the
audit log key on. uvicorn believes X-Forwarded-For from 127.0.0.1 by default, so any local client
could name any address; Provisioner believes it only from the proxies PROVISIONER_FORWARDED_ALLOW_IPS
names (none by default). Tested on the real service (`python main.py`, as the browser tests start
it), through the address its audit log records for a failed sign-in."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from engine.settings import SettingsError, load_settings
from tests.support.service import ROOT, ServiceProcess, clean_environment

ADMIN_PASSWORD = 'proxy-admin-password-1'
FORGED = '203.0.113.7'


def recorded_client(service: ServiceProcess, source: str) -> str:
    """Sign in from the local address `source` with a wrong password, saying X-Forwarded-For: FORGED;
    the client address the audit log recorded for it."""
    with httpx.Client(transport=httpx.HTTPTransport(local_address=source)) as client:
        answer = client.post(f'{service.url}/api/v1/auth/token', headers={'X-Forwarded-For': FORGED},
                             json={'username': 'admin', 'password': 'not-the-password'})
    assert answer.status_code == 401, answer.text
    events = service.api('GET', '/audit', params={'action': 'auth.login_failed'}).json()['items']
    return events[0]['details']['client']


# Two local clients (Linux answers on all of 127.0.0.0/8): 127.0.0.1, which uvicorn's own default
# would trust, and 127.0.0.2, which plays the reverse proxy when the setting names it.
@pytest.mark.parametrize(('setting', 'clients'), [
    (None, ['127.0.0.1', '127.0.0.2']),  # default: no proxy is trusted, the socket's address counts
    ('10.0.0.2, 172.18.0.0/16', ['127.0.0.1', '127.0.0.2']),  # proxies elsewhere: neither client is one
    ('127.0.0.2', ['127.0.0.1', FORGED]),  # the proxy named: its X-Forwarded-For counts, and only its
])
def test_x_forwarded_for_counts_only_from_a_configured_proxy(tmp_path, setting, clients) -> None:
    extra = {'PROVISIONER_FORWARDED_ALLOW_IPS': setting} if setting else {}
    service = ServiceProcess(clean_environment(tmp_path, PROVISIONER_ADMIN_PASSWORD=ADMIN_PASSWORD, **extra),
                             tmp_path / 'service.log', timeout=60)
    try:
        assert [recorded_client(service, source) for source in ('127.0.0.1', '127.0.0.2')] == clients
    finally:
        service.stop()


def test_an_invalid_proxy_list_stops_start_up_with_one_line(tmp_path) -> None:
    env = clean_environment(tmp_path, PROVISIONER_ADMIN_PASSWORD=ADMIN_PASSWORD,
                            PROVISIONER_FORWARDED_ALLOW_IPS='10.0.0.2,proxy.internal')

    done = subprocess.run([sys.executable, 'main.py'], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)

    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "provisioner: PROVISIONER_FORWARDED_ALLOW_IPS: 'proxy.internal' is not an IP address or network "
        "('proxy.internal' does not appear to be an IPv4 or IPv6 address): give the reverse proxy's addresses, "
        "comma-separated (e.g. 10.0.0.2,172.18.0.0/16), or '*' (got '10.0.0.2,proxy.internal')"]


@pytest.mark.parametrize(('value', 'message'), [
    ('10.0.0.1/8', "'10.0.0.1/8' is not an IP address or network (10.0.0.1/8 has host bits set)"),
    ('*,10.0.0.2', "'*' trusts every address and stands alone"),
    ('300.1.2.3', "'300.1.2.3' is not an IP address or network"),
])
def test_a_mistyped_proxy_is_refused_rather_than_never_matched(clean_env, monkeypatch, value, message) -> None:
    monkeypatch.setenv('PROVISIONER_FORWARDED_ALLOW_IPS', value)

    with pytest.raises(SettingsError) as info:
        load_settings()

    assert str(info.value).startswith(f'PROVISIONER_FORWARDED_ALLOW_IPS: {message}')


@pytest.mark.parametrize(('value', 'proxies'), [
    ('', []), ('  ', []), ('*', ['*']), (' 10.0.0.2 , 172.18.0.0/16,::1 ', ['10.0.0.2', '172.18.0.0/16', '::1']),
])
def test_the_proxy_list_is_read_and_tidied(clean_env, monkeypatch, value, proxies) -> None:
    monkeypatch.setenv('PROVISIONER_FORWARDED_ALLOW_IPS', value)

    assert load_settings().trusted_proxies == proxies
