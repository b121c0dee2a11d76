"""Automatic retry of runs that failed for a transient reason (ERPNext unreachable, slow, busy).

When such a run fails, `AutoRetryPolicy.next_retry_at` stamps it with the moment of its next
automatic retry (exponential backoff: 30 s, 60 s, 120 s, ... up to 15 minutes) while it has
retries left (PROVISIONER_AUTO_RETRY_LIMIT). The UI shows that moment. A periodic job,
`AutoRetry.tick`, queues every due run again: it resumes at the failed step, counts
`auto_retries` and is audited as `run.auto_retried`. Critical failures (validation, conflicts,
credentials) get no stamp: a person must look at them first. `retry_hint` says so when a transient
failure gets no further automatic retry (the retries are used up, or automatic retry is off).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from engine.services.runs import requeue
from storage import audit_log
from storage.db import Database
from storage.queries import runs as run_queries
from storage.tables import ErrorCategory, Run, RunMode, RunStatus, RunTrigger, utcnow

log = structlog.get_logger('auto_retry')
AUTO_RETRY_EVERY_SECONDS = 5.0
FIRST_DELAY_S = 30.0
MAX_DELAY_S = 900.0
BATCH = 50


@dataclass(frozen=True)
class AutoRetryPolicy:
    """How many automatic retries a run gets and how long each waits."""

    limit: int = 3
    first_delay_s: float = FIRST_DELAY_S
    max_delay_s: float = MAX_DELAY_S

    def delay(self, retries_done: int) -> timedelta:
        """Exponential backoff: first_delay, doubled for each retry already made, capped."""
        return timedelta(seconds=min(self.max_delay_s, self.first_delay_s * 2 ** retries_done))

    def next_retry_at(self, mode: str, category: str | None, auto_retries: int, now: datetime) -> datetime | None:
        """When a run of `mode` that just failed with `category`, after `auto_retries` automatic
        retries, is retried by itself; None when it is not."""
        eligible = mode == RunMode.PROVISION and category == ErrorCategory.TRANSIENT and auto_retries < self.limit
        return now + self.delay(auto_retries) if eligible else None


def retry_hint(run: Mapping[str, Any]) -> str | None:
    """What to do about a provisioning run that failed for a transient reason and will not be retried by
    itself (no `next_retry_at`): its automatic retries are used up, or automatic retry is off. None for
    any other run (one with an automatic retry coming says when, in `next_retry_at`)."""
    if (run.get('status') != RunStatus.FAILED or run.get('mode') != RunMode.PROVISION
            or run.get('error_category') != ErrorCategory.TRANSIENT or run.get('next_retry_at') is not None):
        return None
    used = run.get('auto_retries') or 0
    left = f'No automatic retries left ({used} used)' if used else 'No automatic retry for this run'
    return f'{left}: click Retry run once ERPNext is back.'


class AutoRetry:
    """The periodic job: queue again every failed run whose automatic retry is due."""

    def __init__(self, db: Database, policy: AutoRetryPolicy) -> None:
        self.db = db
        self.policy = policy

    async def tick(self, now: datetime | None = None) -> list[int]:
        """Queue the due runs; returns their ids."""
        return await asyncio.to_thread(self._retry_due, now or utcnow())

    def _retry_due(self, now: datetime) -> list[int]:
        with self.db.session() as session:
            due = list(session.exec(
                select(Run.id).where(Run.status == RunStatus.FAILED, col(Run.next_retry_at).is_not(None),
                                     col(Run.next_retry_at) <= now)
                .order_by(col(Run.next_retry_at)).limit(BATCH)).all())
        return [run_id for run_id in due if self._retry_one(run_id, now)]

    def _retry_one(self, run_id: int, now: datetime) -> bool:
        """One transaction per run: another process may be retrying it, or a user may act on it."""
        try:
            with self.db.session() as session:
                run = session.get(Run, run_id, with_for_update=True)  # PostgreSQL: one process wins
                if run is None or run.status != RunStatus.FAILED or run.next_retry_at is None \
                        or run.next_retry_at > now:
                    return False
                if not _still_wanted(session, run):
                    run.next_retry_at = None  # superseded by a newer run of the tenant: give up quietly
                    session.add(run)
                    return False
                retries = run.auto_retries + 1
                audit_log.record(session, actor=audit_log.SYSTEM_ACTOR, action='run.auto_retried',
                                 tenant_id=run.tenant_id, run_id=run.id, step_key=run.error_step,
                                 correlation_id=run.correlation_id,
                                 details={'auto_retry': retries, 'limit': self.policy.limit,
                                          'attempt': run.attempt + 1, 'error': run.error_message})
                requeue(session, run, RunTrigger.AUTO_RETRY)
                run.auto_retries = retries
                session.add(run)
        except IntegrityError:  # the tenant got another active run meanwhile: this one is superseded
            log.info('run.auto_retry_skipped', run_id=run_id, reason='the tenant has another active run')
            return False
        log.info('run.auto_retried', run_id=run_id, auto_retry=retries)
        return True


def _still_wanted(session: Session, run: Run) -> bool:
    """Only the tenant's current run is retried, and only while nothing else is active for it."""
    current = run_queries.current_run_for_tenant(session, run.tenant_id)
    return current is not None and current.id == run.id and run_queries.active_run_for_tenant(
        session, run.tenant_id) is None
