"""Shared fixtures: a real SQLite file per test, the real sandbox, the real runner.

Nothing of ours is mocked: the engine talks HTTP to the sandbox, either in-process through
httpx's ASGI transport or over a real socket (`live_sandbox`)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography.fernet import Fernet

from engine.clients import EngineClients
from engine.runner import RetryPolicy, Runner
from engine.security import SecretBox
from sandbox import create_app
from storage.db import Database
from storage.tables import Engine, Tenant
from tests.support.databases import migrated_sqlite
from tests.support.postgres import MISSING, Cluster, pg_bin, skip_or_fail

FAST_RETRIES = RetryPolicy(max_attempts=4, step_budget_s=30, attempt_timeout_s=10, backoff_s=0.01,
                           backoff_max_s=0.05)


@pytest.fixture
def db(tmp_path) -> Iterator[Database]:
    database = migrated_sqlite(tmp_path / 'provisioner.db')
    yield database
    database.dispose()


@pytest.fixture
def secrets() -> SecretBox:
    return SecretBox(Fernet.generate_key())


JANE = 'jane@x.test'  # a person working in ERPNext as their own user; the engine's key acts as Administrator


@pytest.fixture
def sandbox_app():
    return create_app(api_keys={'jane': ('jane-secret', JANE)})


@pytest.fixture
async def sandbox(sandbox_app) -> AsyncIterator[httpx.AsyncClient]:
    """A client for the sandbox's control API (and raw ERPNext calls in tests)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox_app), base_url='http://sandbox',
                                 headers={'Authorization': 'token sandbox:sandbox'}) as client:
        yield client


@pytest.fixture
async def jane(sandbox_app) -> AsyncIterator[httpx.AsyncClient]:
    """The sandbox as jane sees it: what she creates is hers (`owner`), not Provisioner's."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox_app), base_url='http://sandbox',
                                 headers={'Authorization': 'token jane:jane-secret'}) as client:
        yield client


@pytest.fixture
def engine_row(db, secrets) -> Engine:
    with db.session() as session:
        engine = Engine(name='Sandbox', base_url='http://sandbox', api_key='sandbox',
                        api_secret_encrypted=secrets.encrypt('sandbox'), max_concurrent_runs=16)
        session.add(engine)
    return engine


@pytest.fixture
async def clients(db, secrets, sandbox_app) -> AsyncIterator[EngineClients]:
    pool = EngineClients(db, secrets, timeout=5, transport_for=lambda engine: httpx.ASGITransport(app=sandbox_app))
    yield pool
    await pool.aclose()


@pytest.fixture
def runner(db, clients) -> Runner:
    return Runner(db, clients.get, policy=FAST_RETRIES)


@pytest.fixture
def make_tenant(db, engine_row):
    """Factory: a tenant row as the tenants service stores it."""
    counter = iter(range(1, 10_000))

    def make(name: str | None = None, *, stores: int = 1, **fields: Any) -> Tenant:
        number = next(counter)
        name = name or f'Tenant {number}'
        with db.session() as session:
            tenant = Tenant(name=name, company_name=name, country=fields.get('country', 'United States'),
                            currency=fields.get('currency', 'USD'),
                            admin_email=fields.get('admin_email', f'admin{number}@example.test'),
                            stores=stores, engine_id=engine_row.id, created_by='tests')
            session.add(tenant)
        return tenant

    return make


class LiveServer:
    """An ASGI app served by uvicorn on a free local port, in a thread."""

    def __init__(self, app) -> None:
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            self.port = sock.getsockname()[1]
        self.url = f'http://127.0.0.1:{self.port}'
        self.server = uvicorn.Server(uvicorn.Config(app, host='127.0.0.1', port=self.port, log_level='warning',
                                                    lifespan='off'))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_sandbox(sandbox_app) -> Iterator[LiveServer]:
    with LiveServer(sandbox_app) as server:
        yield server


@pytest.fixture(scope='session')
def pg_cluster() -> Iterator[Cluster]:
    """One throwaway PostgreSQL cluster for the whole session (skipped where the server binaries are
    missing, except under CI=true, where that is a failure: `make system-deps` installs them)."""
    bin_dir = pg_bin()
    if bin_dir is None or (os.geteuid() == 0 and shutil.which('runuser') is None):
        skip_or_fail(MISSING)
    cluster = Cluster(bin_dir)
    try:
        cluster.start()
    except subprocess.CalledProcessError as exc:
        cluster.stop()
        pytest.fail(f'could not start PostgreSQL: {exc.stderr or exc.stdout}')
    yield cluster
    cluster.stop()


@pytest.fixture
def pg_url(pg_cluster) -> str:
    """A fresh, empty database on the session's cluster (postgresql+psycopg://…)."""
    return pg_cluster.new_database()


@pytest.fixture(params=['sqlite', 'postgresql'])
def any_db_url(request, tmp_path) -> str:
    """Each test once on a fresh SQLite file and once on a fresh PostgreSQL database."""
    return f'sqlite:///{tmp_path / "any.db"}' if request.param == 'sqlite' else request.getfixturevalue('pg_url')
