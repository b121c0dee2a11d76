"""Wires one Provisioner process into NiceGUI's FastAPI app: API, ops endpoints, the embedded
sandbox, pages, and the start/stop of the background jobs."""

from __future__ import annotations

import ipaddress
import socket
import sys

import structlog
from nicegui import App

import sandbox
from dashboard import ops
from dashboard.api import build_api_router
from dashboard.api.errors import install_error_handlers
from dashboard.components import database_outage
from dashboard.security_headers import SecurityHeadersMiddleware
from engine.clients import EmbeddedSandboxTransport
from engine.process import Process
from engine.settings import Settings

SANDBOX_PATH = '/sandbox'
API_TITLE, API_VERSION = 'Provisioner', '1'  # the OpenAPI document of /api/v1
SANDBOX_STATE_FILE = 'sandbox.json'

log = structlog.get_logger('app')


class SandboxExposed(RuntimeError):
    """The embedded sandbox would be served beyond loopback without PROVISIONER_SANDBOX_PUBLIC=on."""


def setup(app: App, settings: Settings) -> Process:
    """Build the process objects, register routes and lifecycle hooks; returns the Process.
    SandboxExposed, before anything starts, when the embedded sandbox would be open to the network."""
    if problem := sandbox_exposure(settings):
        raise SandboxExposed(problem)
    if settings.sandbox and not is_loopback(settings.host):  # allowed by PROVISIONER_SANDBOX_PUBLIC=on
        log.warning('sandbox.public', host=settings.host, path=SANDBOX_PATH,
                    note='anyone who reaches this address can reset the embedded sandbox and inject faults')
    # The embedded sandbox keeps its documents next to the database, as a real ERPNext would.
    sandbox_app = sandbox.create_app(state_file=settings.data_dir / SANDBOX_STATE_FILE) if settings.sandbox else None
    sandbox_url = f'http://{_reachable_host(settings.host)}:{settings.port}{SANDBOX_PATH}'
    process = Process.build(settings, sandbox_app=sandbox_app, sandbox_url=sandbox_url)
    if sandbox_app is not None:
        # (NiceGUI's test fixtures run setup() again in one process: the newest sandbox must answer.)
        app.router.routes[:] = [r for r in app.router.routes if getattr(r, 'path', None) != SANDBOX_PATH]
        app.mount(SANDBOX_PATH, sandbox_app)
        app.state.erpnext_transport = EmbeddedSandboxTransport(sandbox_url, sandbox_app)
    app.state.process = process
    app.state.db, app.state.settings, app.state.secrets = process.db, settings, process.secrets
    app.state.dispatcher = process.dispatcher
    app.include_router(build_api_router())
    app.include_router(ops.router)
    database_outage.install(app)  # before the API's handlers, which pass page paths on to it
    install_error_handlers(app)
    app.add_middleware(SecurityHeadersMiddleware)
    app.openapi_url, app.docs_url = '/api/v1/openapi.json', '/api/v1/docs'
    app.title, app.version = API_TITLE, API_VERSION
    app.openapi_schema = None  # built again, with the title, on the next request
    app.on_startup(lambda: _started(process))
    app.on_shutdown(process.stop)
    if sandbox_app is not None:
        app.on_shutdown(sandbox_app.state.sandbox.persist_now)  # after the drain: its last writes too
    return process


async def _started(process: Process) -> None:
    await process.start()
    if process.generated_admin_password:
        # Shown once, on the console only: it is in no log line and nowhere in the database.
        print(f'\nProvisioner: first start, created user "admin" with password: '
              f'{process.generated_admin_password}\n(set PROVISIONER_ADMIN_PASSWORD to choose it)\n',
              file=sys.stderr, flush=True)
        process.generated_admin_password = None


def sandbox_exposure(settings: Settings) -> str | None:
    """Why the embedded sandbox must not be served with these settings, or None.

    The sandbox has no sign-in of ours (it also runs alone, `python -m sandbox`): its control API
    resets it, adds API keys and injects faults, and its API takes the published key sandbox/sandbox.
    So it is served only on a loopback address, unless PROVISIONER_SANDBOX_PUBLIC=on says otherwise.
    (A reverse proxy on the same machine makes a loopback address public too: see docs/RUNBOOK.md.)"""
    if not settings.sandbox or settings.sandbox_public or is_loopback(settings.host):
        return None
    return (f'the embedded sandbox (PROVISIONER_SANDBOX=on) would be open to anyone who reaches '
            f'{settings.host}:{settings.port}: no sign-in guards its control API (reset, API keys, faults) '
            'and its API key sandbox/sandbox is published. Set PROVISIONER_SANDBOX=off and register a real '
            'ERPNext, or PROVISIONER_HOST=127.0.0.1, or PROVISIONER_SANDBOX_PUBLIC=on to serve it anyway')


def is_loopback(host: str) -> bool:
    """Whether every address `host` stands for is a loopback one (127.0.0.0/8, ::1)."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)}
    except OSError:
        return False
    return bool(addresses) and all(ipaddress.ip_address(a.split('%')[0]).is_loopback for a in addresses)


def _reachable_host(host: str) -> str:
    return '127.0.0.1' if host in ('0.0.0.0', '::', '') else host
