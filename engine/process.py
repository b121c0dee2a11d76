"""The long-lived objects of one Provisioner process, built from the settings and started on the
event loop: database, key, clients, runner, dispatcher, rate limiters and the APScheduler jobs that
drive them (dispatch every second, lease renewal, engine health, automatic retries, alerts).

Every job runs through `_job`: while the database is unreachable a run of a job logs one warning
line (`job.database_unreachable`, the job, the driver's first line) and the next interval tries
again; no traceback per tick."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from engine.alerting import EVALUATE_EVERY_SECONDS, Alerting
from engine.auto_retry import AUTO_RETRY_EVERY_SECONDS, AutoRetry, AutoRetryPolicy
from engine import drift
from engine.clients import EmbeddedSandboxTransport, EngineClients
from engine.dispatcher import RENEW_EVERY_SECONDS, TICK_SECONDS, Dispatcher
from engine.rate_limits import LoginLimiter, ProvisionLimiter
from engine.runner import Runner
from engine.security import SecretBox, ensure_secret_key
from engine.services import engines as engine_service
from engine.services import users
from engine.settings import Settings
from storage.availability import database_unreachable, first_line
from storage.db import Database
from storage.tables import Engine, EngineHealth, utcnow

log = structlog.get_logger('process')
HEALTH_EVERY_SECONDS = 30.0  # an online engine is checked this often
DRIFT_CHECK_EVERY_SECONDS = 900.0  # provisioned tenants are re-verified (look-ups only) in batches
OFFLINE_RECHECK_SECONDS = 5.0  # an offline one this often: its waiting runs resume soon after it is back


@dataclass
class Process:
    """Everything the UI and the API reach through `app.state`."""

    settings: Settings
    db: Database
    secrets: SecretBox
    clients: EngineClients
    runner: Runner
    dispatcher: Dispatcher
    auto_retry: AutoRetry
    login_limiter: LoginLimiter = field(default_factory=LoginLimiter)
    provision_limiter: ProvisionLimiter = field(default_factory=ProvisionLimiter)
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
        retry_policy = AutoRetryPolicy(limit=settings.auto_retry_limit)
        runner = Runner(db, clients.get, auto_retry=retry_policy)
        dispatcher = Dispatcher(db, runner, max_concurrent=settings.max_concurrent_runs)
        return cls(settings=settings, db=db, secrets=secrets, clients=clients, runner=runner, dispatcher=dispatcher,
                   auto_retry=AutoRetry(db, retry_policy),
                   sandbox_url=sandbox_url, sandbox_app=sandbox_app, generated_admin_password=password,
                   storage_secret=hashlib.sha256(b'nicegui-storage:' + key).hexdigest())

    def transport_for(self, engine: Engine) -> httpx.AsyncBaseTransport | None:
        return self.clients.transport_for(engine)

    async def start(self) -> None:
        """Start the jobs on the running (NiceGUI) event loop."""
        scheduler = AsyncIOScheduler(job_defaults={'coalesce': True, 'max_instances': 1, 'misfire_grace_time': 30})
        scheduler.add_job(_job('dispatch', self.dispatcher.tick), 'interval', seconds=TICK_SECONDS, id='dispatch')
        scheduler.add_job(_job('leases', self.dispatcher.renew_leases), 'interval', seconds=RENEW_EVERY_SECONDS,
                          id='leases')
        scheduler.add_job(_job('health', self.check_engines), 'interval', seconds=OFFLINE_RECHECK_SECONDS,
                          id='health')
        scheduler.add_job(_job('health', self.check_engines), 'date', kwargs={'due_only': False}, id='health-now')
        scheduler.add_job(_job('auto-retry', self.auto_retry.tick), 'interval', seconds=AUTO_RETRY_EVERY_SECONDS,
                          id='auto-retry')
        scheduler.add_job(_job('drift', self.check_drift), 'interval', seconds=DRIFT_CHECK_EVERY_SECONDS, id='drift')
        alerting = Alerting.from_settings(self.db, self.settings)  # rules, Alert rows, webhook, DB gauges
        scheduler.add_job(_job('alerts', alerting.run_job), 'interval', seconds=EVALUATE_EVERY_SECONDS, id='alerts')
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

    async def check_drift(self) -> None:
        """The drift job: re-verify the provisioned tenants checked longest ago (see engine/drift.py)."""
        try:
            results = await drift.check_all(self.db, self.clients.get)
        except Exception as exc:  # a job must never die: the next interval tries again
            if database_unreachable(exc):
                raise  # one line from _job
            log.exception('drift.job_failed')
            return
        if results:
            log.info('drift.checked', tenants=len(results), drifted=sum(r.drifted for r in results))

    async def check_engines(self, *, due_only: bool = True) -> None:
        """Periodic health check of the engines (online / offline and the error): each online one
        every HEALTH_EVERY_SECONDS, each offline one every OFFLINE_RECHECK_SECONDS."""
        for engine in await asyncio.to_thread(engine_service.list_engines, self.db):
            if due_only and not _health_check_due(engine):
                continue
            transport = self.transport_for(engine)
            try:
                await engine_service.check_engine(self.db, self.secrets, engine.id, transport=transport)
            except Exception as exc:  # one broken engine must not stop the others' checks
                if database_unreachable(exc):
                    raise  # nor can the others' be saved: one line from _job
                log.exception('engine.check_failed', engine=engine.name)
            finally:
                if transport is not None:
                    await transport.aclose()

    @property
    def scheduler_running(self) -> bool:
        return bool(self.scheduler and self.scheduler.running)


def _job(name: str, work: Callable[..., Awaitable[object]]) -> Callable[..., Awaitable[None]]:
    """`work` as a scheduler job: a lost database is one warning line per job and outage (the runs
    after it log at debug level), and `job.database_back` once the job works again; no traceback.
    A job cancelled in flight (the process is stopping: SIGTERM) ends quietly, with one info line:
    APScheduler 3 would log the CancelledError as an ERROR with its traceback."""
    away = False

    async def job(*args: object, **kwargs: object) -> None:
        nonlocal away
        try:
            await work(*args, **kwargs)
        except asyncio.CancelledError:
            log.info('job.cancelled', job=name)
            return  # the task ends here, as its canceller wants; nothing for APScheduler to report
        except Exception as exc:
            if not database_unreachable(exc):
                raise  # APScheduler logs it with its traceback
            (log.debug if away else log.warning)('job.database_unreachable', job=name, error=first_line(exc))
            away = True
        else:
            if away:
                away = False
                log.info('job.database_back', job=name)

    job.__name__ = job.__qualname__ = f'job_{name}'
    return job


def _health_check_due(engine: Engine) -> bool:
    if engine.last_checked_at is None:
        return True
    every = OFFLINE_RECHECK_SECONDS if engine.health == EngineHealth.OFFLINE else HEALTH_EVERY_SECONDS
    return utcnow() - engine.last_checked_at >= timedelta(seconds=every - 0.5)  # 0.5: the job's own jitter
