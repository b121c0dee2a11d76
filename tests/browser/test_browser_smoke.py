"""The whole product in a real browser (headless Chromium): sign in, create a tenant, provision
it and watch the steps turn green, repair a failure, read the charts. Each page's screenshot is
saved under docs/screenshots/ (the README shows them)."""

from __future__ import annotations

import sqlite3

import httpx
from browser_helpers import ADMIN_PASSWORD
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By

STEPS = 11
SCRIPT_NAME = '<script>alert(1)</script>'


def sign_in(page, password: str = ADMIN_PASSWORD) -> None:
    page.open('/')
    page.should_see('Sign in')
    page.type('Username', 'admin')
    page.type('Password', password)
    page.click('Sign in')
    page.should_see('admin (admin)')


def assert_fits_a_phone(page) -> None:
    """At 390 px the page does not scroll sideways (wide tables scroll inside their own box)."""
    page.driver.set_window_size(390, 844)
    try:
        page.should_see('Create POS profiles')
        widths = page.driver.execute_script(
            'return [document.documentElement.scrollWidth, document.documentElement.clientWidth]')
        page.screenshot('tenant-failed-step-phone')
        assert widths[0] <= widths[1], f'the page is {widths[0]} px wide on a {widths[1]} px screen'
    finally:
        page.driver.set_window_size(1400, 1000)


def api_tenant(service, name: str, **fields) -> int:
    body = {'name': name, 'country': 'Germany', 'currency': 'EUR', 'admin_email': 'ops@example.com',
            'engine': 'Sandbox', **fields}
    answer = httpx.post(f'{service.url}/api/v1/tenants', headers=service.token(), json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()['id']


def test_create_provision_watch_and_read_the_charts(page, service):
    page.open('/')
    page.should_see('Sign in')
    page.screenshot('login')
    sign_in(page)

    page.open('/tenants')
    page.click('New tenant')
    page.type('Name', 'Acme Retail')
    page.type('Country', 'United States')
    page.type('Currency', 'USD')
    page.type('Admin e-mail', 'ada@acme.example')
    page.click('Create tenant')
    page.should_see('NOT_STARTED')
    page.wait_no_dialog()
    page.screenshot('tenants')

    page.driver.find_element(By.LINK_TEXT, 'Acme Retail').click()
    page.should_see('Run history')
    page.click('Provision')
    page.click_in_dialog('Provision')
    page.wait_for_badges('SUCCEEDED', STEPS)
    page.should_see('PROVISIONED')
    page.screenshot('tenant-detail')

    page.open('/')
    page.should_see('Success rate')
    page.should_see('100.0%')
    page.screenshot('overview')

    page.open('/charts')
    page.wait_for('.js-plotly-plot .main-svg')
    page.screenshot('metrics')

    for path, text, name in (('/engines', 'Sandbox', 'engines'), ('/users', 'admin', 'users'),
                             ('/audit', 'run.provision_requested', 'audit')):
        page.open(path)
        page.should_see(text)
        page.screenshot(name)


def test_a_failed_critical_step_is_retried_from_the_page(page, service):
    faults = f'{service.url}/sandbox/__sandbox__/faults'
    httpx.post(faults, json={'method': 'POST', 'doctype': 'POS Profile', 'status': 417}).raise_for_status()
    tenant_id = api_tenant(service, 'Faulty Shop')
    httpx.post(f'{service.url}/api/v1/tenants/{tenant_id}/provision', headers=service.token())
    sign_in(page)

    page.open(f'/tenants/{tenant_id}')
    page.should_see('Injected failure')  # the step's actionable error, as ERPNext worded it
    page.should_see('FAILED')
    page.screenshot('tenant-failed-step')
    assert_fits_a_phone(page)
    httpx.delete(faults).raise_for_status()
    page.click('Retry step')
    page.click_in_dialog('Retry step')

    page.wait_for_badges('SUCCEEDED', STEPS)
    page.should_see('PROVISIONED')


def test_a_script_in_a_tenant_name_is_shown_as_text_everywhere(page, service, tmp_path):
    tenant_id = api_tenant(service, 'Placeholder Name')
    # The API refuses '<' and '>' in names (ERPNext does); a row written some other way must still be safe.
    with sqlite3.connect(tmp_path / 'browser.db') as db:
        db.execute('UPDATE tenant SET name = ? WHERE id = ?', (SCRIPT_NAME, tenant_id))
    sign_in(page)

    for path in ('/', '/tenants', f'/tenants/{tenant_id}', '/audit'):
        page.open(path)
        if path.startswith('/tenants'):
            page.should_see(SCRIPT_NAME)
        else:
            page.should_see('admin (admin)')
        assert not page.driver.find_elements(By.XPATH, '//script[contains(., "alert(1)")]'), path
        try:
            page.driver.switch_to.alert.dismiss()
            raise AssertionError(f'a script ran on {path}')
        except NoAlertPresentException:
            pass
