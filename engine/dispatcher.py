"""Claims queued runs and executes them, within the global and per-engine limits.

A claim is a lease: the run is RUNNING, owned by this process until `lease_expires_at`, and the
lease is renewed while the run works. When a process dies its leases expire and any process
(itself after a restart, or another one sharing the PostgreSQL database) claims the run again; the
runner then resumes at the first unfinished step.
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
from storage.db import Database, is_postgres
from storage.queries import runs as queries
from storage.tables import Engine, Run, RunStatus, utcnow

log = structlog.get_logger('dispatcher')
LEASE_SECONDS = 30.0
RENEW_EVERY_SECONDS = 10.0
TICK_SECONDS = 1.0


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
        """Extend the leases of the runs this process is working on."""
        if self.tasks:
            await asyncio.to_thread(self._renew, list(self.tasks))

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

    async def _execute(self, run_id: int) -> None:
        try:
            status = await self.runner.execute(run_id)
            if status == INTERRUPTED:
                await asyncio.to_thread(self._release, [run_id])
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception('run.crashed', run_id=run_id)  # the lease expires and the run is resumed
        finally:
            self.tasks.pop(run_id, None)

    def _claim(self, free: int) -> list[int]:
        now = utcnow()
        with self.db.session() as session:
            postgres = is_postgres(self.db.engine)
            engines = select(Engine.id, Engine.max_concurrent_runs)
            # PostgreSQL: lock the engine rows so concurrent claimers count per-engine load one at a time.
            limits = dict(session.exec(engines.with_for_update() if postgres else engines).all())
            busy = queries.leased_runs_by_engine(session, now=now)
            taken = []
            for run in queries.claimable_runs(session, now=now, limit=free * 4 + 8, skip_locked=postgres):
                if len(taken) == free:
                    break
                if busy.get(run.engine_id, 0) >= limits.get(run.engine_id, 1):
                    continue
                run.status, run.lease_owner, run.lease_expires_at = RunStatus.RUNNING, self.owner, now + self.lease
                busy[run.engine_id] = busy.get(run.engine_id, 0) + 1
                session.add(run)
                taken.append(run.id)
        if taken:
            log.info('runs.claimed', run_ids=taken)
        return taken

    def _renew(self, run_ids: list[int]) -> None:
        with self.db.session() as session:
            session.execute(update(Run).where(Run.lease_owner == self.owner, col(Run.id).in_(run_ids),
                                           Run.status == RunStatus.RUNNING)
                         .values(lease_expires_at=utcnow() + self.lease))

    def _release(self, run_ids: list[int] | None = None) -> None:
        """Give this process's running runs back to the queue (they resume where they stopped)."""
        with self.db.session() as session:
            query = update(Run).where(Run.lease_owner == self.owner, Run.status == RunStatus.RUNNING)
            if run_ids is not None:
                query = query.where(col(Run.id).in_(run_ids))
            session.execute(query.values(status=RunStatus.QUEUED, lease_owner=None, lease_expires_at=None))
