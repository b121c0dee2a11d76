"""Helpers for the hardening tests: the real service as a subprocess, operator commands, a headless
Chromium, and reading every row of a SQLite database."""

from __future__ import annotations

import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = 'Hardening-Admin-Pw-7731'
CHROMIUM = '/usr/bin/chromium'
CHROME_FLAGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                '--disable-background-networking', '--disable-component-update', '--disable-sync',
                '--window-size=1400,1000']
PAGE_ROUTE = re.compile(r"""(?:guarded_page|ui\.page)\(\s*['"]([^'"]+)['"]""")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a child `python main.py …`: none of pytest's or the machine's PROVISIONER_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(('PYTEST_', 'NICEGUI_', 'PROVISIONER_'))}
    env.update(PROVISIONER_DATABASE_URL=f'sqlite:///{tmp_path / "provisioner.db"}',
               PROVISIONER_DATA_DIR=str(tmp_path / 'data'), PROVISIONER_ADMIN_PASSWORD=ADMIN_PASSWORD,
               PROVISIONER_LOG_FORMAT='json', NICEGUI_STORAGE_PATH=str(tmp_path / 'nicegui'))
    env.update(extra)
    return env


def run_command(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    """`python main.py <argv>` to completion."""
    return subprocess.run([sys.executable, 'main.py', *argv], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


class Service:
    """`python main.py` serving on a free port; its output (the JSON log lines) goes to a file."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = dict(env, PROVISIONER_PORT=str(free_port()))
        self.url = f'http://127.0.0.1:{self.env["PROVISIONER_PORT"]}'
        self.log_path = log_path
        self.log = open(log_path, 'a+')  # noqa: SIM115
        self.proc = subprocess.Popen([sys.executable, 'main.py'], cwd=ROOT, env=self.env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f'service exited: {self.output()}')
            try:
                if httpx.get(f'{self.url}/readyz', timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise AssertionError(f'service did not become ready: {self.output()}')

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text()

    def client(self) -> httpx.Client:
        """An API client signed in as the first admin."""
        client = httpx.Client(base_url=self.url, timeout=30)
        answer = client.post('/api/v1/auth/token', json={'username': 'admin', 'password': ADMIN_PASSWORD})
        assert answer.status_code == 200, answer.text
        client.headers['Authorization'] = f'Bearer {answer.json()["access_token"]}'
        return client

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


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
    """A headless Debian Chromium driven by Selenium (skips when it is not installed, fails in CI)."""
    from selenium import webdriver

    if not (shutil.which('chromedriver') and os.path.exists(CHROMIUM)):
        message = 'needs Debian chromium and chromium-driver (make test installs them)'
        pytest.fail(message) if os.environ.get('CI') else pytest.skip(message)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(shutil.which('chromedriver')))
    driver.implicitly_wait(0)
    return driver


def browser_sign_in(driver, base_url: str, password: str = ADMIN_PASSWORD) -> None:
    """Sign in as admin through the real login form."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f'{base_url}/login')
    wait = WebDriverWait(driver, 20, poll_frequency=0.1)
    username = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, 'input[autocomplete=username]'))
    username.send_keys('admin')
    field = driver.find_element(By.CSS_SELECTOR, 'input[autocomplete=current-password]')
    field.send_keys(password)
    driver.find_element(By.XPATH, '//button[normalize-space(.)="Sign in"]').click()
    wait.until(lambda d: 'admin (admin)' in d.find_element(By.TAG_NAME, 'body').text)


def page_html(driver, url: str, settle_text: str | None = None) -> str:
    """The rendered DOM of `url` once NiceGUI has drawn it."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, 20, poll_frequency=0.1).until(
        lambda d: d.execute_script('return document.readyState') == 'complete'
        and (settle_text is None or settle_text.casefold() in d.find_element(By.TAG_NAME, 'body').text.casefold()))
    time.sleep(0.3)  # let the websocket deliver the page's first updates (no assertion depends on time)
    return driver.page_source
