"""A real headless Chromium (Debian's chromium + chromedriver, driven by Selenium) against
`python main.py` started as a subprocess with its own database and embedded sandbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser_helpers import Page, start_service
from selenium import webdriver

from tests.support.browser import chrome
from tests.support.service import ServiceProcess


@pytest.fixture
def service(tmp_path) -> Iterator[ServiceProcess]:
    running = start_service(tmp_path)
    yield running
    running.stop()


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    driver = chrome()
    yield driver
    driver.quit()


@pytest.fixture
def page(browser, service) -> Page:
    return Page(browser, service.url)
