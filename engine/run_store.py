"""The runner's checkpoints: every change of a run or step is one short committed transaction.

Synchronous on purpose (the runner calls it through `asyncio.to_thread`): SQLite and psycopg are
blocking drivers, and a transaction must never stay open across an await on ERPNext.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from storage.db import Database
from storage.queries import runs as run_queries
from storage.tables import (
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


@dataclass
class RunSnapshot:
    """What the runner needs to (re)start a run."""

    run_id: int
    engine_id: int
    correlation_id: str
    plan: bool
    tenant: TenantSpec
    intents: dict[str, list[str]]
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

    def start(self, run_id: int) -> RunSnapshot | None:
        """Mark the run RUNNING and reset unfinished steps; None when it is no longer runnable."""
        with self.db.session() as session:
            run = session.get(Run, run_id)
            if run is None or run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
                return None
            tenant = session.get(Tenant, run.tenant_id)
            run.status = RunStatus.RUNNING
            run.started_at = run.started_at or utcnow()
            run.error_category = run.error_message = run.error_step = None
            if run.mode == RunMode.PROVISION:
                _set_tenant(tenant, TenantStatus.PROVISIONING, None)
            snapshot = _snapshot(session, run, tenant)
            session.add_all([run, tenant])
            return snapshot

    def step_attempt(self, run_id: int, key: str, attempts: int, started_at: datetime) -> None:
        with self.db.session() as session:
            step = run_queries.step_of_run(session, run_id, key)
            step.status, step.attempts = StepStatus.RUNNING, attempts
            step.started_at = started_at
            step.finished_at = step.error_category = step.error_message = None
            session.add(step)

    def step_finished(self, run_id: int, key: str, outcome: StepOutcome) -> None:
        with self.db.session() as session:
            step = run_queries.step_of_run(session, run_id, key)
            step.status, step.attempts = outcome.status, outcome.attempts
            step.started_at, step.finished_at = outcome.started_at, utcnow()
            step.duration_ms, step.output = outcome.duration_ms, outcome.output
            step.error_category, step.error_message = outcome.category, _clip(outcome.message)
            session.add(step)

    def save_intents(self, run_id: int, intents: dict[str, list[str]]) -> None:
        with self.db.session() as session:
            run = session.get(Run, run_id)
            run.meta = {**run.meta, 'intents': intents}
            session.add(run)

    def status(self, run_id: int) -> str | None:
        with self.db.session() as session:
            run = session.get(Run, run_id)
            return run.status if run else None

    def finish(self, run_id: int, *, failed: tuple[str, str, str] | None, warnings: int,
               abbr: str | None) -> tuple[str, float | None]:
        """Close the run (unless it was cancelled meanwhile) and bring the tenant's status in line.
        Returns the final status and the run's duration in seconds (None if it ended elsewhere)."""
        with self.db.session() as session:
            run = session.get(Run, run_id)
            tenant = session.get(Tenant, run.tenant_id)
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
                if run.mode == RunMode.PROVISION:
                    status = TenantStatus.FAILED if failed else TenantStatus.PROVISIONED
                    _set_tenant(tenant, status, run.error_message)
            session.add_all([run, tenant])
            duration = (run.finished_at - run.started_at).total_seconds() if run.finished_at and run.started_at else None
            return run.status, duration


def _snapshot(session, run: Run, tenant: Tenant) -> RunSnapshot:
    spec = TenantSpec(id=tenant.id, name=tenant.name, company_name=tenant.company_name, country=tenant.country,
                      currency=tenant.currency, admin_email=tenant.admin_email, stores=tenant.stores,
                      abbr=tenant.abbr)
    snapshot = RunSnapshot(run_id=run.id, engine_id=run.engine_id, correlation_id=run.correlation_id,
                           plan=run.mode == RunMode.PLAN, tenant=spec,
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


def _reset(step: StepRun) -> None:
    """A step that was running when the process died, or that failed, runs again (idempotently)."""
    step.status = StepStatus.PENDING
    step.finished_at = None


def _set_tenant(tenant: Tenant, status: str, error: str | None) -> None:
    tenant.status, tenant.last_error, tenant.updated_at = status, error, utcnow()


def _clip(message: str | None) -> str | None:
    return message if message is None or len(message) <= 2000 else message[:1999] + '…'


__all__ = ['ErrorCategory', 'RunSnapshot', 'RunStore', 'StepOutcome']
