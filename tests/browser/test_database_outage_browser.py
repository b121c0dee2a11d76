"""PostgreSQL stops under `python main.py` while a real browser (headless Chromium) shows the
Overview, and starts again: the open page shows ONE notice (no toasts, no error page) and drops it
by itself once the database is back; a page loaded meanwhile is the plain 503 page, which reloads
itself into the real page afterwards. The log has warning lines, no traceback."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from browser_helpers import Page
from selenium.webdriver.common.by import By

from tests.reliability.processes import PASSWORD, ServiceProcess
from tests.reliability.test_database_outage import events
from tests.support.browser import chrome
from tests.support.postgres import StoppableCluster, stoppable_cluster

NOTICE = 'The database cannot be reached right now.'
OVERVIEW_REFRESH_S = 3


@pytest.fixture(scope='module')
def cluster() -> Iterator[StoppableCluster]:
    yield from stoppable_cluster()

def notices(page: Page) -> int:
    return len([e for e in page.driver.find_elements(By.CSS_SELECTOR, '[role=alert]') if NOTICE in e.text])


def test_an_open_page_rides_out_a_lost_database_and_a_new_load_waits_for_it(tmp_path, cluster):
    service = ServiceProcess(tmp_path, database_url=cluster.new_database())
    driver = chrome()
    page = Page(driver, service.url)
    try:
        page.open('/')
        page.type('Username', 'admin')
        page.type('Password', PASSWORD)
        page.click('Sign in')
        page.should_see('Success rate')
        overview = driver.current_window_handle
        cookies = {c['name']: c['value'] for c in driver.get_cookies()}
        before = len(service.output())
        cluster.pause()

        page.should_see(NOTICE, timeout=4 * OVERVIEW_REFRESH_S)
        time.sleep(3 * OVERVIEW_REFRESH_S)  # more refreshes fail meanwhile
        assert notices(page) == 1
        assert not driver.find_elements(By.CSS_SELECTOR, '.q-notification')  # no toasts
        page.should_see('Success rate')  # what the page showed stays

        answer = httpx.get(f'{service.url}/tenants', cookies=cookies, timeout=30)
        assert (answer.status_code, answer.headers['retry-after']) == (503, '5'), answer.text
        driver.switch_to.new_window('tab')
        page.open('/tenants')
        page.should_see('The database cannot be reached')
        page.should_see('Nothing was lost')
        during = service.output()[before:]

        cluster.resume()
        page.should_see('New tenant', timeout=30)  # the 503 page reloaded itself into the real one
        driver.switch_to.window(overview)
        deadline = time.monotonic() + 20
        while notices(page) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert notices(page) == 0
        page.should_see('Success rate')
    finally:
        driver.quit()
        service.stop()

    assert 'Traceback' not in during, during
    lost = events(during, 'ui.database_unreachable')
    assert all(r['level'] == 'warning' for r in lost)
    paths = [r['path'] for r in lost]
    assert paths.count('/') == 1 and '/tenants' in paths, paths  # ONE line for the open page
