"""Automatic retry of runs that failed for a transient reason (ERPNext unreachable, slow, busy), and of
optional steps that failed for a temporary one in a run that went on (ERPNext throttling new users).

When such a run fails, `AutoRetryPolicy.next_retry_at` stamps it with the moment of its next
automatic retry (exponential backoff: 30 s, 60 s, 120 s, ... up to 15 minutes) while it has
retries left (PROVISIONER_AUTO_RETRY_LIMIT). The UI shows that moment. A periodic job,
`AutoRetry.tick`, queues every due run again: it resumes at the failed step, counts
`auto_retries` and is audited as `run.auto_retried`. Critical failures (validation, conflicts,
credentials) get no stamp: a person must look at them first. `retry_hint` says so when a transient
failure gets no further automatic retry (the retries are used up, or automatic retry is off).

A run that succeeded with an optional step failed for a temporary reason (`temporary_step_failure`: a
'transient' category, or the invite step's "Throttled", which the runner records as 'non_critical' like
any optional step's failure) is stamped by the same job, 15 minutes after it ended, then 30, then 60
(ERPNext counts the users created in the last 60 minutes), within the same limit of automatic retries,
and queued again as a person's *Retry step* would (trigger `auto_retry`): the failed optional steps run
again, nothing else. Other failures of optional steps (ERPNext refused the data) never cause a retry,
but when one comes for a throttled invite they run again with it, as with *Retry step*. While the retry
runs the tenant reads QUEUED, then PROVISIONING, as for any run, and its end clears a drift flag: the
drift job (engine/drift.py) finds the drift again at its next pass.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import and_, exists, literal_column, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from engine.services.runs import requeue
from engine.services.tenant_locks import tenant_to_run_or_none
from engine.steps import invite_tenant_admin
from engine.workflows import ALL_STEP_TITLES
from storage import audit_log
from storage.db import Database
from storage.queries import runs as run_queries
from storage.tables import ErrorCategory, Run, RunMode, RunStatus, RunTrigger, StepRun, StepStatus, utcnow

log = structlog.get_logger('auto_retry')
AUTO_RETRY_EVERY_SECONDS = 5.0
FIRST_DELAY_S = 30.0
MAX_DELAY_S = 900.0
# An optional step's temporary failure waits longer: the run succeeded, nothing is in a hurry, and
# ERPNext's throttle of new users lasts until the users of the last 60 minutes have aged out.
STEP_FIRST_DELAY_S = 900.0
STEP_MAX_DELAY_S = 3600.0
BATCH = 50


@dataclass(frozen=True)
class AutoRetryPolicy:
    """How many automatic retries a run gets and how long each waits."""

    limit: int = 3
    first_delay_s: float = FIRST_DELAY_S
    max_delay_s: float = MAX_DELAY_S
    step_first_delay_s: float = STEP_FIRST_DELAY_S
    step_max_delay_s: float = STEP_MAX_DELAY_S

    def delay(self, retries_done: int) -> timedelta:
        """Exponential backoff: first_delay, doubled for each retry already made, capped."""
        return timedelta(seconds=min(self.max_delay_s, self.first_delay_s * 2 ** retries_done))

    def step_delay(self, retries_done: int) -> timedelta:
        """The wait before an optional step's automatic retry: 15 min, 30 min, then 60 min (capped)."""
        return timedelta(seconds=min(self.step_max_delay_s, self.step_first_delay_s * 2 ** retries_done))

    def next_retry_at(self, mode: str, category: str | None, auto_retries: int, now: datetime) -> datetime | None:
        """When a run of `mode` that just failed with `category`, after `auto_retries` automatic
        retries, is retried by itself; None when it is not."""
        eligible = mode == RunMode.PROVISION and category == ErrorCategory.TRANSIENT and auto_retries < self.limit
        return now + self.delay(auto_retries) if eligible else None


def temporary_step_failure(step: Mapping[str, Any]) -> bool:
    """Whether a step (as run_detail and the API give it: key, status, critical, error_category, error) is
    an optional step that failed for a reason that passes by itself, so that running it later may succeed."""
    return step.get('status') == StepStatus.FAILED and not step.get('critical') and (
        step.get('error_category') == ErrorCategory.TRANSIENT
        or invite_tenant_admin.throttled(step.get('key'), step.get('error')))


def retry_hint(run: Mapping[str, Any]) -> str | None:
    """What the run page and the API say about a run's automatic retry beside `next_retry_at`: for a
    provisioning run that failed for a transient reason and will not be retried by itself, that its
    automatic retries are used up (or automatic retry is off); for a run that succeeded with an optional
    step failed for a temporary reason, when that step is retried ("ERPNext throttles new users:
    'Invite tenant admin' is retried automatically at 14:05 UTC") or that no retry is scheduled. None
    for any other run (a failed one with an automatic retry coming says when, in `next_retry_at`)."""
    if run.get('status') == RunStatus.SUCCEEDED and run.get('mode') == RunMode.PROVISION:
        return _step_retry_hint(run)
    if (run.get('status') != RunStatus.FAILED or run.get('mode') != RunMode.PROVISION
            or run.get('error_category') != ErrorCategory.TRANSIENT or run.get('next_retry_at') is not None):
        return None
    used = run.get('auto_retries') or 0
    left = f'No automatic retries left ({used} used)' if used else 'No automatic retry for this run'
    return f'{left}: click Retry run once ERPNext is back.'


def _step_retry_hint(run: Mapping[str, Any]) -> str | None:
    steps = [step if isinstance(step, Mapping) else vars(step) for step in run.get('steps') or []]
    temporary = [step for step in steps if temporary_step_failure(step)]
    at = run.get('next_retry_at')
    if not temporary:  # a run without its steps (a list of runs) only knows that a retry comes
        return f'An optional step is retried automatically at {_clock(at)}.' if at and not steps else None
    titles = ', '.join(f"'{step.get('title') or ALL_STEP_TITLES.get(step['key'], step['key'])}'" for step in temporary)
    throttled = any(invite_tenant_admin.throttled(step['key'], step.get('error')) for step in temporary)
    why = invite_tenant_admin.THROTTLE_NOTE if throttled else 'A temporary ERPNext problem'
    if at is not None:
        return f'{why}: {titles} {"is" if len(temporary) == 1 else "are"} retried automatically at {_clock(at)}.'
    used = run.get('auto_retries') or 0
    spent = f' ({used} automatic {"retry" if used == 1 else "retries"} used)' if used else ''
    back = 'takes new users again' if throttled else 'answers again'
    return (f'{why}: no automatic retry of {titles} is scheduled{spent}. Retry the step once ERPNext {back} '
            '(for many tenants at once: POST /api/v1/tenants/bulk-retry-step).')


def _clock(at: datetime) -> str:
    """'14:05 UTC' today, '2026-12-02 00:10 UTC' another day."""
    return f'{at:%H:%M} UTC' if at.date() == utcnow().date() else f'{at:%Y-%m-%d %H:%M} UTC'


class AutoRetry:
    """The periodic job: schedule the retry of optional steps that failed for a temporary reason, and
    queue again every run whose automatic retry is due."""

    def __init__(self, db: Database, policy: AutoRetryPolicy) -> None:
        self.db = db
        self.policy = policy

    async def tick(self, now: datetime | None = None) -> list[int]:
        """Schedule what needs it, then queue the due runs; returns their ids."""
        now = now or utcnow()
        await asyncio.to_thread(self._schedule_step_retries)
        return await asyncio.to_thread(self._retry_due, now)

    def _schedule_step_retries(self) -> None:
        """Stamp each tenant's current run that succeeded with an optional step failed for a temporary
        reason, and has automatic retries left, with the time of its retry (from when it ended)."""
        if self.policy.limit <= 0:
            return
        with self.db.session() as session:
            rows = session.exec(_TO_SCHEDULE.where(col(Run.auto_retries) < self.policy.limit)).all()
            scheduled = []
            for run_id, finished_at, retries in rows:
                at = (finished_at or utcnow()) + self.policy.step_delay(retries)
                if session.execute(update(Run).where(Run.id == run_id, Run.status == RunStatus.SUCCEEDED,
                                                     col(Run.next_retry_at).is_(None))
                                   .values(next_retry_at=at)).rowcount:  # not when changed meanwhile
                    scheduled.append((run_id, retries))
        for run_id, retries in scheduled:
            log.info('run.step_retry_scheduled', run_id=run_id, auto_retry=retries + 1)

    def _retry_due(self, now: datetime) -> list[int]:
        with self.db.session() as session:
            due = list(session.exec(
                select(Run.id).where(col(Run.status).in_((RunStatus.FAILED, RunStatus.SUCCEEDED)),
                                     col(Run.next_retry_at).is_not(None), col(Run.next_retry_at) <= now)
                .order_by(col(Run.next_retry_at)).limit(BATCH)).all())
        return [run_id for run_id in due if self._retry_one(run_id, now)]

    def _retry_one(self, run_id: int, now: datetime) -> bool:
        """One transaction per run: another process may be retrying it, or a user may act on it."""
        try:
            with self.db.session() as session:
                # The tenant's lock first, then the run's: the order a delete of the tenant takes them in
                # (the other order deadlocks with it on PostgreSQL). Gone: deleted since it was found due.
                tenant_id = session.exec(select(Run.tenant_id).where(Run.id == run_id)).first()
                if tenant_id is None or tenant_to_run_or_none(session, tenant_id) is None:
                    return False
                run = session.get(Run, run_id, with_for_update=True, populate_existing=True)  # one process wins
                if run is None or run.status not in (RunStatus.FAILED, RunStatus.SUCCEEDED) \
                        or run.next_retry_at is None or run.next_retry_at > now:
                    return False
                if run_queries.active_run_for_tenant(session, run.tenant_id) is not None:
                    return False  # a plan of the tenant is running: retried once it has ended
                steps = _temporary_steps(session, run) if run.status == RunStatus.SUCCEEDED else []
                if not _current(session, run) or (run.status == RunStatus.SUCCEEDED and not steps):
                    # superseded by a newer run of the tenant, or its step was settled by hand: give up quietly
                    run.next_retry_at = None
                    session.add(run)
                    return False
                retries = run.auto_retries + 1
                step_key = steps[0]['key'] if steps else run.error_step
                error = steps[0]['error'] if steps else run.error_message
                audit_log.record(session, actor=audit_log.SYSTEM_ACTOR, action='run.auto_retried',
                                 tenant_id=run.tenant_id, run_id=run.id, step_key=step_key,
                                 correlation_id=run.correlation_id,
                                 details={'auto_retry': retries, 'limit': self.policy.limit,
                                          'attempt': run.attempt + 1, 'error': error,
                                          **({'steps': [step['key'] for step in steps]} if steps else {})})
                requeue(session, run, RunTrigger.AUTO_RETRY)
                run.auto_retries = retries
                session.add(run)
        except IntegrityError:  # the tenant got another active run meanwhile: this one is superseded
            log.info('run.auto_retry_skipped', run_id=run_id, reason='the tenant has another active run')
            return False
        log.info('run.auto_retried', run_id=run_id, auto_retry=retries, step=step_key)
        return True


def _current(session: Session, run: Run) -> bool:
    """Only the tenant's current run is retried (not one a newer run superseded)."""
    current = run_queries.current_run_for_tenant(session, run.tenant_id)
    return current is not None and current.id == run.id


def _temporary_steps(session: Session, run: Run) -> list[dict[str, Any]]:
    """The run's optional steps that failed for a temporary reason, in workflow order."""
    steps = [{'key': step.step_key, 'status': step.status, 'critical': step.critical,
              'error_category': step.error_category, 'error': step.error_message}
             for step in run_queries.steps_of_run(session, run.id)]
    return [step for step in steps if temporary_step_failure(step)]


def _temporary_failure_clause() -> Any:
    """`temporary_step_failure` in SQL, on StepRun."""
    throttled = and_(StepRun.step_key == invite_tenant_admin.InviteTenantAdmin.key,
                     col(StepRun.error_message).contains(invite_tenant_admin.THROTTLE_MARK, autoescape=True))
    return and_(StepRun.status == StepStatus.FAILED, col(StepRun.critical).is_(False),
                or_(StepRun.error_category == ErrorCategory.TRANSIENT, throttled))


def _runs_to_schedule() -> Any:
    """The runs that succeeded with warnings (the partial index `ix_run_warned`: `> 0` written out), have
    no retry scheduled, are their tenant's newest non-plan run and have an optional step failed for a
    temporary reason: their id, end and automatic retries so far."""
    later = aliased(Run)
    return (select(Run.id, Run.finished_at, Run.auto_retries)
            .where(Run.status == RunStatus.SUCCEEDED, col(Run.warnings) > literal_column('0'),
                   Run.mode == RunMode.PROVISION, col(Run.next_retry_at).is_(None))
            .where(~exists().where(later.tenant_id == Run.tenant_id, later.id > Run.id, later.mode != RunMode.PLAN))
            .where(exists().where(StepRun.run_id == Run.id, _temporary_failure_clause()))
            .order_by(col(Run.id)).limit(BATCH))


_TO_SCHEDULE = _runs_to_schedule()
