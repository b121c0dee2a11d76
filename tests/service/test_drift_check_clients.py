"""POST /tenants/{id}/drift-check goes through the running process's shared engine clients (review
finding 5): the engine's request budget and a 429 pause the runs honour apply to it too."""

from __future__ import annotations

import time

import pytest
from test_lifecycle_api import provisioned_tenant

from engine.process import Process
from engine.services import engines
from sandbox import create_app

PAUSE_S = 1.5


@pytest.fixture
async def process(app, settings):
    """A real Process (its runner and clients talk to the embedded sandbox) serving the API app. The
    app's own `erpnext_transport` still refuses every connection: only the process's clients reach
    ERPNext."""
    running = Process.build(settings, sandbox_app=create_app(), sandbox_url='http://sandbox')
    app.state.process, app.state.dispatcher = running, running.dispatcher
    yield running
    await running.stop()


async def test_the_api_drift_check_uses_the_clients_the_runs_use(api, admin, process, db):
    tenant_id = await provisioned_tenant(api, admin)
    sandbox = next(engine for engine in engines.list_engines(db) if engine.name == 'Sandbox')
    runs_client = await process.clients.get(sandbox.id)  # the client the runs just used
    runs_client.throttle.pause(PAUSE_S)  # as after ERPNext's 429 Retry-After

    started = time.monotonic()
    answer = await api.post(f'/api/v1/tenants/{tenant_id}/drift-check', headers=admin)
    waited = time.monotonic() - started

    assert answer.status_code == 200, answer.text
    assert answer.json()['checked'] is True and answer.json()['drifted'] is False
    assert waited >= PAUSE_S - 0.2  # it waited out the engine's pause
    assert await process.clients.get(sandbox.id) is runs_client  # and built no client of its own
