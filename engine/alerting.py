"""Alert rules, evaluated in-process by a scheduled job (engine/process.py).

Each evaluation, in ONE database transaction (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: plus a
transaction-level advisory lock, so evaluators of several processes take turns):

1. works out which conditions hold now (the rules below);
2. opens an Alert row for each condition without an open row for its (rule, subject), and
   resolves each open row whose condition no longer holds — so an alert opens once, however many
   processes evaluate;
3. claims the notifications still owed (an opening never notified, a resolution never notified)
   by stamping `last_notified_at`.

After the commit the claimed notifications go to the webhook (engine/notify.py, with retries); a
notification that still fails is handed back (its stamp undone) and tried at the next evaluation.

A decided run succeeded or failed; a cancelled run is finished but not decided, so the success rate
leaves it out (as the Overview and the metrics summary's `runs.decided` do).

| rule | subject | fires when |
| --- | --- | --- |
| `success_rate_low` | `all` | < 95 % of the provisioning runs decided in the last hour succeeded (>= 5 decided) |
| `run_stuck` | `run <id>` | a run has been RUNNING longer than PROVISIONER_STUCK_AFTER_MINUTES |
| `engine_offline` | engine name | the engine's last health check found it offline |
| `queue_depth_high` | `queue` | more than 100 runs are QUEUED |
| `step_failure_rate_high` | step key | >= 50 % of a step's runs ended in the last hour failed (>= 5 ended) |
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlalchemy import case, text, update
from sqlmodel import Session, col, func, select

from engine import metrics
from engine.notify import FIRING, RESOLVED, Webhook, payload
from engine.settings import Settings
from engine.stuck import running_since, stuck_runs
from storage.availability import database_unreachable
from storage.db import Database, is_postgres
from storage.queries.outcomes import finished_outcome_counts
from storage.tables import (
    Alert,
    Engine,
    EngineHealth,
    Run,
    RunMode,
    RunStatus,
    StepRun,
    StepStatus,
    Tenant,
    TenantStatus,
    clip,
    utcnow,
)

log = structlog.get_logger('alerting')
EVALUATE_EVERY_SECONDS = 30.0
ADVISORY_LOCK_KEY = 0x70726F76  # "prov": serialises evaluators of several processes on PostgreSQL
CRITICAL, WARNING = 'critical', 'warning'


@dataclass(frozen=True)
class Thresholds:
    """When the rules fire (the defaults are what the README and deploy/prometheus-alerts.yml state)."""

    success_rate_min: float = 0.95
    success_rate_min_runs: int = 5
    window: timedelta = timedelta(hours=1)
    stuck_after: timedelta = timedelta(minutes=30)
    queue_depth_max: int = 100
    step_failure_rate_max: float = 0.5
    step_failure_min_runs: int = 5
    notify_within: timedelta = timedelta(hours=1)  # older, never-notified changes are not sent late


@dataclass(frozen=True)
class Condition:
    """A rule that holds now for one subject."""

    rule: str
    subject: str
    severity: str
    message: str


@dataclass(frozen=True)
class Notice:
    """A notification claimed for sending (`previous` restores the claim if sending fails)."""

    alert: Alert
    status: str
    claimed_at: datetime
    previous: datetime | None


@dataclass
class Evaluation:
    """What one evaluation changed."""

    opened: list[Alert] = field(default_factory=list)
    resolved: list[Alert] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    sent: int = 0
    failed: int = 0


# ---- the rules ---------------------------------------------------------------------------------

def success_rate_low(session: Session, now: datetime, limits: Thresholds) -> list[Condition]:
    counts = finished_outcome_counts(session, {'window': now - limits.window})['window']
    succeeded = counts[RunStatus.SUCCEEDED]
    total = succeeded + counts[RunStatus.FAILED]
    if total < limits.success_rate_min_runs or succeeded / total >= limits.success_rate_min:
        return []
    return [Condition('success_rate_low', 'all', CRITICAL,
                      f'Only {_percent(succeeded / total)} of provisioning runs succeeded in the last '
                      f'{_span(limits.window)} ({succeeded} of {total} decided runs: cancelled runs are not counted; '
                      f'the floor is {limits.success_rate_min:.0%}). '
                      'Open the failed runs to see which step fails and why.')]


def run_stuck(session: Session, now: datetime, limits: Thresholds) -> list[Condition]:
    stuck = stuck_runs(session, now, limits.stuck_after.total_seconds() / 60)
    tenants = dict(session.exec(select(Tenant.id, Tenant.name)
                                .where(col(Tenant.id).in_({run.tenant_id for run in stuck}))).all()) if stuck else {}
    return [Condition('run_stuck', f'run {run.id}', WARNING,
                      f"Run {run.id} of tenant '{tenants.get(run.tenant_id, '?')}' has been RUNNING for "
                      f'{_span(now - running_since(run))} (the limit is {_span(limits.stuck_after)}); '
                      f'correlation id {run.correlation_id}. Check the process that holds it, or cancel the run '
                      'and retry it.')
            for run in stuck]


def engine_offline(session: Session, now: datetime, limits: Thresholds) -> list[Condition]:
    offline = select(Engine).where(Engine.health == EngineHealth.OFFLINE).order_by(col(Engine.name))
    engines = session.exec(offline)
    return [Condition('engine_offline', engine.name, CRITICAL,
                      f"Engine '{engine.name}' is offline (last check {_when(engine.last_checked_at)}: "
                      f"{engine.last_error or 'no answer'}). Its queued runs wait until it answers again.")
            for engine in engines.all()]


def queue_depth_high(session: Session, now: datetime, limits: Thresholds) -> list[Condition]:
    queued = session.exec(select(func.count()).select_from(Run).where(Run.status == RunStatus.QUEUED)).one()
    if queued <= limits.queue_depth_max:
        return []
    return [Condition('queue_depth_high', 'queue', WARNING,
                      f'{queued} runs are waiting in the queue (more than {limits.queue_depth_max}). '
                      'Check that engines are online and that their concurrency limits are not too low.')]


def step_failure_rate_high(session: Session, now: datetime, limits: Thresholds) -> list[Condition]:
    failed = func.sum(case((col(StepRun.status) == StepStatus.FAILED, 1), else_=0))
    query = (select(StepRun.step_key, func.count(), failed)
             .join(Run, col(Run.id) == StepRun.run_id)
             .where(col(StepRun.finished_at) >= now - limits.window, Run.mode == RunMode.PROVISION,
                    col(StepRun.status).in_([StepStatus.SUCCEEDED, StepStatus.FAILED]))
             .group_by(StepRun.step_key).order_by(StepRun.step_key))
    conditions = []
    for key, total, failures in session.exec(query).all():
        failures = failures or 0
        if total >= limits.step_failure_min_runs and failures / total >= limits.step_failure_rate_max:
            conditions.append(Condition(
                'step_failure_rate_high', key, WARNING,
                f"Step '{key}' failed {failures} of {total} times in the last {_span(limits.window)} "
                f'(the limit is {limits.step_failure_rate_max:.0%}). Latest error: '
                f"{_latest_step_error(session, key) or 'none recorded'}"))
    return conditions


def tenant_drifted(session: Session, now: datetime, limits: Thresholds) -> list[Condition]:
    query = (select(Tenant.name, Tenant.drift_detail)
             .where(col(Tenant.drifted).is_(True), Tenant.status == TenantStatus.PROVISIONED).order_by(Tenant.name))
    return [Condition('tenant_drifted', name, WARNING,
                      f"Tenant '{name}' no longer matches ERPNext: {detail or 'see its page'}. "
                      'Each problem says what puts it right: Repair on the tenant page (provisioning again '
                      'recreates only what is missing), or a change in ERPNext where Repair leaves it as it is.')
            for name, detail in session.exec(query).all()]


Rule = Callable[[Session, datetime, Thresholds], list[Condition]]
RULES: dict[str, Rule] = {rule.__name__: rule for rule in (
    success_rate_low, run_stuck, engine_offline, queue_depth_high, step_failure_rate_high, tenant_drifted)}


def conditions_now(session: Session, now: datetime, limits: Thresholds) -> list[Condition]:
    return [condition for rule in RULES.values() for condition in rule(session, now, limits)]


# ---- opening, resolving, claiming notifications ------------------------------------------------

def reconcile(session: Session, conditions: list[Condition], now: datetime, result: Evaluation) -> None:
    """Open an alert per new condition, refresh the message of open ones, resolve the cleared ones."""
    open_rows: dict[tuple[str, str], Alert] = {}
    query = select(Alert).where(col(Alert.resolved_at).is_(None), col(Alert.rule).in_(list(RULES)))
    for alert in session.exec(query.order_by(col(Alert.id))).all():
        if (alert.rule, alert.subject) in open_rows:  # a duplicate (should not happen): close it quietly
            alert.resolved_at = alert.last_notified_at = now
            session.add(alert)
            continue
        open_rows[(alert.rule, alert.subject)] = alert
    for condition in conditions:
        alert = open_rows.pop((condition.rule, condition.subject[:255]), None)
        if alert is None:
            alert = Alert(rule=condition.rule, severity=condition.severity, subject=condition.subject[:255],
                          message=clip(condition.message), opened_at=now)
            result.opened.append(alert)
        else:
            alert.message = clip(condition.message)
        session.add(alert)
    for alert in open_rows.values():
        # Later than the last notification, even if another process's clock is a little ahead.
        stamp = alert.last_notified_at
        alert.resolved_at = max(now, stamp + timedelta(milliseconds=1)) if stamp else now
        session.add(alert)
        result.resolved.append(alert)
    session.flush()


def resolve_open(session: Session, rule: str, subject: str, now: datetime) -> int:
    """Resolve the open alerts of one (rule, subject) now, e.g. an engine's when it is deleted; the
    resolution is notified by the next evaluation like any other. Returns how many were open."""
    query = select(Alert).where(col(Alert.resolved_at).is_(None), Alert.rule == rule,
                                Alert.subject == subject[:255])
    alerts = session.exec(query).all()
    for alert in alerts:
        stamp = alert.last_notified_at
        alert.resolved_at = max(now, stamp + timedelta(milliseconds=1)) if stamp else now
        session.add(alert)
    return len(alerts)


def claim_notifications(session: Session, now: datetime, limits: Thresholds) -> list[Notice]:
    """Notifications owed: openings never notified, resolutions not notified since they happened."""
    since = now - limits.notify_within
    opened = select(Alert).where(col(Alert.resolved_at).is_(None), col(Alert.last_notified_at).is_(None),
                                 col(Alert.opened_at) >= since)
    resolved = select(Alert).where(col(Alert.resolved_at) >= since,
                                   (col(Alert.last_notified_at).is_(None))
                                   | (col(Alert.last_notified_at) < col(Alert.resolved_at)))
    notices = []
    for query, status in ((opened, FIRING), (resolved, RESOLVED)):
        for alert in session.exec(query.order_by(col(Alert.id))).all():
            claimed = max(now, alert.resolved_at) if status == RESOLVED else now
            notices.append(Notice(alert, status, claimed, alert.last_notified_at))
            alert.last_notified_at = claimed
            session.add(alert)
    return notices


def release_notice(session: Session, notice: Notice) -> None:
    """Undo a claim whose notification could not be delivered (unless someone else re-claimed it)."""
    session.execute(update(Alert).where(col(Alert.id) == notice.alert.id,
                                        col(Alert.last_notified_at) == notice.claimed_at)
                    .values(last_notified_at=notice.previous))


# ---- the job -----------------------------------------------------------------------------------

class Alerting:
    """Evaluates the rules, keeps the Alert table in line and notifies the webhook."""

    def __init__(self, db: Database, *, thresholds: Thresholds | None = None,
                 webhook: Webhook | None = None) -> None:
        self.db = db
        self.thresholds = thresholds or Thresholds()
        self.webhook = webhook

    @classmethod
    def from_settings(cls, db: Database, settings: Settings) -> Alerting:
        webhook = Webhook(settings.alert_webhook_url) if settings.alert_webhook_url else None
        return cls(db, thresholds=Thresholds(stuck_after=timedelta(minutes=settings.stuck_after_minutes)),
                   webhook=webhook)

    async def evaluate(self, now: datetime | None = None) -> Evaluation:
        """One evaluation: open, resolve, notify. Returns what changed."""
        result = await asyncio.to_thread(self._evaluate_in_db, now or utcnow())
        for alert in result.opened:
            log.warning('alert.opened', rule=alert.rule, subject=alert.subject, severity=alert.severity,
                        message=alert.message)
        for alert in result.resolved:
            log.info('alert.resolved', rule=alert.rule, subject=alert.subject)
        if result.notices:
            sends = (self.webhook.send(payload(notice.alert, notice.status)) for notice in result.notices)
            delivered = await asyncio.gather(*sends)
            failed = [notice for notice, ok in zip(result.notices, delivered, strict=True) if not ok]
            if failed:
                await asyncio.to_thread(self._release, failed)
            result.sent, result.failed = len(result.notices) - len(failed), len(failed)
        return result

    async def run_job(self) -> None:
        """The scheduled job: an evaluation that fails is logged and tried again next time (a lost
        database is left to the job's wrapper in engine/process.py: one warning line)."""
        try:
            await self.evaluate()
        except Exception as exc:
            if database_unreachable(exc):
                raise
            log.exception('alert.evaluation_failed')

    def _evaluate_in_db(self, now: datetime) -> Evaluation:
        result = Evaluation()
        with self.db.session() as session:
            if is_postgres(self.db.engine):
                session.execute(text('SELECT pg_advisory_xact_lock(:key)'), {'key': ADVISORY_LOCK_KEY})
            reconcile(session, conditions_now(session, now, self.thresholds), now, result)
            if self.webhook is not None:
                result.notices = claim_notifications(session, now, self.thresholds)
            state = metrics.read_system_state(session, now)
        metrics.publish_system_state(state)
        return result

    def _release(self, notices: list[Notice]) -> None:
        with self.db.session() as session:
            for notice in notices:
                release_notice(session, notice)


def _latest_step_error(session: Session, key: str) -> str | None:
    message = session.exec(select(StepRun.error_message).where(StepRun.step_key == key,
                                                               StepRun.status == StepStatus.FAILED)
                           .order_by(col(StepRun.finished_at).desc()).limit(1)).first()
    return message[:300] if message else None


def _percent(ratio: float) -> str:
    """One decimal, rounded as the Overview's cards round a rate ('84.6%')."""
    return f'{ratio:.1%}'


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f'{minutes} min' if minutes != 60 else '1 hour'
    return f'{minutes // 60} h {minutes % 60} min'


def _when(value: datetime | None) -> str:
    return value.strftime('%Y-%m-%d %H:%M UTC') if value else 'never'
