"""The whole process as main.py builds it: the alert job is scheduled, and /metrics answers
Prometheus text from the process's own database."""

from __future__ import annotations

import pytest
from nicegui import app
from nicegui.testing import User

from engine.alerting import EVALUATE_EVERY_SECONDS

pytestmark = pytest.mark.nicegui_main_file('main.py')


@pytest.fixture(autouse=True)
def provisioner_environment(tmp_path, monkeypatch):
    monkeypatch.setenv('PROVISIONER_DATABASE_URL', f'sqlite:///{tmp_path / "app.db"}')
    monkeypatch.setenv('PROVISIONER_DATA_DIR', str(tmp_path / 'data'))
    monkeypatch.setenv('PROVISIONER_ADMIN_PASSWORD', 'admin-password-1')
    monkeypatch.setenv('PROVISIONER_LOG_FORMAT', 'console')


async def test_the_alert_rules_are_evaluated_by_a_scheduled_job(user: User) -> None:
    await user.open('/login')
    job = app.state.process.scheduler.get_job('alerts')
    assert job is not None and job.trigger.interval.total_seconds() == EVALUATE_EVERY_SECONDS


async def test_metrics_answers_prometheus_text_with_the_database_gauges(user: User) -> None:
    await user.open('/login')
    response = await user.http_client.get('/metrics')
    assert response.status_code == 200
    assert 'provisioner_queue_depth 0.0' in response.text
    assert 'provisioner_engine_up{engine="Sandbox"}' in response.text or 'provisioner_runs_total' in response.text
