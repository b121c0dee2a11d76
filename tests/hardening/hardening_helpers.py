"""Helpers for the hardening tests: the real service as a subprocess, operator commands, a headless
Chromium, and reading every row of a SQLite database."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support import browser
from tests.support.service import ROOT, ServiceProcess, clean_environment, free_port

ADMIN_PASSWORD = 'Hardening-Admin-Pw-7731'
PAGE_ROUTE = re.compile(r"""(?:guarded_page|ui\.page)\(\s*['"]([^'"]+)['"]""")


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a child `python main.py …`: none of pytest's or the machine's PROVISIONER_*."""
    return clean_environment(tmp_path, PROVISIONER_ADMIN_PASSWORD=ADMIN_PASSWORD,
                             NICEGUI_STORAGE_PATH=str(tmp_path / 'nicegui'), **extra)


def run_command(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    """`python main.py <argv>` to completion."""
    return subprocess.run([sys.executable, 'main.py', *argv], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def start_service(env: dict[str, str], log_path: Path) -> ServiceProcess:
    """`python main.py` serving on a new free port; its output (the JSON log lines) goes to `log_path`."""
    return ServiceProcess(dict(env, PROVISIONER_PORT=str(free_port())), log_path, timeout=40)


def wait_for_run(client: httpx.Client, run_id: int, timeout: float = 60) -> dict[str, Any]:
    """Poll the run until it has finished; the run as the API shows it."""
    deadline = time.monotonic() + timeout
    while True:
        run = client.get(f'/api/v1/runs/{run_id}').json()
        if run['status'] in ('SUCCEEDED', 'FAILED', 'CANCELLED') or time.monotonic() > deadline:
            return run
        time.sleep(0.2)


def provision(client: httpx.Client, name: str, engine: str = 'Sandbox', stores: int = 1) -> dict[str, Any]:
    """Create a tenant and provision it through the API; the finished run."""
    tenant = client.post('/api/v1/tenants', json={'name': name, 'country': 'United States', 'currency': 'USD',
                                                  'admin_email': f'{name.split()[0].lower()}@example.com',
                                                  'engine': engine, 'stores': stores})
    assert tenant.status_code == 201, tenant.text
    run = client.post(f'/api/v1/tenants/{tenant.json()["id"]}/provision')
    assert run.status_code == 202, run.text
    return wait_for_run(client, run.json()['id'])


def page_routes() -> list[str]:
    """Every page path the dashboard registers (read from dashboard/pages/*.py)."""
    routes = set()
    for module in sorted((ROOT / 'dashboard' / 'pages').glob('*.py')):
        routes.update(PAGE_ROUTE.findall(module.read_text()))
    return sorted(routes)


def table_rows(database: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (ordered by rowid), read with plain sqlite3."""
    connection = sqlite3.connect(f'{database.as_uri()}?mode=ro', uri=True)
    try:
        tables = [row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {table: connection.execute(f'SELECT * FROM "{table}" ORDER BY rowid').fetchall() for table in tables}
    finally:
        connection.close()


def chrome():
    """A headless Chromium that keeps the page's console messages (CSP violations land there)."""
    return browser.chrome(console_log=True)


def browser_sign_in(driver, base_url: str, password: str = ADMIN_PASSWORD) -> None:
    """Sign in as admin through the real login form."""
    from selenium.webdriver.common.by import By

    driver.get(f'{base_url}/login')
    wait = _wait(driver)
    username = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, 'input[autocomplete=username]'))
    username.send_keys('admin')
    field = driver.find_element(By.CSS_SELECTOR, 'input[autocomplete=current-password]')
    field.send_keys(password)
    driver.find_element(By.XPATH, '//button[normalize-space(.)="Sign in"]').click()
    wait.until(lambda d: 'admin (admin)' in d.find_element(By.TAG_NAME, 'body').text)


def page_html(driver, url: str, settle_text: str | None = None) -> str:
    """The rendered DOM of `url` once NiceGUI has drawn it."""
    from selenium.webdriver.common.by import By

    driver.get(url)
    _wait(driver).until(
        lambda d: d.execute_script('return document.readyState') == 'complete'
        and (settle_text is None or settle_text.casefold() in d.find_element(By.TAG_NAME, 'body').text.casefold()))
    time.sleep(0.3)  # let the websocket deliver the page's first updates (no assertion depends on time)
    return driver.page_source


def _wait(driver):
    """A 20 s wait that looks again when the page replaced the element it was reading (a sign-in
    navigates, a live page redraws)."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, 20, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,))
