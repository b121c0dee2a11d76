"""The tenants table's rows in a real browser: drawn from one row template, a row's checkbox still
ticks it for Provision selected, and its Provision button is there."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from test_browser_smoke import api_tenant, sign_in


def test_a_ticked_row_is_what_provision_selected_asks_about(page, service):
    api_tenant(service, 'First Shop')
    api_tenant(service, 'Second Shop')
    sign_in(page)

    page.open('/tenants')
    page.should_see('Second Shop')
    assert len(page.driver.find_elements(By.CSS_SELECTOR, 'tbody button[aria-label="Provision"]')) == 2
    assert page.badges('NOT_STARTED') == 2
    page.wait_for('tbody input[type=checkbox]').click()  # the first row's box
    page.click('Provision selected')
    page.should_see('Provision 1 tenant?')
