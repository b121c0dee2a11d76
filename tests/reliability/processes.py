"""Real processes for the reliability tests: `python main.py` and `python -m sandbox`, each on a free
port, talked to over HTTP, stopped with SIGTERM or killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
FIRST = ('Alpine', 'Birch', 'Cedar', 'Dune', 'Elm', 'Fern', 'Glen', 'Heath', 'Iris', 'Juniper')
SECOND = ('Kitchens', 'Lamps', 'Markets', 'Notions', 'Optics', 'Papers', 'Quilts', 'Rugs', 'Shoes', 'Toys')
PASSWORD = 'admin-password-1'
SANDBOX_AUTH = {'Authorization': 'token sandbox:sandbox'}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def company_name(number: int) -> str:
    """Up to 100 names whose initials (ERPNext's default abbreviation) all differ: concurrent
    companies with the same initials race for abbreviations, which is create_company's business."""
    return f'{FIRST[number // 10 % 10]} {SECOND[number % 10]}'


def clean_environment(**extra: str) -> dict[str, str]:
    """This environment without pytest's, NiceGUI's and our own variables (a child that sees
    PYTEST_CURRENT_TEST believes it runs under pytest), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(('PYTEST_', 'NICEGUI_', 'PROVISIONER_'))}
    env.update(extra)
    return env


class Child:
    """A subprocess whose output goes to a log file in the test's directory."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log = open(log_path, 'w+')  # noqa: SIM115 (closed in stop/kill)
        self.proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def wait_until_ready(self, url: str, *, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f'{self.proc.args} exited: {self.output()[-3000:]}')
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f'{self.proc.args} did not become ready: {self.output()[-3000:]}')

    def stop(self, timeout: float = 30) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL: no drain, no lease released, nothing flushed."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


class SandboxProcess(Child):
    """`python -m sandbox` in its own process, so that killing the service leaves ERPNext's
    documents alone, as a real ERPNext would."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        super().__init__([sys.executable, '-m', 'sandbox', '--port', str(self.port), '--log-level', 'warning',
                          '--user-throttle-limit', '100000'], clean_environment(),
                         tmp_path / f'sandbox-{self.port}.log')
        self.wait_until_ready(f'{self.url}/api/method/ping')

    def fault(self, **rule: Any) -> dict[str, Any]:
        answer = httpx.post(f'{self.url}/__sandbox__/faults', json=rule)
        answer.raise_for_status()
        return answer.json()

    def clear_faults(self) -> None:
        httpx.delete(f'{self.url}/__sandbox__/faults').raise_for_status()

    def documents(self, doctype: str) -> list[dict[str, Any]]:
        answer = httpx.get(f'{self.url}/__sandbox__/documents/{doctype}', timeout=30)
        answer.raise_for_status()
        return answer.json()


class ServiceProcess(Child):
    """`python main.py` with the embedded sandbox off; ERPNext is a SandboxProcess."""

    def __init__(self, tmp_path: Path, *, database_url: str, port: int | None = None, **extra: str) -> None:
        self.port = port or free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        env = clean_environment(PROVISIONER_DATABASE_URL=database_url, PROVISIONER_DATA_DIR=str(tmp_path / 'data'),
                                PROVISIONER_PORT=str(self.port), PROVISIONER_SANDBOX='off',
                                PROVISIONER_ADMIN_PASSWORD=PASSWORD, PROVISIONER_LOG_FORMAT='json', **extra)
        super().__init__([sys.executable, 'main.py'], env, tmp_path / f'service-{time.monotonic_ns()}.log')
        self.wait_until_ready(f'{self.url}/readyz')
        self._headers: dict[str, str] | None = None

    @property
    def headers(self) -> dict[str, str]:
        if self._headers is None:
            answer = httpx.post(f'{self.url}/api/v1/auth/token', json={'username': 'admin', 'password': PASSWORD})
            answer.raise_for_status()
            self._headers = {'Authorization': f'Bearer {answer.json()["access_token"]}'}
        return self._headers

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, f'{self.url}/api/v1{path}', headers=self.headers, timeout=60, **kwargs)

    def register_engine(self, sandbox: SandboxProcess, *, max_concurrent_runs: int) -> int:
        answer = self.api('POST', '/engines', json={'name': 'ERPNext', 'base_url': sandbox.url, 'api_key': 'sandbox',
                                                   'api_secret': 'sandbox', 'max_concurrent_runs': max_concurrent_runs})
        assert answer.status_code == 201, answer.text
        return answer.json()['id']

    def create_tenants(self, count: int, *, stores=lambda number: 1) -> list[int]:
        ids = []
        for number in range(1, count + 1):
            answer = self.api('POST', '/tenants', json={
                'name': company_name(number - 1), 'country': 'United States', 'currency': 'USD',
                'admin_email': f'owner{number}@shop{number}.example.com', 'engine': 'ERPNext',
                'stores': stores(number)})
            assert answer.status_code == 201, answer.text
            ids.append(answer.json()['id'])
        return ids


def assert_no_duplicates(sandbox: SandboxProcess, companies: int, stores_of: dict[str, int]) -> dict[str, int]:
    """Exactly one Company per tenant and its stores' warehouses and POS profiles, nothing twice.
    `stores_of`: company name → number of stores. Returns document counts."""
    company_docs = sandbox.documents('Company')
    names = [doc['name'] for doc in company_docs]
    assert len(names) == companies == len(set(names)), sorted(names)
    assert set(names) == set(stores_of)
    abbr = {doc['name']: doc['abbr'] for doc in company_docs}
    warehouses = [doc['name'] for doc in sandbox.documents('Warehouse')]
    profiles = sandbox.documents('POS Profile')
    for company, stores in stores_of.items():
        store_warehouses = [name for name in warehouses
                            if name.startswith('Store ') and name.endswith(f' - {abbr[company]}')]
        assert len(store_warehouses) == stores, (company, store_warehouses)
        assert sum(1 for p in profiles if p['company'] == company) == stores, company
    customers = [doc['name'] for doc in sandbox.documents('Customer')]
    assert not [name for name in customers if name.endswith(' - 1')], 'a customer was renamed: it was created twice'
    users = [doc['name'] for doc in sandbox.documents('User')]
    assert len(users) == len(set(users))
    return {'Company': len(names), 'Warehouse': len(warehouses), 'POS Profile': len(profiles),
            'Customer': len(customers)}
