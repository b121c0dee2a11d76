"""The tables of DESIGN.md as SQLModel models.

Timestamps are timezone-aware UTC datetimes (`UTCDateTime` stores them naive in UTC and gives
them back aware). JSON columns are plain dicts: assign a new dict to change one (SQLAlchemy does
not track in-place mutation).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Column, Field, SQLModel

from storage.name_keys import KEY_LENGTH, name_key

MESSAGE_LENGTH = 2000  # the error, detail and alert message columns below


def utcnow() -> datetime:
    return datetime.now(UTC)


def clip(message: str | None, limit: int = MESSAGE_LENGTH) -> str | None:
    """`message` cut to fit a column of `limit` characters, its last one '…' when it was cut."""
    return message if message is None or len(message) <= limit else message[:limit - 1] + '…'


class UTCDateTime(TypeDecorator):
    """A DateTime stored as naive UTC and read back timezone-aware."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError('naive datetime given to a UTC column')
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


def ts(*, nullable: bool = True, index: bool = False) -> Any:
    """A UTC timestamp column."""
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


def created_ts() -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


def json_col(name: str | None = None) -> Any:
    column = Column(name, sa.JSON, nullable=False) if name else Column(sa.JSON, nullable=False)
    return Field(default_factory=dict, sa_column=column)


class Role(StrEnum):
    ADMIN = 'admin'
    SUPPORT = 'support'
    MANAGER = 'manager'


class EngineHealth(StrEnum):
    UNKNOWN = 'unknown'
    ONLINE = 'online'
    OFFLINE = 'offline'


class TenantStatus(StrEnum):
    NOT_STARTED = 'NOT_STARTED'
    QUEUED = 'QUEUED'
    PROVISIONING = 'PROVISIONING'
    PROVISIONED = 'PROVISIONED'
    FAILED = 'FAILED'
    DEPROVISIONING = 'DEPROVISIONING'
    DEPROVISIONED = 'DEPROVISIONED'


class RunStatus(StrEnum):
    QUEUED = 'QUEUED'
    RUNNING = 'RUNNING'
    SUCCEEDED = 'SUCCEEDED'
    FAILED = 'FAILED'
    CANCELLED = 'CANCELLED'


ACTIVE_RUN_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)


class RunTrigger(StrEnum):
    MANUAL = 'manual'
    RETRY = 'retry'
    AUTO_RETRY = 'auto_retry'
    BULK = 'bulk'


class RunMode(StrEnum):
    PROVISION = 'provision'
    PLAN = 'plan'
    DEPROVISION = 'deprovision'


class StepStatus(StrEnum):
    PENDING = 'PENDING'
    RUNNING = 'RUNNING'
    SUCCEEDED = 'SUCCEEDED'
    FAILED = 'FAILED'
    SKIPPED = 'SKIPPED'


class ErrorCategory(StrEnum):
    TRANSIENT = 'transient'
    CRITICAL = 'critical'
    NON_CRITICAL = 'non_critical'


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, sa_column_kwargs={'unique': True}, nullable=False)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=16)
    active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = ts()
    created_at: datetime = created_ts()


class ApiToken(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key='user.id', index=True)
    token_hash: str = Field(max_length=128, sa_column_kwargs={'unique': True}, nullable=False)
    name: str = Field(default='api', max_length=64)
    created_at: datetime = created_ts()
    expires_at: datetime | None = ts()
    last_used_at: datetime | None = ts()
    revoked: bool = False


def name_key_col() -> Any:
    """The name's key (storage/name_keys.py), unique: computed from `name` on every insert that
    does not give one, through the ORM or Core alike; a rename must set it (the services do)."""
    column = Column('name_key', sa.String(KEY_LENGTH), nullable=False, default=_name_key_of_row)
    return Field(default=None, sa_column=column)


def _name_key_of_row(context: Any) -> str:
    return name_key(context.get_current_parameters()['name'])


class Engine(SQLModel, table=True):
    # sqlite_autoincrement: an id is never handed out again after its engine is deleted (migration 0010).
    __table_args__ = (sa.Index('uq_engine_name_key', 'name_key', unique=True), {'sqlite_autoincrement': True})
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=140, sa_column_kwargs={'unique': True}, nullable=False)
    name_key: str = name_key_col()
    base_url: str = Field(max_length=500)
    api_key: str = Field(max_length=255)
    api_secret_encrypted: str = Field(max_length=1000)
    max_concurrent_runs: int = 4
    # Outbound ERPNext requests a second from one process (engine/clients.py); 429 Retry-After on top.
    requests_per_second: int = Field(default=50, sa_column_kwargs={'server_default': '50'})
    health: str = Field(default=EngineHealth.UNKNOWN, max_length=16)
    version: str | None = Field(default=None, max_length=255)
    last_checked_at: datetime | None = ts()
    last_error: str | None = Field(default=None, max_length=MESSAGE_LENGTH)
    created_at: datetime = created_ts()


class Tenant(SQLModel, table=True):
    __table_args__ = (
        sa.Index('ix_tenant_status_engine', 'status', 'engine_id'),
        sa.Index('ix_tenant_created', 'created_at'),
        sa.Index('uq_tenant_name_key', 'name_key', unique=True),
        {'sqlite_autoincrement': True},  # an id is never handed out again after its tenant is deleted (0010)
    )
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=140, sa_column_kwargs={'unique': True}, nullable=False)
    # Case and spacing aside, one name one tenant (a Company in ERPNext is named after it).
    name_key: str = name_key_col()
    company_name: str = Field(max_length=140)
    abbr: str | None = Field(default=None, max_length=140)
    country: str = Field(max_length=140)
    currency: str = Field(max_length=3)
    admin_email: str = Field(max_length=254)
    stores: int = 1
    engine_id: int = Field(foreign_key='engine.id', index=True)
    status: str = Field(default=TenantStatus.NOT_STARTED, max_length=16)
    last_error: str | None = Field(default=None, max_length=MESSAGE_LENGTH)
    # Drift: what the last check found missing or changed in ERPNext (None when all was there).
    drifted: bool = Field(default=False, sa_column_kwargs={'server_default': sa.false()})
    drift_detail: str | None = Field(default=None, max_length=MESSAGE_LENGTH)
    drift_checked_at: datetime | None = ts()
    created_by: str | None = Field(default=None, max_length=64)
    created_at: datetime = created_ts()
    updated_at: datetime = created_ts()


class Run(SQLModel, table=True):
    __table_args__ = (
        # At most one QUEUED or RUNNING run per tenant, enforced by the database.
        sa.Index(
            'uq_run_one_active_per_tenant', 'tenant_id', unique=True,
            sqlite_where=sa.text("status IN ('QUEUED', 'RUNNING')"),
            postgresql_where=sa.text("status IN ('QUEUED', 'RUNNING')"),
        ),
        sa.Index('ix_run_status_queued', 'status', 'queued_at'),
        sa.Index('ix_run_tenant', 'tenant_id', 'id'),
        sa.Index('ix_run_finished', 'finished_at'),
        # Covers the metrics' window of provision runs (storage/queries/stats.py).
        sa.Index('ix_run_mode_finished', 'mode', 'finished_at', 'status', 'started_at'),
        # Only the runs with warnings (a few): the tenants list's "current run succeeded with
        # warnings" filter (storage/queries/tenants.py) reads them without a pass over the history.
        sa.Index('ix_run_warned', 'status', 'tenant_id', 'mode',
                 sqlite_where=sa.text('warnings > 0'), postgresql_where=sa.text('warnings > 0')),
        # the audit log keeps a deleted run's events by its id: an id is never handed out again (0011)
        {'sqlite_autoincrement': True},
    )
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key='tenant.id')
    engine_id: int = Field(foreign_key='engine.id', index=True)
    status: str = Field(default=RunStatus.QUEUED, max_length=16)
    mode: str = Field(default=RunMode.PROVISION, max_length=16)
    trigger: str = Field(default=RunTrigger.MANUAL, max_length=16)
    requested_by: str | None = Field(default=None, max_length=64)
    correlation_id: str = Field(max_length=64, index=True)
    attempt: int = 1
    auto_retries: int = 0
    next_retry_at: datetime | None = ts()
    lease_owner: str | None = Field(default=None, max_length=128)
    lease_expires_at: datetime | None = ts()
    meta: dict[str, Any] = json_col('metadata')
    warnings: int = 0
    error_category: str | None = Field(default=None, max_length=16)
    error_message: str | None = Field(default=None, max_length=MESSAGE_LENGTH)
    error_step: str | None = Field(default=None, max_length=64)
    queued_at: datetime = created_ts()
    started_at: datetime | None = ts()
    finished_at: datetime | None = ts()


class StepRun(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint('run_id', 'step_key', name='uq_steprun_run_step'),
                      sa.Index('ix_steprun_key_finished', 'step_key', 'finished_at'),
                      # Covers the per-step metrics (storage/queries/stats.py): no table reads.
                      sa.Index('ix_steprun_run_stats', 'run_id', 'step_key', 'status', 'attempts',
                               'duration_ms', 'manual_by', 'earlier_executions', 'earlier_failures',
                               'earlier_retries', 'earlier_attempts'))
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key='run.id')
    step_key: str = Field(max_length=64)
    position: int
    critical: bool
    status: str = Field(default=StepStatus.PENDING, max_length=16)
    attempts: int = 0  # of the step's current (or last) execution
    # What the step's earlier executions in this run did before a retry ran it again or a person
    # settled it by hand (FOLD_EXECUTION below); the metrics count them.
    earlier_executions: int = Field(default=0, sa_column_kwargs={'server_default': '0'})
    earlier_failures: int = Field(default=0, sa_column_kwargs={'server_default': '0'})
    earlier_retries: int = Field(default=0, sa_column_kwargs={'server_default': '0'})  # attempts past the first
    earlier_attempts: int = Field(default=0, sa_column_kwargs={'server_default': '0'})
    started_at: datetime | None = ts()
    finished_at: datetime | None = ts()
    duration_ms: int | None = None
    error_category: str | None = Field(default=None, max_length=16)
    error_message: str | None = Field(default=None, max_length=MESSAGE_LENGTH)
    output: dict[str, Any] = json_col()
    manual_by: str | None = Field(default=None, max_length=64)
    manual_reason: str | None = Field(default=None, max_length=500)


# How a step's last execution is folded into its `earlier_*` counters, before it runs again or a
# person settles it by hand: one rule, as column values of an UPDATE of step rows, for the services
# (a retry, skip or mark: engine/services/runs.py) and the claim path (a parked or killed run:
# engine/run_store.py). An execution is a run of the step by the runner to SUCCEEDED or FAILED (its
# attempts past the first are retries); attempts cut short (a cancel, a killed process) count as
# attempts only. Idempotent: a second fold finds no attempts left.
_EXECUTED = ((StepRun.attempts > 0) & StepRun.status.in_((StepStatus.SUCCEEDED, StepStatus.FAILED))
             & StepRun.manual_by.is_(None))
FOLD_EXECUTION: dict[str, Any] = {
    'earlier_executions': StepRun.earlier_executions + sa.case((_EXECUTED, 1), else_=0),
    'earlier_failures': StepRun.earlier_failures + sa.case((_EXECUTED & (StepRun.status == StepStatus.FAILED), 1),
                                                            else_=0),
    'earlier_retries': StepRun.earlier_retries + sa.case((_EXECUTED, StepRun.attempts - 1), else_=0),
    'earlier_attempts': StepRun.earlier_attempts + StepRun.attempts,
    'attempts': 0}
# ...and the step waits to run again, with no earlier error, timing or settling by hand shown (the
# audit log keeps who skipped or marked it).
RUN_AGAIN: dict[str, Any] = {
    **FOLD_EXECUTION, 'status': StepStatus.PENDING, 'started_at': None, 'finished_at': None, 'duration_ms': None,
    'error_category': None, 'error_message': None, 'manual_by': None, 'manual_reason': None}


class AuditEvent(SQLModel, table=True):
    __table_args__ = (sa.Index('ix_audit_tenant', 'tenant_id', 'id'),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = created_ts()
    actor: str = Field(max_length=64)
    action: str = Field(max_length=64, index=True)
    tenant_id: int | None = None
    run_id: int | None = None
    step_key: str | None = Field(default=None, max_length=64)
    details: dict[str, Any] = json_col()
    # indexed: the audit log lists one run's or one CSV import's events by it (migration 0009)
    correlation_id: str | None = Field(default=None, max_length=64, index=True)


class Alert(SQLModel, table=True):
    __table_args__ = (sa.Index('ix_alert_open', 'rule', 'subject', 'resolved_at'),)
    id: int | None = Field(default=None, primary_key=True)
    rule: str = Field(max_length=64)
    severity: str = Field(max_length=16)
    subject: str = Field(max_length=255)
    message: str = Field(default='', max_length=MESSAGE_LENGTH)
    opened_at: datetime = created_ts()
    resolved_at: datetime | None = ts()
    last_notified_at: datetime | None = ts()
