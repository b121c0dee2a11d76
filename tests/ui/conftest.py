"""UI tests with NiceGUI's simulated `User`: main.py runs for each test against its own database
file, data folder and embedded sandbox."""

from __future__ import annotations

import pytest
from nicegui.testing import User

from tests.support.databases import migrated_sqlite_file

ADMIN_PASSWORD = 'admin-password-1'

# How long `should_see` looks before it fails: NiceGUI's default, 3 looks 0.1 s apart, is shorter than
# an off-loop database read takes while `make test`'s two workers load the CPUs, and UI tests failed
# on what the page showed a moment later. A look that succeeds returns at once, so passing tests take
# no longer; `should_not_see` likewise returns as soon as the element is gone.
User.should_see.__kwdefaults__['retries'] = 30
User.should_not_see.__kwdefaults__['retries'] = 40


@pytest.fixture(autouse=True)
def provisioner_environment(tmp_path, monkeypatch):
    """Settings for the main.py the `user` fixture starts (autouse: set before it runs)."""
    # an empty database already at the newest schema: main.py's start-up migration finds nothing to do
    monkeypatch.setenv('PROVISIONER_DATABASE_URL', migrated_sqlite_file(tmp_path / 'ui.db'))
    monkeypatch.setenv('PROVISIONER_DATA_DIR', str(tmp_path / 'data'))
    monkeypatch.setenv('PROVISIONER_ADMIN_PASSWORD', ADMIN_PASSWORD)
    monkeypatch.setenv('PROVISIONER_LOG_FORMAT', 'console')
