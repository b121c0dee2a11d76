"""Real processes for the reliability tests: `python main.py` and `python -m sandbox`, each on a free
port, talked to over HTTP, stopped with SIGTERM or killed with SIGKILL."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support import service
from tests.support.service import Child, clean_environment, free_port

FIRST = ('Alpine', 'Birch', 'Cedar', 'Dune', 'Elm', 'Fern', 'Glen', 'Heath', 'Iris', 'Juniper')
SECOND = ('Kitchens', 'Lamps', 'Markets', 'Notions', 'Optics', 'Papers', 'Quilts', 'Rugs', 'Shoes', 'Toys')
PASSWORD = 'admin-password-1'
SANDBOX_AUTH = {'Authorization': 'token sandbox:sandbox'}


def company_name(number: int) -> str:
    """Up to 100 names whose initials (ERPNext's default abbreviation) all differ: concurrent
    companies with the same initials race for abbreviations, which is create_company's business."""
    return f'{FIRST[number // 10 % 10]} {SECOND[number % 10]}'


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


class ServiceProcess(service.ServiceProcess):
    """`python main.py` with the embedded sandbox off; ERPNext is a SandboxProcess."""

    def __init__(self, tmp_path: Path, *, database_url: str, port: int | None = None, **extra: str) -> None:
        env = clean_environment(tmp_path, PROVISIONER_DATABASE_URL=database_url, PROVISIONER_SANDBOX='off',
                                PROVISIONER_ADMIN_PASSWORD=PASSWORD, **extra)
        if port:
            env['PROVISIONER_PORT'] = str(port)
        super().__init__(env, tmp_path / f'service-{time.monotonic_ns()}.log')

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
