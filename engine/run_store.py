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
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, select, update
from sqlmodel import Session, col

from engine.services import audit
from storage.db import Database, is_postgres
from storage.queries import runs as run_queries
from storage.tables import (
    Engine,
    EngineHealth,
    ErrorCategory,
    Run,
    RunMode,
    RunStatus,
    StepRun,
    StepStatus,
    Tenant,
    TenantStatus,
    utcnow,
)
from engine.steps.base import TenantSpec

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


@dataclass(frozen=True)
class StepOutcome:
    status: str
    attempts: int
    started_at: datetime
    duration_ms: int
    output: dict[str, Any]
    category: str | None = None
    message: str | None = None


class RunStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def start(self, run_id: int, owner: str | None = None) -> RunSnapshot | None:
        """Mark the run RUNNING and reset unfinished steps; None when it is no longer runnable
        (or, with an `owner`, no longer leased to it)."""
        with self.db.session() as session:
            run = session.get(Run, run_id, with_for_update=True)
            if run is None or run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
                return None
            if owner is not None and run.lease_owner != owner:
                return None
            tenant = session.get(Tenant, run.tenant_id)
            run.status = RunStatus.RUNNING
            run.started_at = run.started_at or utcnow()
            run.error_category = run.error_message = run.error_step = None
            if run.mode == RunMode.PROVISION:
                _set_tenant(tenant, TenantStatus.PROVISIONING, None)
            elif run.mode == RunMode.DEPROVISION:
                _set_tenant(tenant, TenantStatus.DEPROVISIONING, None)
            snapshot = _snapshot(session, run, tenant)
            session.add_all([run, tenant])
            return snapshot

    def checkpoint(self, run_id: int, *, finished: Sequence[tuple[str, StepOutcome]] = (),
                   starting: Sequence[str] = (), started_at: datetime | None = None,
                   owner: str | None = None) -> bool:
        """One transaction between two moments of the run: record the steps that `finished` and
        mark the steps `starting` as RUNNING (attempt 1). Returns False, starting nothing, when
        the run was cancelled meanwhile (the steps that finished are still recorded). Core
        statements, not the ORM: this runs a few times per run and per step."""
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
        query = select(Run.status, Run.lease_owner).where(Run.id == run_id)
        locked = owner is not None and is_postgres(self.db.engine)
        row = connection.execute(query.with_for_update() if locked else query).one_or_none()
        if row is None or _taken_over(row.status, row.lease_owner, owner):
            raise LeaseLost(run_id)
        return row.status

    def save_intents(self, run_id: int, intents: dict[str, list[str]]) -> None:
        with self.db.transaction() as connection:
            meta = connection.execute(select(Run.meta).where(Run.id == run_id)).scalar_one()
            connection.execute(update(Run).where(Run.id == run_id).values({Run.meta: {**meta, 'intents': intents}}))

    def finish(self, run_id: int, *, failed: tuple[str, str, str] | None, warnings: int,
               abbr: str | None, owner: str | None = None, auto_retry: AutoRetryPolicy | None = None,
               finished: Sequence[tuple[str, StepOutcome]] = ()) -> tuple[str, float | None]:
        """Record the last steps that `finished`, close the run (unless it was cancelled meanwhile)
        and bring the tenant's status in line; a transient failure gets its automatic retry time
        from `auto_retry`. Returns the final status and the run's duration in seconds (None if it
        ended elsewhere)."""
        with self.db.session() as session:
            run = session.get(Run, run_id, with_for_update=True)
            tenant = session.get(Tenant, run.tenant_id)
            if _taken_over(run.status, run.lease_owner, owner):
                raise LeaseLost(run_id)
            _record_finished(session, run_id, finished)
            if abbr and run.mode == RunMode.PROVISION:
                tenant.abbr = abbr
            run.warnings = warnings
            if run.status == RunStatus.RUNNING:
                run.status = RunStatus.FAILED if failed else RunStatus.SUCCEEDED
                run.finished_at = utcnow()
                run.lease_owner = run.lease_expires_at = None
                if failed:
                    run.error_step, run.error_category, message = failed
                    run.error_message = _clip(message)
                    run.next_retry_at = auto_retry.next_retry_at(run, run.finished_at) if auto_retry else None
                if run.mode == RunMode.PROVISION:
                    status = TenantStatus.FAILED if failed else TenantStatus.PROVISIONED
                    _set_tenant(tenant, status, run.error_message)
                    if not failed:  # its verification passed: ERPNext matches what was recorded
                        tenant.drifted, tenant.drift_detail = False, None
                elif run.mode == RunMode.DEPROVISION:  # a failed teardown stays DEPROVISIONING, retryable
                    status = TenantStatus.DEPROVISIONING if failed else TenantStatus.DEPROVISIONED
                    _set_tenant(tenant, status, run.error_message)
                    if not failed:
                        tenant.drifted, tenant.drift_detail = False, None
            session.add_all([run, tenant])
            ended = run.finished_at and run.started_at
            duration = (run.finished_at - run.started_at).total_seconds() if ended else None
            return run.status, duration

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
            run.error_step, run.error_category, run.error_message = step, ErrorCategory.TRANSIENT, _clip(note)
            if run.mode == RunMode.PROVISION:
                _set_tenant(session.get(Tenant, run.tenant_id), TenantStatus.QUEUED, run.error_message)
            elif run.mode == RunMode.DEPROVISION:
                _set_tenant(session.get(Tenant, run.tenant_id), TenantStatus.DEPROVISIONING, run.error_message)
            engine = session.get(Engine, run.engine_id)
            engine.health, engine.last_checked_at = EngineHealth.OFFLINE, now
            engine.last_error = _clip(engine_error)
            audit.record(session, actor=audit.SYSTEM_ACTOR, action='run.parked', tenant_id=run.tenant_id,
                         run_id=run.id, step_key=step, correlation_id=run.correlation_id,
                         details={'engine_id': run.engine_id, 'reason': engine_error})
            session.add_all([run, engine])
            return True


def _snapshot(session, run: Run, tenant: Tenant) -> RunSnapshot:
    spec = TenantSpec(id=tenant.id, name=tenant.name, company_name=tenant.company_name, country=tenant.country,
                      currency=tenant.currency, admin_email=tenant.admin_email, stores=tenant.stores,
                      abbr=tenant.abbr)
    snapshot = RunSnapshot(run_id=run.id, engine_id=run.engine_id, correlation_id=run.correlation_id,
                           plan=run.mode == RunMode.PLAN, mode=run.mode, tenant=spec,
                           intents=run_queries.intents_of_tenant(session, tenant.id))
    for step in run_queries.steps_of_run(session, run.id):
        if step.status in (StepStatus.RUNNING, StepStatus.FAILED):
            _reset(step)
            session.add(step)
        snapshot.steps[step.step_key] = step.status
        if step.status == StepStatus.SUCCEEDED:
            snapshot.outputs[step.step_key] = step.output
        elif step.status == StepStatus.SKIPPED:
            snapshot.skipped.add(step.step_key)
    return snapshot


_STEPS = StepRun.__table__
_FINISHED = (update(_STEPS).where(_STEPS.c.run_id == bindparam('b_run'), _STEPS.c.step_key == bindparam('b_key'))
             .values(status=bindparam('b_status'), attempts=bindparam('b_attempts'),
                     started_at=bindparam('b_started'), finished_at=bindparam('b_finished'),
                     duration_ms=bindparam('b_duration'), output=bindparam('b_output'),
                     error_category=bindparam('b_category'), error_message=bindparam('b_message')))


def _record_finished(connection: Connection | Session, run_id: int,
                     finished: Sequence[tuple[str, StepOutcome]]) -> None:
    """The outcomes of steps that ended, in one executemany."""
    if not finished:
        return
    now = utcnow()
    connection.execute(_FINISHED, [
        {'b_run': run_id, 'b_key': key, 'b_status': outcome.status, 'b_attempts': outcome.attempts,
         'b_started': outcome.started_at, 'b_finished': now, 'b_duration': outcome.duration_ms,
         'b_output': outcome.output, 'b_category': outcome.category, 'b_message': _clip(outcome.message)}
        for key, outcome in finished])


def _mark_running(connection: Connection, run_id: int, keys: Sequence[str], attempts: int,
                  started_at: datetime) -> None:
    connection.execute(update(StepRun).where(StepRun.run_id == run_id, col(StepRun.step_key).in_(keys))
                       .values(status=StepStatus.RUNNING, attempts=attempts, started_at=started_at,
                               finished_at=None, error_category=None, error_message=None))


def _taken_over(status: str, lease_owner: str | None, owner: str | None) -> bool:
    """Whether the run is active under someone else's lease (or back in the queue) while `owner`
    still works on it. A cancelled or finished run is not taken over: steps in flight may record."""
    return owner is not None and status in (RunStatus.QUEUED, RunStatus.RUNNING) and lease_owner != owner


def _reset(step: StepRun) -> None:
    """A step that was running when the process died, or that failed, runs again (idempotently)."""
    step.status = StepStatus.PENDING
    step.finished_at = None


def _set_tenant(tenant: Tenant, status: str, error: str | None) -> None:
    tenant.status, tenant.last_error, tenant.updated_at = status, error, utcnow()


def _clip(message: str | None) -> str | None:
    return message if message is None or len(message) <= 2000 else message[:1999] + '…'


__all__ = ['ErrorCategory', 'LeaseLost', 'RunSnapshot', 'RunStore', 'StepOutcome']
