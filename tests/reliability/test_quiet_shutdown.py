"""QA pass 8, finding 6: a clean SIGTERM while a scheduler job is in flight (here the engine health check,
waiting on an ERPNext that does not answer) ends that job quietly: no ERROR line, no traceback."""

from __future__ import annotations

import json
import time

import httpx

from tests.support.service import ServiceProcess, clean_environment

PASSWORD = 'admin-password-1'


def test_sigterm_during_a_health_check_logs_no_error(tmp_path):
    env = clean_environment(tmp_path, database='p.db', PROVISIONER_ADMIN_PASSWORD=PASSWORD)
    server = ServiceProcess(env, tmp_path / 'server.log', timeout=30)
    try:
        headers = server.token()
        engine = httpx.get(f'{server.url}/api/v1/engines', headers=headers).json()[0]
        httpx.post(f'{server.url}/sandbox/__sandbox__/faults', json={'offline': True}).raise_for_status()
        check = httpx.post(f"{server.url}/api/v1/engines/{engine['id']}/check", headers=headers, timeout=30)
        assert check.json()['health'] == 'offline', check.text  # now the health job checks it every 5 s
        checked = time.monotonic()
        httpx.delete(f'{server.url}/sandbox/__sandbox__/faults').raise_for_status()
        httpx.post(f'{server.url}/sandbox/__sandbox__/faults', json={'timeout': True, 'hang_s': 60}).raise_for_status()
        # The health job checks the offline engine again 4.5-10 s after that check, and its ping then
        # hangs for the check's 10 s timeout: 11 s after the check, it is in flight.
        time.sleep(max(0.0, checked + 11 - time.monotonic()))

        assert server.stop() == 0
    finally:
        server.kill()

    lines = [json.loads(line) for line in server.output().splitlines() if line.startswith('{')]
    assert [line['event'] for line in lines if line.get('event') == 'process.stopped']
    errors = [line for line in lines if line.get('level') in ('error', 'critical')]
    assert not errors, errors
    assert 'Traceback' not in server.output() and 'CancelledError' not in server.output()
