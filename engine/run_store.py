"""The runner's checkpoints: every change of a run or step is one short committed transaction.

Synchronous on purpose (the runner calls it through `asyncio.to_thread`): SQLite and psycopg are
blocking drivers, and a transaction must never stay open across an await on ERPNext.

Fencing: when the runner works for a dispatcher, every checkpoint names the lease `owner` and is
refused (LeaseLost) once another process holds the run, so a run is executed by one process at
a time even if a process stalled past its lease.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Connection, Text, bindparam, cast, func, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import col

from engine import tenant_status
from engine.errors import RunCancelledError
from engine.steps.base import TenantSpec
from storage import audit_log, run_meta
from storage.db import Database, is_postgres
from storage.queries import runs as run_queries
from storage.tables import (
    RUN_AGAIN,
    Engine,
    EngineHealth,
    ErrorCategory,
    Run,
    RunMode,
    RunStatus,
    StepRun,
    StepStatus,
    Tenant,
    clip,
    utcnow,
)

if TYPE_CHECKING:
    from engine.auto_retry import AutoRetryPolicy


class LeaseLost(Exception):
    """Another process holds this run now (our lease expired): stop working on it, write nothing."""


@dataclass
class RunSnapshot:
    """What the runner needs to (re)start a run."""

    run_id: int
    engine_id: int
    correlation_id: str
    plan: bool
    tenant: TenantSpec
    intents: dict[str, list[str]]
    mode: str = RunMode.PROVISION
    steps: dict[str, str] = field(default_factory=dict)  # key → status
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: set[str] = field(default_factory=set)
    by_hand: set[str] = field(default_factory=set)  # marked succeeded by a person: no output of their own


@dataclass(frozen=True)
class StepOutcome:
    status: str
    attempts: int
    started_at: datetime
    duration_ms: int
    output: dict[str, Any]
    category: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class StepFailure:
    """The critical step failure that ends a run: the run's error (`message` names the step)."""

    step: str
    category: str
    message: str


class RunStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        set_intents = _SET_INTENTS_POSTGRES if is_postgres(db.engine) else _SET_INTENTS_SQLITE
        # by whether the save names a lease owner (a dispatcher's run): then only while it holds the run
        self._set_intents = {False: set_intents, True: set_intents.where(Run.lease_owner == bindparam('b_owner'))}

    def start(self, run_id: int, owner: str | None = None) -> RunSnapshot | None:
        """Mark the run RUNNING and reset unfinished steps; None when it is no longer runnable
        (or, with an `owner`, no longer leased to it)."""
        with self.db.transaction() as connection:
            run = connection.execute(_RUN_TO_START, {'b_run': run_id}).one_or_none()
            if run is None or run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
                return None
            if owner is not None and run.lease_owner != owner:
                return None
            now = utcnow()
            connection.execute(_MARK_RUN_STARTED, {'b_run': run_id, 'b_started': run.started_at or now})
            if statuses := tenant_status.lifecycle(run.mode):
                connection.execute(tenant_status.SET_STATUS, {'b_tenant': run.tenant_id, 'b_status': statuses.running,
                                                              'b_error': None, 'b_now': now})
            return _snapshot(connection, run)

    def checkpoint(self, run_id: int, *, finished: Sequence[tuple[str, StepOutcome]] = (),
                   starting: Sequence[str] = (), started_at: datetime | None = None,
                   owner: str | None = None) -> bool:
        """One transaction between two moments of the run: record the steps that `finished` and
        mark the steps `starting` as RUNNING (attempt 1). Returns False, starting nothing, when
        the run was cancelled meanwhile (the steps that finished are still recorded)."""
        with self.db.transaction() as connection:
            active = self._lease_status(connection, run_id, owner) != RunStatus.CANCELLED
            _record_finished(connection, run_id, finished)
            if active and starting:
                _mark_running(connection, run_id, starting, 1, started_at or utcnow())
            return active

    def step_attempt(self, run_id: int, key: str, attempts: int, started_at: datetime,
                     owner: str | None = None) -> None:
        """A retry of a step that is already RUNNING: count the attempt and clear the last error."""
        with self.db.transaction() as connection:
            self._lease_status(connection, run_id, owner)
            _mark_running(connection, run_id, [key], attempts, started_at)

    def _lease_status(self, connection: Connection, run_id: int, owner: str | None) -> str:
        """The run's status, refusing a checkpoint of a process whose lease on it was taken over
        (PostgreSQL: with an owner, the run's row stays locked until the checkpoint commits, so no
        claim slips in between)."""
        locked = owner is not None and is_postgres(self.db.engine)
        row = connection.execute(_LEASE_LOCKED if locked else _LEASE, {'b_run': run_id}).one_or_none()
        if row is None or _taken_over(row.status, row.lease_owner, owner):
            raise LeaseLost(run_id)
        return row.status

    def save_intents(self, run_id: int, intents: dict[str, list[str]], owner: str | None = None) -> None:
        """Record the intents before the writes they announce. Nothing is recorded, and the step that
        was about to write stops, once the run was cancelled (RunCancelledError) or, with an `owner`,
        taken over by another process (LeaseLost): the write it announces must not happen twice."""
        parameters = {'b_run': run_id, 'b_intents': intents, **({'b_owner': owner} if owner is not None else {})}
        with self.db.statement() as connection:  # one UPDATE: the rest of the metadata is not read
            if connection.execute(self._set_intents[owner is not None], parameters).rowcount:
                return
            row = connection.execute(_LEASE, {'b_run': run_id}).one_or_none()  # why not (rare)
        if row is not None and _taken_over(row.status, row.lease_owner, owner):
            raise LeaseLost(run_id)
        raise RunCancelledError()

    def finish(self, run_id: int, *, failed: StepFailure | None, warnings: int,
               abbr: str | None, owner: str | None = None, auto_retry: AutoRetryPolicy | None = None,
               finished: Sequence[tuple[str, StepOutcome]] = ()) -> tuple[str, float | None]:
        """Record the last steps that `finished`, close the run (unless it was cancelled meanwhile)
        and bring the tenant's status in line; a transient failure gets its automatic retry time
        from `auto_retry`. Returns the final status and the run's duration in seconds (None if it
        ended elsewhere)."""
        with self.db.transaction() as connection:
            run = connection.execute(_RUN_TO_FINISH, {'b_run': run_id}).one()
            if _taken_over(run.status, run.lease_owner, owner):
                raise LeaseLost(run_id)
            _record_finished(connection, run_id, finished)
            if abbr and run.mode == RunMode.PROVISION:
                connection.execute(_SET_TENANT_ABBR, {'b_tenant': run.tenant_id, 'b_abbr': abbr})
            if run.status != RunStatus.RUNNING:  # cancelled meanwhile: it keeps its status and end,
                # and the lease its steps in flight held while they ended goes (see cancel_run)
                now = utcnow()
                connection.execute(_CLOSE_CANCELLED_RUN, {'b_run': run_id, 'b_warnings': warnings, 'b_now': now})
                return run.status, (now - run.started_at).total_seconds() if run.started_at else None
            now, error = utcnow(), None
            status = RunStatus.FAILED if failed else RunStatus.SUCCEEDED
            values = {'b_run': run_id, 'b_status': status, 'b_now': now, 'b_warnings': warnings}
            if failed:
                error = clip(failed.message)
                retry_at = (auto_retry.next_retry_at(run.mode, failed.category, run.auto_retries, now)
                            if auto_retry else None)
                connection.execute(_CLOSE_FAILED_RUN, {**values, 'b_step': failed.step, 'b_category': failed.category,
                                                       'b_message': error, 'b_retry_at': retry_at})
            else:
                connection.execute(_CLOSE_RUN, values)
            if statuses := tenant_status.lifecycle(run.mode):
                connection.execute(tenant_status.SET_STATUS, {
                    'b_tenant': run.tenant_id, 'b_status': statuses.failed if failed else statuses.succeeded,
                    'b_error': error, 'b_now': now})
            return status, (now - run.started_at).total_seconds() if run.started_at else None

    def park(self, run_id: int, *, owner: str | None, step: str, note: str, engine_error: str) -> bool:
        """The engine went away mid-run: put the run back in the queue as waiting (not failed), with
        a readable `note`, and mark the engine offline so that nothing is claimed for it until its
        health check sees it again. False when the run is no longer ours to park."""
        with self.db.session() as session:
            run = session.get(Run, run_id, with_for_update=True)
            if run is None or run.status != RunStatus.RUNNING or (owner is not None and run.lease_owner != owner):
                return False
            now = utcnow()
            run.status, run.queued_at, run.lease_owner, run.lease_expires_at = RunStatus.QUEUED, now, None, None
            run.error_step, run.error_category, run.error_message = step, ErrorCategory.TRANSIENT, clip(note)
            if statuses := tenant_status.lifecycle(run.mode):
                tenant_status.set_status(session.get(Tenant, run.tenant_id), statuses.queued, run.error_message)
            engine = session.get(Engine, run.engine_id)
            engine.health, engine.last_checked_at = EngineHealth.OFFLINE, now
            engine.last_error = clip(engine_error)
            audit_log.record(session, actor=audit_log.SYSTEM_ACTOR, action='run.parked', tenant_id=run.tenant_id,
                             run_id=run.id, step_key=step, correlation_id=run.correlation_id,
                             details={'engine_id': run.engine_id, 'reason': engine_error})
            session.add_all([run, engine])
            return True


# The hot statements, built once: building a statement costs several times what executing it does.
_RUN = bindparam('b_run')
_RUN_TO_START = select(Run.id, Run.status, Run.lease_owner, Run.mode, Run.tenant_id, Run.engine_id,
                       Run.correlation_id, Run.started_at).where(Run.id == _RUN).with_for_update()
_MARK_RUN_STARTED = update(Run).where(Run.id == _RUN).values(
    status=RunStatus.RUNNING, started_at=bindparam('b_started'), error_category=None, error_message=None,
    error_step=None)
_LEASE = select(Run.status, Run.lease_owner).where(Run.id == _RUN)
_LEASE_LOCKED = _LEASE.with_for_update()
# The run's metadata with its intents replaced in the database (its other keys, such as the claims,
# as they are): one statement, no read first.
_INTENTS = bindparam('b_intents', type_=JSON)
_SET_INTENTS = update(Run).where(Run.id == _RUN, Run.status == RunStatus.RUNNING)
_SET_INTENTS_POSTGRES = _SET_INTENTS.values({Run.meta: cast(func.jsonb_set(
    cast(Run.meta, JSONB), literal([run_meta.INTENTS], ARRAY(Text)), cast(_INTENTS, JSONB)), JSON)})
_SET_INTENTS_SQLITE = _SET_INTENTS.values(
    {Run.meta: func.json_set(Run.meta, f'$.{run_meta.INTENTS}', func.json(_INTENTS))})
_RUN_TO_FINISH = select(Run.status, Run.lease_owner, Run.mode, Run.tenant_id, Run.started_at, Run.finished_at,
                        Run.auto_retries).where(Run.id == _RUN).with_for_update()
_CLOSE_CANCELLED_RUN = update(Run).where(Run.id == _RUN).values(  # it ends when its last step has
    warnings=bindparam('b_warnings'), finished_at=bindparam('b_now'), lease_owner=None, lease_expires_at=None)
_CLOSE_RUN = update(Run).where(Run.id == _RUN).values(
    status=bindparam('b_status'), finished_at=bindparam('b_now'), warnings=bindparam('b_warnings'),
    lease_owner=None, lease_expires_at=None)
_CLOSE_FAILED_RUN = _CLOSE_RUN.values(
    error_step=bindparam('b_step'), error_category=bindparam('b_category'), error_message=bindparam('b_message'),
    next_retry_at=bindparam('b_retry_at'))
_TENANT = bindparam('b_tenant')
_SET_TENANT_ABBR = update(Tenant).where(Tenant.id == _TENANT).values(abbr=bindparam('b_abbr'))
_TENANT_SPEC = select(Tenant.id, Tenant.name, Tenant.company_name, Tenant.country, Tenant.currency,
                      Tenant.admin_email, Tenant.stores, Tenant.abbr).where(Tenant.id == _TENANT)
_TENANT_METAS = select(Run.meta).where(Run.tenant_id == _TENANT)
_STEPS_OF_RUN = select(StepRun.step_key, StepRun.status, StepRun.output, StepRun.manual_by).where(
    StepRun.run_id == _RUN).order_by(col(StepRun.position))
_UNFINISHED = (StepStatus.RUNNING, StepStatus.FAILED)  # ran when the process died, or failed: they run again
# (their last execution folded into their earlier counters; a step waiting to run again shows no
# earlier error)
_RESET_UNFINISHED = update(StepRun).where(StepRun.run_id == _RUN, col(StepRun.status).in_(_UNFINISHED)).values(
    RUN_AGAIN)
_MARK_RUNNING = update(StepRun).where(StepRun.run_id == _RUN, col(StepRun.step_key).in_(
    bindparam('b_keys', expanding=True))).values(
    status=StepStatus.RUNNING, attempts=bindparam('b_attempts'), started_at=bindparam('b_started'),
    finished_at=None, error_category=None, error_message=None)


def _snapshot(connection: Connection, run) -> RunSnapshot:
    tenant = connection.execute(_TENANT_SPEC, {'b_tenant': run.tenant_id}).one()
    intents = run_queries.merge_intents(connection.execute(_TENANT_METAS, {'b_tenant': run.tenant_id}).scalars())
    snapshot = RunSnapshot(run_id=run.id, engine_id=run.engine_id, correlation_id=run.correlation_id,
                           plan=run.mode == RunMode.PLAN, mode=run.mode, tenant=TenantSpec(**tenant._mapping),
                           intents=intents)
    steps = connection.execute(_STEPS_OF_RUN, {'b_run': run.id}).all()
    if any(step.status in _UNFINISHED for step in steps):
        connection.execute(_RESET_UNFINISHED, {'b_run': run.id})
    for key, status, output, manual_by in steps:
        status = StepStatus.PENDING if status in _UNFINISHED else status
        snapshot.steps[key] = status
        if status == StepStatus.SUCCEEDED:
            snapshot.outputs[key] = output
            if manual_by and not output:
                snapshot.by_hand.add(key)
        elif status == StepStatus.SKIPPED:
            snapshot.skipped.add(key)
    return snapshot


_STEPS = StepRun.__table__
_FINISHED = (update(_STEPS).where(_STEPS.c.run_id == bindparam('b_run'), _STEPS.c.step_key == bindparam('b_key'))
             .values(status=bindparam('b_status'), attempts=bindparam('b_attempts'),
                     started_at=bindparam('b_started'), finished_at=bindparam('b_finished'),
                     duration_ms=bindparam('b_duration'), output=bindparam('b_output'),
                     error_category=bindparam('b_category'), error_message=bindparam('b_message')))


def _record_finished(connection: Connection, run_id: int,
                     finished: Sequence[tuple[str, StepOutcome]]) -> None:
    """The outcomes of steps that ended, in one executemany. A step ended `duration_ms` after it
    started, not when this checkpoint commits: the steps it unblocked started before that commit,
    and must not seem to start before their dependency ended (QA pass 9)."""
    if not finished:
        return
    connection.execute(_FINISHED, [
        {'b_run': run_id, 'b_key': key, 'b_status': outcome.status, 'b_attempts': outcome.attempts,
         'b_started': outcome.started_at, 'b_finished': _ended_at(outcome), 'b_duration': outcome.duration_ms,
         'b_output': outcome.output, 'b_category': outcome.category, 'b_message': clip(outcome.message)}
        for key, outcome in finished])


def _ended_at(outcome: StepOutcome) -> datetime:
    return outcome.started_at + timedelta(milliseconds=outcome.duration_ms)


def _mark_running(connection: Connection, run_id: int, keys: Sequence[str], attempts: int,
                  started_at: datetime) -> None:
    connection.execute(_MARK_RUNNING, {'b_run': run_id, 'b_keys': list(keys), 'b_attempts': attempts,
                                       'b_started': started_at})


def _taken_over(status: str, lease_owner: str | None, owner: str | None) -> bool:
    """Whether the run is active under someone else's lease (or back in the queue) while `owner`
    still works on it. A cancelled or finished run is not taken over: steps in flight may record."""
    return owner is not None and status in (RunStatus.QUEUED, RunStatus.RUNNING) and lease_owner != owner


__all__ = ['ErrorCategory', 'LeaseLost', 'RunSnapshot', 'RunStore', 'StepOutcome']
