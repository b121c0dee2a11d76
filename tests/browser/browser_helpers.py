"""Browser tests' helpers: `python main.py` as a subprocess (its own database and embedded
sandbox) and a few user-level actions on top of Selenium."""

from __future__ import annotations

from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import (
    ElementNotInteractableException,
    StaleElementReferenceException,
    TimeoutException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.service import ROOT, ServiceProcess, clean_environment

ADMIN_PASSWORD = 'browser-admin-password-1'


def start_service(tmp_path: Path) -> ServiceProcess:
    """`python main.py` on a free port with its own SQLite file browser.db; its output goes to service.log."""
    env = clean_environment(tmp_path, database='browser.db', PROVISIONER_ADMIN_PASSWORD=ADMIN_PASSWORD)
    return ServiceProcess(env, tmp_path / 'service.log', timeout=30)


class Page:
    """Small waits and clicks on top of Selenium, phrased as a user would."""

    def __init__(self, driver: webdriver.Chrome, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url

    def _wait(self, timeout: float) -> WebDriverWait:
        """A wait that looks again when a live page redrew the element it was looking at."""
        return WebDriverWait(self.driver, timeout, poll_frequency=0.1,
                             ignored_exceptions=(StaleElementReferenceException,))

    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    def text(self) -> str:
        return self.driver.find_element(By.TAG_NAME, 'body').text

    def should_see(self, text: str, timeout: float = 20) -> None:
        """Wait for `text` (case-insensitive: Quasar shows button labels in capitals)."""
        try:
            self._wait(timeout).until(lambda d: text.casefold() in self.text().casefold())
        except Exception:
            raise AssertionError(f'{text!r} not on the page; it shows:\n{self.text()[:3000]}') from None

    def should_not_see(self, text: str) -> None:
        assert text.casefold() not in self.text().casefold()

    def type(self, label: str, text: str, timeout: float = 10) -> None:
        """Type `text` into the Quasar field labelled `label`, once it takes input (a dialog may
        still be opening)."""
        def type_into(element) -> None:
            element.clear()
            element.send_keys(text)

        self._on_first_ready(f'//label[.//*[normalize-space(text())="{label}"]]//input | '
                             f'//label[.//*[normalize-space(text())="{label}"]]//textarea',
                             type_into, timeout, f'no field {label!r} to type in')

    def click(self, text: str, timeout: float = 10) -> None:
        """Click the visible button (or link) whose text is `text`."""
        self._on_first_ready(f'//button[.//*[normalize-space(text())="{text}"] or normalize-space(.)="{text}"] | '
                             f'//a[normalize-space(.)="{text}"]',
                             lambda element: element.click(), timeout, f'no button {text!r} to click')

    def _on_first_ready(self, xpath: str, action, timeout: float, missing: str) -> None:
        """Do `action` to the first visible, enabled element of `xpath`. Live pages redraw: an element
        found a moment ago may be gone or not take input yet, so look again until the action lands."""
        def acted(driver) -> bool:
            try:
                for element in driver.find_elements(By.XPATH, xpath):
                    if element.is_displayed() and element.is_enabled():
                        action(element)
                        return True
            except (ElementNotInteractableException, StaleElementReferenceException):
                pass
            return False

        try:
            self._wait(timeout).until(acted)
        except TimeoutException:
            raise AssertionError(f'{missing}; the page shows:\n{self.text()[:2000]}') from None

    def click_in_dialog(self, text: str, timeout: float = 10) -> None:
        """Click the button `text` of the open dialog (the page may have a button of the same name)."""
        xpath = (f'//div[contains(@class, "q-dialog")]//button[.//*[normalize-space(text())="{text}"] or '
                 f'normalize-space(.)="{text}"]')
        self._wait(timeout).until(
            lambda d: next((e for e in d.find_elements(By.XPATH, xpath) if e.is_displayed()), False)).click()
        self.wait_no_dialog(timeout)

    def wait_no_dialog(self, timeout: float = 10) -> None:
        """Until no dialog (nor its fading backdrop) is on the page."""
        self._wait(timeout).until(lambda d: not d.find_elements(By.CSS_SELECTOR, '.q-dialog, .q-dialog__backdrop'))

    def badges(self, text: str) -> int:
        """How many status badges read `text`."""
        return len(self.driver.find_elements(
            By.XPATH, f'//div[contains(@class, "q-badge") and normalize-space(.)="{text}"]'))

    def wait_for_badges(self, text: str, count: int, timeout: float = 30) -> None:
        try:
            self._wait(timeout).until(lambda d: self.badges(text) >= count)
        except Exception:
            raise AssertionError(f'{self.badges(text)} badges read {text!r}, wanted {count}:\n'
                                 f'{self.text()[:3000]}') from None

    def wait_for(self, css: str, timeout: float = 20):
        try:
            return self._wait(timeout).until(
                lambda d: next((e for e in d.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()), False))
        except Exception:
            raise AssertionError(f'no visible {css!r}; the page shows:\n{self.text()[:2000]}') from None

    def screenshot(self, name: str) -> None:
        folder = ROOT / 'docs' / 'screenshots'
        folder.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(folder / f'{name}.png'))
