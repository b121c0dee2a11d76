"""Claims queued runs and executes them, within the global and per-engine limits.

A claim is a lease: the run is RUNNING, owned by this process until `lease_expires_at`, and the
lease is renewed while the run works. When a process dies its leases expire and any process
(itself after a restart, or another one sharing the PostgreSQL database) claims the run again; the
runner then resumes at the first unfinished step. Timing: leases last LEASE_SECONDS and are
renewed every RENEW_EVERY_SECONDS, the dispatcher ticks every TICK_SECONDS, so a dead process's
runs are claimed again at most LEASE_SECONDS + TICK_SECONDS (21 s) after its last renewal.

Limits: at most `max_concurrent` runs in this process (PROVISIONER_MAX_CONCURRENT_RUNS), and at
most `Engine.max_concurrent_runs` runs of an engine across all processes (counted in the
database under a lock of the engine rows on PostgreSQL, under SQLite's write lock otherwise).
Runs of an engine whose health check says offline are not claimed: they wait.

Each claim is recorded in the run's metadata (`claims`: owner and time, the last 20), which is
the evidence of who executed a run when; the runner's checkpoints are fenced by the lease. A claim
that takes a run over from an expired lease also writes the audit event `run.resumed` (actor
`system`, with the step the run resumes at), which the run's card on the tenant page shows.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from datetime import timedelta

import structlog
from sqlmodel import col, select, update

from engine.runner import INTERRUPTED, Runner
from storage import audit_log, run_meta
from storage.availability import database_unreachable, first_line
from storage.db import Database, is_postgres
from storage.queries import claims
from storage.queries import runs as run_queries
from storage.tables import EngineHealth, Run, RunStatus, utcnow

log = structlog.get_logger('dispatcher')
LEASE_SECONDS = 20.0
RENEW_EVERY_SECONDS = 5.0
TICK_SECONDS = 1.0
MAX_CLAIMS_KEPT = 20


def process_owner() -> str:
    """A name for this process's leases: host, pid and a random part (pids are reused)."""
    return f'{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}'


class Dispatcher:
    """Turns QUEUED runs into asyncio tasks, never more than the limits allow."""

    def __init__(self, db: Database, runner: Runner, *, max_concurrent: int, owner: str | None = None,
                 lease_seconds: float = LEASE_SECONDS) -> None:
        self.db = db
        self.runner = runner
        self.max_concurrent = max_concurrent
        self.owner = owner or process_owner()
        self.lease = timedelta(seconds=lease_seconds)
        self.tasks: dict[int, asyncio.Task] = {}
        self.accepting = True
        self._claiming = asyncio.Lock()
        self._followups: set[asyncio.Task] = set()  # claims started when a run ended

    async def tick(self) -> list[int]:
        """Claim what the limits allow and start it; returns the claimed run ids."""
        async with self._claiming:
            free = self.max_concurrent - len(self.tasks)
            if not self.accepting or free <= 0:
                return []
            claimed = await asyncio.to_thread(self._claim, free)
            for run_id in claimed:
                self.tasks[run_id] = asyncio.create_task(self._execute(run_id), name=f'run-{run_id}')
            return claimed

    async def renew_leases(self) -> None:
        """Extend the leases of the runs this process is working on; stop working on any run that
        another process took over (our lease had expired: this process stalled for too long). Also
        settles the cancelled runs whose process stopped before their steps in flight ended."""
        if self.tasks:
            for run_id in await asyncio.to_thread(self._renew, list(self.tasks)):
                task = self.tasks.get(run_id)
                if task is not None:
                    log.warning('run.lease_lost', run_id=run_id)
                    task.cancel()
        await asyncio.to_thread(self._settle_abandoned_cancels)

    def _settle_abandoned_cancels(self) -> None:
        with self.db.transaction() as connection:
            settled = claims.settle_abandoned_cancels(connection, now=utcnow())
        if settled:
            log.info('runs.cancel_settled', runs=settled)

    async def drain(self, grace_seconds: float = 10.0) -> None:
        """Stop claiming, let steps in flight end (up to the grace period), hand runs back to the queue."""
        self.accepting = False
        self.runner.draining = True
        tasks = list(self.tasks.values())
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await asyncio.to_thread(self._release)

    async def _execute(self, run_id: int) -> str | None:
        """Run it; returns how the runner left it (a final status, INTERRUPTED, PARKED, LEASE_LOST)."""
        status = None
        try:
            status = await self.runner.execute(run_id, self.owner)
            if status == INTERRUPTED:
                await asyncio.to_thread(self._release, [run_id])
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the lease expires and the run is resumed
            if database_unreachable(exc):  # one line, not a traceback per run in flight
                log.warning('run.database_unreachable', run_id=run_id, error=first_line(exc))
            else:
                log.exception('run.crashed', run_id=run_id)
        finally:
            self.tasks.pop(run_id, None)
            self._claim_soon()
        return status

    def _claim_soon(self) -> None:
        """A slot just freed up: claim the next queued run now rather than at the next tick."""
        if not self.accepting:
            return
        task = asyncio.create_task(self.tick(), name='claim-after-run')
        self._followups.add(task)
        task.add_done_callback(self._followed_up)

    def _followed_up(self, task: asyncio.Task) -> None:
        self._followups.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning('dispatcher.claim_failed', error=first_line(task.exception()))

    def _claim(self, free: int) -> list[int]:
        now = utcnow()
        postgres = is_postgres(self.db.engine)
        leases: list[dict] = []
        with self.db.transaction() as connection:
            engines = claims.engines_for_claiming(connection, lock=postgres)
            busy = claims.leased_runs_by_engine(connection, now=now)
            waiting = claims.oldest_claimable_by_engine(connection, now=now)
            for engine_id in sorted(waiting, key=waiting.__getitem__):  # the longest-waiting engine first
                engine = engines.get(engine_id)
                if engine is None or engine.health == EngineHealth.OFFLINE:
                    continue  # an outage fails nothing: the runs wait until the health check sees it again
                room = min(free - len(leases), engine.max_concurrent_runs - busy.get(engine_id, 0))
                if room <= 0:
                    continue
                for run_id, meta in claims.claimable_runs_of_engine(connection, engine_id, now=now, limit=room,
                                                                    skip_locked=postgres):
                    leases.append(self._lease(run_id, meta, now))
                if len(leases) >= free:
                    break
            resumed = self._resumed_runs(connection, leases, now)
            claims.lease_runs(connection, leases)
            for run in resumed:
                self._record_resumed(connection, run)
        taken = [lease['b_id'] for lease in leases]
        if taken:
            log.info('runs.claimed', run_ids=taken)
        for run in resumed:
            log.info('run.resumed', run_id=run.id, step=run.step, previous_owner=run.lease_owner)
        return taken

    def _resumed_runs(self, connection, leases: list[dict], now) -> list:
        """The runs among `leases` taken from a process whose lease expired (it was killed or
        stalled): they resume at their first unfinished step. Only a run claimed before can be one,
        so a claim of fresh runs asks nothing more of the database."""
        claimed_before = [lease['b_id'] for lease in leases if len(lease['b_meta'][run_meta.CLAIMS]) > 1]
        return run_queries.runs_with_expired_leases(connection, claimed_before, now=now)

    def _record_resumed(self, connection, run) -> None:
        """The audit event `run.resumed` (actor system), committed with the claim."""
        audit_log.record_in(connection, actor=audit_log.SYSTEM_ACTOR, action=audit_log.RESUMED, tenant_id=run.tenant_id,
                            run_id=run.id, step_key=run.step, correlation_id=run.correlation_id,
                            details={'step': run.step, 'previous_owner': run.lease_owner,
                                     'lease_expired_at': run.lease_expires_at, 'owner': self.owner})

    def _lease(self, run_id: int, meta: dict, now) -> dict:
        """The claim of one run: RUNNING under our lease, the claim added to its metadata."""
        claim = {'owner': self.owner, 'at': now.isoformat()}
        return {'b_id': run_id, 'b_owner': self.owner, 'b_expires': now + self.lease,
                'b_meta': {**meta, run_meta.CLAIMS: [*meta.get(run_meta.CLAIMS, []), claim][-MAX_CLAIMS_KEPT:]}}

    def _renew(self, run_ids: list[int]) -> list[int]:
        """Extend our live leases; returns the runs among `run_ids` that another process holds now."""
        with self.db.session() as session:
            session.execute(update(Run).where(Run.lease_owner == self.owner, col(Run.id).in_(run_ids),
                                              col(Run.status).in_((RunStatus.RUNNING, RunStatus.CANCELLED)))
                            .values(lease_expires_at=utcnow() + self.lease))  # cancelled: still stopping
            rows = session.exec(select(Run.id, Run.lease_owner).where(
                col(Run.id).in_(run_ids), col(Run.status).in_((RunStatus.QUEUED, RunStatus.RUNNING)))).all()
        return [run_id for run_id, owner in rows if owner != self.owner]

    def _release(self, run_ids: list[int] | None = None) -> None:
        """Give this process's running runs back to the queue (they resume where they stopped)."""
        with self.db.session() as session:
            query = update(Run).where(Run.lease_owner == self.owner, Run.status == RunStatus.RUNNING)
            if run_ids is not None:
                query = query.where(col(Run.id).in_(run_ids))
            session.execute(query.values(status=RunStatus.QUEUED, lease_owner=None, lease_expires_at=None))
            if run_ids is None:  # shutting down: a cancelled run whose steps were still ending has stopped
                session.execute(update(Run).where(Run.lease_owner == self.owner, Run.status == RunStatus.CANCELLED)
                                .values(lease_owner=None, lease_expires_at=None))
