"""Debian's headless Chromium driven by Selenium, for the browser tests."""

from __future__ import annotations

import os
import shutil

import pytest
from selenium import webdriver

CHROMIUM = '/usr/bin/chromium'
# Headless, and none of the background traffic that this machine's closed network refuses.
CHROME_FLAGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                '--disable-background-networking', '--disable-component-update', '--disable-sync',
                '--window-size=1400,1000']
os.environ.setdefault('SE_OFFLINE', 'true')  # Selenium Manager: use the installed chromedriver, download nothing


def chrome(*, console_log: bool = False) -> webdriver.Chrome:
    """A new browser (skips when Chromium is not installed, fails under CI where `make test` installs it).
    `console_log`: keep the page's console messages (`driver.get_log('browser')`)."""
    if not (shutil.which('chromedriver') and os.path.exists(CHROMIUM)):
        message = 'needs Debian chromium and chromium-driver (make test installs them)'
        pytest.fail(message) if os.environ.get('CI') else pytest.skip(message)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    if console_log:
        options.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(shutil.which('chromedriver')))
    driver.implicitly_wait(0)
    return driver
