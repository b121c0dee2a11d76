"""Browser tests' helpers: `python main.py` as a subprocess (its own database and embedded
sandbox) and a few user-level actions on top of Selenium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = '/usr/bin/chromium'
CHROME_FLAGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                '--disable-background-networking', '--disable-component-update', '--disable-sync',
                '--window-size=1400,1000']
ADMIN_PASSWORD = 'browser-admin-password-1'


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class Service:
    """`python main.py` on a free port; its output goes to a log file shown when something fails."""

    def __init__(self, tmp_path: Path) -> None:
        port = _free_port()
        self.url = f'http://127.0.0.1:{port}'
        env = {k: v for k, v in os.environ.items() if not k.startswith(('PYTEST_', 'NICEGUI_', 'PROVISIONER_'))}
        env.update(PROVISIONER_DATABASE_URL=f'sqlite:///{tmp_path / "browser.db"}',
                   PROVISIONER_DATA_DIR=str(tmp_path / 'data'), PROVISIONER_PORT=str(port),
                   PROVISIONER_ADMIN_PASSWORD=ADMIN_PASSWORD, PROVISIONER_LOG_FORMAT='json')
        self.log = open(tmp_path / 'service.log', 'w+')  # noqa: SIM115
        self.proc = subprocess.Popen([sys.executable, 'main.py'], cwd=ROOT, env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f'service exited: {self.output()}')
            try:
                if httpx.get(f'{self.url}/readyz', timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f'service did not become ready: {self.output()}')

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def api_token(self) -> dict[str, str]:
        answer = httpx.post(f'{self.url}/api/v1/auth/token', json={'username': 'admin', 'password': ADMIN_PASSWORD})
        return {'Authorization': f'Bearer {answer.json()["access_token"]}'}

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()



class Page:
    """Small waits and clicks on top of Selenium, phrased as a user would."""

    def __init__(self, driver: webdriver.Chrome, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url

    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    def text(self) -> str:
        return self.driver.find_element(By.TAG_NAME, 'body').text

    def should_see(self, text: str, timeout: float = 20) -> None:
        """Wait for `text` (case-insensitive: Quasar shows button labels in capitals)."""
        try:
            WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(lambda d: text.casefold() in self.text().casefold())
        except Exception:
            raise AssertionError(f'{text!r} not on the page; it shows:\n{self.text()[:3000]}') from None

    def should_not_see(self, text: str) -> None:
        assert text.casefold() not in self.text().casefold()

    def field(self, label: str):
        """The input of the Quasar field labelled `label`."""
        return WebDriverWait(self.driver, 10).until(lambda d: d.find_element(
            By.XPATH, f'//label[.//*[normalize-space(text())="{label}"]]//input | '
                      f'//label[.//*[normalize-space(text())="{label}"]]//textarea'))

    def type(self, label: str, text: str) -> None:
        element = self.field(label)
        element.clear()
        element.send_keys(text)

    def click(self, text: str, timeout: float = 10) -> None:
        """Click the visible button (or link) whose text is `text`."""
        xpath = (f'//button[.//*[normalize-space(text())="{text}"] or normalize-space(.)="{text}"] | '
                 f'//a[normalize-space(.)="{text}"]')

        def clickable(driver):
            for element in driver.find_elements(By.XPATH, xpath):
                if element.is_displayed() and element.is_enabled():
                    return element
            return False

        WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(clickable).click()

    def screenshot(self, name: str) -> None:
        folder = ROOT / 'docs' / 'screenshots'
        folder.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(folder / f'{name}.png'))
