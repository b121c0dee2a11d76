"""The long-lived objects of one Provisioner process, built from the settings and started on the
event loop: database, key, clients, runner, dispatcher and the APScheduler jobs that drive them."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field

import httpx
import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from engine.alerting import EVALUATE_EVERY_SECONDS, Alerting
from engine.clients import EmbeddedSandboxTransport, EngineClients
from engine.dispatcher import RENEW_EVERY_SECONDS, TICK_SECONDS, Dispatcher
from engine.runner import Runner
from engine.security import SecretBox, ensure_secret_key
from engine.services import engines as engine_service
from engine.services import users
from engine.settings import Settings
from storage.db import Database
from storage.tables import Engine

log = structlog.get_logger('process')
HEALTH_EVERY_SECONDS = 30.0


@dataclass
class Process:
    """Everything the UI and the API reach through `app.state`."""

    settings: Settings
    db: Database
    secrets: SecretBox
    clients: EngineClients
    runner: Runner
    dispatcher: Dispatcher
    sandbox_url: str | None = None
    sandbox_app: object | None = None
    scheduler: AsyncIOScheduler | None = None
    storage_secret: str = field(default='', repr=False)
    generated_admin_password: str | None = field(default=None, repr=False)

    @classmethod
    def build(cls, settings: Settings, *, sandbox_app=None, sandbox_url: str | None = None) -> Process:
        """Open (and migrate) the database, load the key, create the first admin and the sandbox engine."""
        db = Database.from_url(settings.database_url)
        key = ensure_secret_key(settings)
        secrets = SecretBox(key)
        password = users.ensure_admin(db, settings)
        if sandbox_app is not None and sandbox_url:
            engine_service.ensure_sandbox_engine(db, secrets, sandbox_url)

        def transport_for(engine: Engine) -> httpx.AsyncBaseTransport | None:
            # The embedded sandbox is served by this very process: talk to it in-process.
            return EmbeddedSandboxTransport(sandbox_url, sandbox_app) if sandbox_app is not None else None

        clients = EngineClients(db, secrets, transport_for=transport_for)
        runner = Runner(db, clients.get)
        dispatcher = Dispatcher(db, runner, max_concurrent=settings.max_concurrent_runs)
        return cls(settings=settings, db=db, secrets=secrets, clients=clients, runner=runner, dispatcher=dispatcher,
                   sandbox_url=sandbox_url, sandbox_app=sandbox_app, generated_admin_password=password,
                   storage_secret=hashlib.sha256(b'nicegui-storage:' + key).hexdigest())

    def transport_for(self, engine: Engine) -> httpx.AsyncBaseTransport | None:
        return self.clients.transport_for(engine)

    async def start(self) -> None:
        """Start the jobs on the running (NiceGUI) event loop."""
        scheduler = AsyncIOScheduler(job_defaults={'coalesce': True, 'max_instances': 1, 'misfire_grace_time': 30})
        scheduler.add_job(self.dispatcher.tick, 'interval', seconds=TICK_SECONDS, id='dispatch')
        scheduler.add_job(self.dispatcher.renew_leases, 'interval', seconds=RENEW_EVERY_SECONDS, id='leases')
        scheduler.add_job(self.check_engines, 'interval', seconds=HEALTH_EVERY_SECONDS, id='health')
        scheduler.add_job(self.check_engines, 'date', id='health-now')
        alerting = Alerting.from_settings(self.db, self.settings)  # rules, Alert rows, webhook, DB gauges
        scheduler.add_job(alerting.run_job, 'interval', seconds=EVALUATE_EVERY_SECONDS, id='alerts')
        scheduler.start()
        self.scheduler = scheduler
        log.info('process.started', owner=self.dispatcher.owner)

    async def stop(self) -> None:
        """Stop claiming, let running steps end, release leases, close connections."""
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        await self.dispatcher.drain()
        await self.clients.aclose()
        await asyncio.to_thread(self.db.dispose)
        log.info('process.stopped')

    async def check_engines(self) -> None:
        """Periodic health check of every engine (online / offline and the error)."""
        for engine in await asyncio.to_thread(engine_service.list_engines, self.db):
            try:
                await engine_service.check_engine(self.db, self.secrets, engine.id,
                                                  transport=self.transport_for(engine))
            except Exception:  # one broken engine must not stop the others' checks
                log.exception('engine.check_failed', engine=engine.name)

    @property
    def scheduler_running(self) -> bool:
        return bool(self.scheduler and self.scheduler.running)
