"""The dashboard works in a real Chromium under its Content-Security-Policy: signing in (scripts,
styles, the websocket) succeeds, every page draws, and the browser reports no CSP violation."""

from __future__ import annotations

import pytest
from hardening_helpers import browser_sign_in, chrome, environment, page_html, page_routes, provision, start_service

from dashboard.security_headers import CONTENT_SECURITY_POLICY


@pytest.fixture
def service(tmp_path):
    running = start_service(environment(tmp_path), tmp_path / 'service.log')
    yield running
    running.stop()


def test_every_page_works_under_the_content_security_policy(service):
    answer = service.client().get('/login')
    assert answer.headers['content-security-policy'] == CONTENT_SECURITY_POLICY
    run = provision(service.client(), 'Policy Retail')
    driver = chrome()
    try:
        browser_sign_in(driver, service.url)  # needs the page's scripts and its websocket
        for route in page_routes():  # /logout too: opening it only asks
            page_html(driver, service.url + route.format(tenant_id=run['tenant_id']))
        html = page_html(driver, f'{service.url}/tenants/{run["tenant_id"]}', settle_text='Policy Retail')
        logs = driver.get_log('browser')
    finally:
        driver.quit()
    assert 'Policy Retail' in html
    violations = [entry['message'] for entry in logs
                  if 'Content Security Policy' in entry['message'] or 'Refused to' in entry['message']]
    assert not violations, violations
