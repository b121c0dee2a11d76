"""Prometheus metrics (prometheus-client, default registry). Labels never hold a tenant, run or
user id: only step keys, outcomes, error categories, alert rules and engine names, all bounded sets.

Two kinds of numbers live here:

- **Events** (counters and histograms: runs, steps, failures, retries) count what *this process*
  did. With several processes each one is its own scrape target; PromQL adds them up
  (`sum(rate(provisioner_runs_total[5m]))`).
  `provisioner_runs_total` counts *executions*: a run that failed, was retried and then succeeded
  adds one `failed` and one `succeeded`, because a counter cannot take back an outcome (the
  dashboard's summary counts that run once, succeeded: both are right).
- **State of the whole system** (queue depth, runs in progress, age of the oldest running run,
  engine health, provisioning runs by final outcome over the dashboard's windows) is read from the
  database by `refresh_database_gauges()` at every scrape of `/metrics` and by the alert job, so
  every process reports the same, correct value even when several processes share one PostgreSQL
  database (aggregate those with `max`, never `sum`).

Defined here, in an imported module, so that re-executing main.py (NiceGUI's test fixtures do)
does not register them twice."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import case
from sqlmodel import Session, col, func, select

from storage.db import Database
from storage.queries import outcomes
from storage.tables import Alert, Engine, EngineHealth, Run, RunStatus, Tenant, TenantStatus, utcnow

# Resolve a 50 ms step as well as a 5-minute run.
BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 180, 300, 450, 600, 1200, 1800)

RUNS = Counter('provisioner_runs_total', 'Executions of provisioning runs that ended in this process since it '
               'started, by outcome: a run that failed and was retried to success counts once failed and once '
               'succeeded. The dashboard summary and provisioner_runs_finished count each run once, by its '
               'outcome now; both are right.', ['outcome'])
RUN_DURATION = Histogram('provisioner_run_duration_seconds', 'Wall time of provisioning runs that ended.',
                         buckets=BUCKETS)
# The same by final status (DESIGN keeps the one above unlabelled): succeeded runs charted alone.
RUN_DURATION_BY_OUTCOME = Histogram('provisioner_run_duration_by_outcome_seconds', 'Wall time of provisioning '
                                    'runs that ended, by final status (succeeded, failed, cancelled).',
                                    ['outcome'], buckets=BUCKETS)
STEP_DURATION = Histogram('provisioner_step_duration_seconds', 'Wall time of steps that ended.', ['step'],
                          buckets=BUCKETS)
STEP_FAILURES = Counter('provisioner_step_failures_total', 'Steps that failed, by category.',
                        ['step', 'category'])
STEP_RETRIES = Counter('provisioner_step_retries_total', 'Extra attempts made by steps.', ['step'])
RUNS_EXECUTING = Gauge('provisioner_process_runs_executing', 'Runs this process is executing right now.')
RUNS_IN_PROGRESS = Gauge('provisioner_runs_in_progress', 'Runs RUNNING now (all processes, from the DB).')
QUEUE_DEPTH = Gauge('provisioner_queue_depth', 'Runs QUEUED, awaiting a claim (all processes, from the DB).')
OLDEST_RUNNING_AGE = Gauge('provisioner_oldest_running_run_age_seconds',
                           'Age of the oldest RUNNING run (0 when none): compare with the stuck limit.')
ENGINE_UP = Gauge('provisioner_engine_up', 'Whether the engine answered its last health check (1) or not (0);'
                  ' no sample before its first check.', ['engine'])
TENANTS_DRIFTED = Gauge('provisioner_tenants_drifted',
                        'Provisioned tenants whose last drift check found ERPNext changed (from the DB).')
RUNS_FINISHED = Gauge('provisioner_runs_finished',
                      'Provisioning runs finished within the window, by their final outcome (succeeded, failed),'
                      ' from the database: the success rate the dashboard and the API show.',
                      ['window', 'outcome'])
# The windows of RUNS_FINISHED: the success-rate alert's hour and the Overview's 24 h and 7 days.
FINISHED_WINDOWS = {'1h': timedelta(hours=1), '24h': timedelta(hours=24), '7d': timedelta(days=7)}
ALERTS_OPEN = Gauge('provisioner_alerts_open', 'Alerts open now, by rule (from the database).', ['rule'])
ALERT_NOTIFICATIONS = Counter('provisioner_alert_notifications_total',
                              'Alert webhook notifications by this process, by outcome (sent, failed).',
                              ['outcome'])


def step_finished(step: str, *, status: str, attempts: int, duration_s: float, category: str | None) -> None:
    STEP_DURATION.labels(step).observe(duration_s)
    if attempts > 1:
        STEP_RETRIES.labels(step).inc(attempts - 1)
    if status == 'FAILED':
        STEP_FAILURES.labels(step, category or 'critical').inc()


def run_finished(outcome: str, duration_s: float | None) -> None:
    """A provisioning run ended with `outcome` (its final status, any case) after `duration_s`."""
    outcome = outcome.lower()
    RUNS.labels(outcome).inc()
    if duration_s is not None:
        RUN_DURATION.observe(duration_s)
        RUN_DURATION_BY_OUTCOME.labels(outcome).observe(duration_s)


@dataclass(frozen=True)
class SystemState:
    """The numbers that describe the whole system, read in one short transaction."""

    queued: int
    running: int
    oldest_running_age_s: float
    engine_health: dict[str, str] = field(default_factory=dict)  # engine name → health
    open_alerts: dict[str, int] = field(default_factory=dict)  # rule → open alerts
    drifted: int = 0  # provisioned tenants flagged by the drift check
    finished: dict[tuple[str, str], int] = field(default_factory=dict)  # (window, outcome) → provisioning runs


def read_system_state(session: Session, now: datetime | None = None) -> SystemState:
    """Queue depth, runs in progress, the oldest running run's age and each engine's health."""
    now = now or utcnow()
    # A run is RUNNING since it started or, if later, since it was last put back in the queue
    # (engine/stuck.py): the same clock the run_stuck rule reads.
    since = case((col(Run.queued_at) > col(Run.started_at), col(Run.queued_at)), else_=col(Run.started_at))
    rows = session.exec(select(Run.status, func.count(), func.min(since))
                        .where(col(Run.status).in_([RunStatus.QUEUED, RunStatus.RUNNING]))
                        .group_by(Run.status)).all()
    counts = {status: (count, oldest) for status, count, oldest in rows}
    queued = counts.get(RunStatus.QUEUED, (0, None))[0]
    running, oldest = counts.get(RunStatus.RUNNING, (0, None))
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    health = dict(session.exec(select(Engine.name, Engine.health)).all())
    drifted = session.exec(select(func.count()).select_from(Tenant).where(
        col(Tenant.drifted).is_(True), Tenant.status == TenantStatus.PROVISIONED)).one()
    return SystemState(queued=queued, running=running, oldest_running_age_s=age, engine_health=health,
                       open_alerts=_open_alerts_by_rule(session), drifted=drifted,
                       finished=_finished_by_outcome(session, now))


def publish_system_state(state: SystemState) -> None:
    """Set the database-backed gauges from `state` (engines and rules that disappeared lose their series)."""
    QUEUE_DEPTH.set(state.queued)
    RUNS_IN_PROGRESS.set(state.running)
    OLDEST_RUNNING_AGE.set(state.oldest_running_age_s)
    TENANTS_DRIFTED.set(state.drifted)
    for window in FINISHED_WINDOWS:
        for outcome in ('succeeded', 'failed'):
            RUNS_FINISHED.labels(window, outcome).set(state.finished.get((window, outcome), 0))
    ENGINE_UP.clear()
    for name, health in state.engine_health.items():
        if health in (EngineHealth.ONLINE, EngineHealth.OFFLINE):
            ENGINE_UP.labels(name).set(1 if health == EngineHealth.ONLINE else 0)
    ALERTS_OPEN.clear()
    for rule, count in state.open_alerts.items():
        ALERTS_OPEN.labels(rule).set(count)


def refresh_database_gauges(db: Database, now: datetime | None = None) -> SystemState:
    """Read the system state from the database and publish it (called at scrape time)."""
    with db.session() as session:
        state = read_system_state(session, now)
    publish_system_state(state)
    return state


def _finished_by_outcome(session: Session, now: datetime) -> dict[tuple[str, str], int]:
    """Finished provisioning outcomes (storage/queries/outcomes.py: the dashboard's success-rate
    definition) in each window, every window in one pass."""
    starts = {window: now - span for window, span in FINISHED_WINDOWS.items()}
    counts = outcomes.finished_outcome_counts(session, starts)
    return {(window, str(status).lower()): count for window, by_status in counts.items()
            for status, count in by_status.items()}


def _open_alerts_by_rule(session: Session) -> dict[str, int]:
    rows = session.exec(select(Alert.rule, func.count()).where(col(Alert.resolved_at).is_(None))
                        .group_by(Alert.rule)).all()
    return dict(rows)
