"""A real headless Chromium (Debian's chromium + chromedriver, driven by Selenium) against
`python main.py` started as a subprocess with its own database and embedded sandbox."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from browser_helpers import CHROME_FLAGS, CHROMIUM, Page, start_service
from selenium import webdriver

from tests.support.service import ServiceProcess


@pytest.fixture
def service(tmp_path) -> Iterator[ServiceProcess]:
    running = start_service(tmp_path)
    yield running
    running.stop()


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    if not (shutil.which('chromedriver') and os.path.exists(CHROMIUM)):
        message = 'needs Debian chromium and chromium-driver (make test installs them)'
        pytest.fail(message) if os.environ.get('CI') else pytest.skip(message)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(shutil.which('chromedriver')))
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


@pytest.fixture
def page(browser, service) -> Page:
    return Page(browser, service.url)
