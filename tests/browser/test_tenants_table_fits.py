"""The tenants table in a real browser: at 1366 px it fits without a sideways scroll (the row's
action included), and on a phone the Status column is in view right after the tenant's name."""

from __future__ import annotations

import time

import httpx
from test_browser_smoke import api_tenant, sign_in
from selenium.webdriver.common.by import By

TABLE_SCROLL = '.q-table__middle'  # Quasar's box that scrolls a table too wide for it


def wait_for_status(service, tenant_id: int, wanted: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = httpx.get(f'{service.url}/api/v1/tenants/{tenant_id}', headers=service.token())
        if answer.json()['status'] == wanted:
            return
        time.sleep(0.3)
    raise AssertionError(f'tenant {tenant_id} is not {wanted}: {answer.text[:500]}')


def widest_rows(service) -> None:
    """A failed run with a long error, and a teardown after a run that succeeded with a warning."""
    sandbox = f'{service.url}/sandbox/__sandbox__/faults'
    httpx.post(sandbox, json={'method': 'POST', 'doctype': 'User', 'status': 417}).raise_for_status()
    warned = api_tenant(service, 'Warned Shop With A Longer Name', country='United States', currency='USD')
    httpx.post(f'{service.url}/api/v1/tenants/{warned}/provision', headers=service.token()).raise_for_status()
    wait_for_status(service, warned, 'PROVISIONED')
    httpx.delete(sandbox).raise_for_status()
    httpx.post(sandbox, json={'method': 'POST', 'doctype': 'Warehouse', 'status': 417}).raise_for_status()
    failed = api_tenant(service, 'Failed Shop', admin_email='someone.with.a.long.address@example.com')
    httpx.post(f'{service.url}/api/v1/tenants/{failed}/provision', headers=service.token()).raise_for_status()
    wait_for_status(service, failed, 'FAILED')
    httpx.delete(sandbox).raise_for_status()
    httpx.post(f'{service.url}/api/v1/tenants/{warned}/deprovision', headers=service.token(), json={}) \
        .raise_for_status()
    wait_for_status(service, warned, 'DEPROVISIONED')


def test_the_tenants_table_fits_a_laptop_and_shows_the_status_on_a_phone(page, service, tmp_path):
    widest_rows(service)
    sign_in(page)

    page.driver.set_window_size(1366, 900)
    page.open('/tenants')
    page.should_see('DEPROVISIONED')
    page.should_see('deprovision')
    page.driver.save_screenshot(str(tmp_path / 'tenants-1366.png'))
    box = page.wait_for(TABLE_SCROLL)
    scroll, client = page.driver.execute_script('return [arguments[0].scrollWidth, arguments[0].clientWidth]', box)
    assert scroll <= client, f'the table is {scroll} px wide in a {client} px box: it scrolls sideways'
    assert page.driver.find_elements(By.CSS_SELECTOR, 'button[aria-label="Provision"]')

    page.driver.set_window_size(390, 844)
    page.open('/tenants')
    page.should_see('FAILED')
    page.driver.save_screenshot(str(tmp_path / 'tenants-390.png'))
    headers = [cell.text for cell in page.driver.find_elements(By.CSS_SELECTOR, 'thead th') if cell.text]
    assert headers[:2] == ['Tenant', 'Status'], headers
    right, width = page.driver.execute_script('''
        const column = [...document.querySelectorAll('thead th')].findIndex(th => th.innerText === 'Status') + 1;
        const cells = document.querySelectorAll(`thead th:nth-child(${column}), tbody td:nth-child(${column})`);
        return [Math.max(...[...cells].map(cell => cell.getBoundingClientRect().right)), window.innerWidth];''')
    assert right <= width, f'the Status column ends at {right} px on a {width} px screen'
