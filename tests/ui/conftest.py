"""UI tests with NiceGUI's simulated `User`: main.py runs for each test against its own database
file, data folder and embedded sandbox."""

from __future__ import annotations

import pytest

from tests.support.databases import migrated_sqlite_file

ADMIN_PASSWORD = 'admin-password-1'


@pytest.fixture(autouse=True)
def provisioner_environment(tmp_path, monkeypatch):
    """Settings for the main.py the `user` fixture starts (autouse: set before it runs)."""
    # an empty database already at the newest schema: main.py's start-up migration finds nothing to do
    monkeypatch.setenv('PROVISIONER_DATABASE_URL', migrated_sqlite_file(tmp_path / 'ui.db'))
    monkeypatch.setenv('PROVISIONER_DATA_DIR', str(tmp_path / 'data'))
    monkeypatch.setenv('PROVISIONER_ADMIN_PASSWORD', ADMIN_PASSWORD)
    monkeypatch.setenv('PROVISIONER_LOG_FORMAT', 'console')
