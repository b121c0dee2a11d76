"""The process as main.py builds it: the OpenAPI document names the product, a database that
cannot be reached stops start-up with one line (no traceback, no password), and with only
PROVISIONER_DATA_DIR set everything it writes lands in that directory."""

from __future__ import annotations

import subprocess
import sys

import pytest
from nicegui.testing import User

from tests.support.service import ROOT, Child, clean_environment, free_port


@pytest.fixture
def provisioner_environment(tmp_path, monkeypatch):
    monkeypatch.setenv('PROVISIONER_DATABASE_URL', f'sqlite:///{tmp_path / "app.db"}')
    monkeypatch.setenv('PROVISIONER_DATA_DIR', str(tmp_path / 'data'))
    monkeypatch.setenv('PROVISIONER_ADMIN_PASSWORD', 'admin-password-1')
    monkeypatch.setenv('PROVISIONER_LOG_FORMAT', 'console')


@pytest.mark.nicegui_main_file('main.py')
async def test_the_openapi_document_names_the_product(provisioner_environment, user: User) -> None:
    await user.open('/login')

    answer = await user.http_client.get('/api/v1/openapi.json')

    assert answer.status_code == 200
    assert answer.json()['info']['title'] == 'Provisioner'
    assert '/api/v1/tenants/{tenant_id}/provision' in answer.json()['paths']


def test_an_unreachable_database_stops_start_up_with_one_line(tmp_path) -> None:
    env = clean_environment(tmp_path,
                            PROVISIONER_DATABASE_URL='postgresql://provisioner:pg-pass-123@127.0.0.1:1/x')

    done = subprocess.run([sys.executable, 'main.py'], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)

    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith('provisioner: cannot start: OperationalError:')
    assert 'pg-pass-123' not in done.stderr + done.stdout


def test_with_only_the_data_directory_set_the_database_lives_there_too(tmp_path) -> None:
    data_dir, cwd, port = tmp_path / 'data', tmp_path / 'cwd', free_port()
    cwd.mkdir()
    env = clean_environment(PROVISIONER_DATA_DIR=str(data_dir), PROVISIONER_PORT=str(port),
                            PROVISIONER_ADMIN_PASSWORD='admin-password-1', PROVISIONER_LOG_FORMAT='console')

    # run from an empty working directory, so that a database put in ./data is seen (and harms nothing)
    child = Child([sys.executable, str(ROOT / 'main.py')], env, tmp_path / 'main.log', cwd=cwd)
    try:
        child.wait_until_ready(f'http://127.0.0.1:{port}/readyz')
    finally:
        child.stop()

    assert sorted(path.name for path in data_dir.glob('*') if path.suffix in ('.db', '.key', '.json')) == [
        'provisioner.db', 'sandbox.json', 'secret.key']
    assert not (cwd / 'data').exists()

