"""Notifications appear in one corner (bottom-right) on every page, never over the buttons they are
about: every toast goes through dashboard.components.notify."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from nicegui import app
from nicegui.testing import User
from nicegui.testing.user_notify import UserNotify
from test_tenant_detail import click_and_confirm, new_tenant
from ui_helpers import sign_in

from dashboard.components.notify import POSITION
from engine.services import engines

pytestmark = pytest.mark.nicegui_main_file('main.py')

DASHBOARD = Path(__file__).resolve().parents[2] / 'dashboard'


class RecordingNotify(UserNotify):
    """NiceGUI's test stand-in for ui.notify, keeping each toast's options too."""

    def __init__(self) -> None:
        super().__init__()
        self.options: list[dict[str, Any]] = []

    def __call__(self, message: str, **kwargs: Any) -> None:
        super().__call__(message, **kwargs)
        self.options.append({'message': message, **kwargs})


def test_no_page_or_component_calls_ui_notify_directly() -> None:
    direct = [f'{path.relative_to(DASHBOARD)}:{number}'
              for path in DASHBOARD.rglob('*.py') if path.name != 'notify.py'
              for number, line in enumerate(path.read_text().splitlines(), start=1)
              if re.search(r'\bui\.notify\(', line)]
    assert direct == [], f'use dashboard.components.notify.notify instead: {direct}'


async def test_the_tenant_pages_toast_is_in_the_bottom_right_corner(user: User) -> None:
    tenant_id = new_tenant()
    user.notify = recorder = RecordingNotify()
    await sign_in(user, 'admin', next_path=f'/tenants/{tenant_id}')

    await click_and_confirm(user, 'action-provision')

    await user.should_see('Provisioning run queued.')
    assert [toast['position'] for toast in recorder.options if 'queued' in toast['message']] == [POSITION]
    assert POSITION == 'bottom-right'


async def test_the_engines_pages_toasts_are_in_the_bottom_right_corner(user: User) -> None:
    user.notify = recorder = RecordingNotify()
    await sign_in(user, 'admin', next_path='/engines')
    sandbox = engines.list_engines(app.state.db)[0]

    user.find(marker=f'engine-test-{sandbox.id}').click()

    await user.should_see(f"Checking '{sandbox.name}'")
    await user.should_see(marker=f'engine-check-{sandbox.id}', retries=50)
    assert recorder.options and {toast['position'] for toast in recorder.options} == {POSITION}
