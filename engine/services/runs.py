"""Provisioning runs as the UI and the REST API see them: request, retry, cancel, step actions.

Every action is one transaction that also writes its audit event. The runner picks QUEUED runs up;
these functions never talk to ERPNext.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from engine import tenant_status
from engine.services import engines
from engine.services.tenant_locks import lock_admin_user, tenant_to_run
from engine.stuck import DEFAULT_STUCK_AFTER_MINUTES, is_stuck
from engine.validation import Conflict, InvalidInput, NotFound
from engine.workflows import ALL_STEP_TITLES, WORKFLOWS
from storage import audit_log, run_meta
from storage.db import Database
from storage.queries import audit as audit_queries
from storage.queries import runs as queries
from storage.queries import tenants as tenant_queries
from storage.tables import (
    ACTIVE_RUN_STATUSES,
    FOLD_EXECUTION,
    RUN_AGAIN,
    AuditEvent,
    Run,
    RunMode,
    RunStatus,
    RunTrigger,
    StepRun,
    StepStatus,
    Tenant,
    utcnow,
)

MAX_REASON = 500
PLAN_STEPS = 'its steps cannot be retried, skipped or marked succeeded'
PROVISION_STEP_KEYS = tuple(step.key for step in WORKFLOWS[RunMode.PROVISION])
# What a step's status must not be for each admin action. Any step may run again (a succeeded one
# re-checks and adopts what it made); a succeeded step cannot be skipped or marked by hand (that
# would erase the record of what it created), nor a skipped one skipped again.
REFUSED_STEP_STATUSES = {
    'retry': (),
    'skip': (StepStatus.SUCCEEDED, StepStatus.SKIPPED),
    'mark': (StepStatus.SUCCEEDED,),
}


@dataclass(frozen=True)
class BulkResult:
    queued: list[Run]
    refused: dict[int, str]  # tenant id → why


def request_provision(db: Database, tenant_id: int, *, actor: str, plan: bool = False,
                      trigger: str = RunTrigger.MANUAL, repair: bool = False) -> Run:
    """Queue a new run of every step for the tenant (409 when one is already active). `repair`: a
    Repair asked for it (its trigger stays DESIGN's; the audit event and the run's metadata say so)."""
    try:
        with db.session() as session:
            tenant = tenant_to_run(session, tenant_id)  # an edit or delete in progress ends first
            refuse_while_stopping(session, tenant_id)
            if not plan:
                refuse_while_admin_shared_with(session, tenant, RunMode.DEPROVISION)
            run = new_run(session, tenant, mode=RunMode.PLAN if plan else RunMode.PROVISION, actor=actor,
                          trigger=trigger)
            if repair:
                run.meta = {**(run.meta or {}), run_meta.REPAIR: True}
            if not plan:
                tenant_status.queue(tenant, run, tenant_status.LIFECYCLES[RunMode.PROVISION].queued)
            audit_log.record(session, actor=actor, action='run.plan_requested' if plan else 'run.provision_requested',
                             tenant_id=tenant.id, run_id=run.id, correlation_id=run.correlation_id,
                             details={'trigger': trigger, **({'repair': True} if repair else {})})
            return run
    except IntegrityError:
        raise already_active(db, tenant_id) from None


def bulk_provision(db: Database, tenant_ids: list[int], *, actor: str) -> BulkResult:
    """Queue a run for each tenant; tenants that cannot be queued are reported, not fatal."""
    queued, refused = [], {}
    for tenant_id in dict.fromkeys(tenant_ids):
        try:
            queued.append(request_provision(db, tenant_id, actor=actor, trigger=RunTrigger.BULK))
        except (NotFound, Conflict) as exc:
            refused[tenant_id] = exc.message
    return BulkResult(queued=queued, refused=refused)


def retry_run(db: Database, run_id: int, *, actor: str, trigger: str = RunTrigger.RETRY) -> Run:
    """Queue a finished run again: it resumes at its first unfinished step."""
    def change(session: Session, run: Run) -> None:
        if run.status not in (RunStatus.FAILED, RunStatus.CANCELLED):
            raise Conflict(f'Run #{run.id} is {run.status}: only a failed or cancelled run can be retried.')
        audit_log.record(session, actor=actor, action='run.retried' if trigger != RunTrigger.AUTO_RETRY
                         else 'run.auto_retried', tenant_id=run.tenant_id, run_id=run.id,
                         correlation_id=run.correlation_id, details={'attempt': run.attempt + 1})
        requeue(session, run, trigger, actor=actor)
    return _change_run(db, run_id, change, on_plan='it cannot be retried')


def cancel_run(db: Database, run_id: int, *, actor: str) -> Run:
    """Stop a queued or running run; a running one stops after the steps in flight end. Until they
    have, its execution keeps the lease, and nothing else may act on the tenant's runs
    (`refuse_while_stopping`): a step in flight may still write to ERPNext. A run cancelled before it
    started gives its tenant back the status it had (`tenant_status.after_cancel`)."""
    def change(session: Session, run: Run) -> None:
        if run.status not in ACTIVE_RUN_STATUSES:
            raise Conflict(f'Run #{run.id} is {run.status}: only a queued or running run can be cancelled.')
        run.status, run.finished_at = RunStatus.CANCELLED, utcnow()
        run.error_category, run.error_message = 'critical', f'Cancelled by {actor}.'
        if tenant_status.lifecycle(run.mode):  # a plan changes no status
            tenant_status.after_cancel(session.get(Tenant, run.tenant_id), run, _cancelled(run, actor))
        audit_log.record(session, actor=actor, action='run.cancelled', tenant_id=run.tenant_id, run_id=run.id,
                         correlation_id=run.correlation_id)
    return _change_run(db, run_id, change, on_plan=None)  # an active plan can be cancelled (it holds the tenant)


def retry_step(db: Database, run_id: int, step_key: str, *, actor: str, bulk: bool = False) -> Run:
    """Run one step again: the run is queued again and runs every step that has not succeeded (or been
    skipped), this one included. `bulk`: part of a bulk retry (`bulk_retry_step`), which only retries a
    failed step; its audit event says so."""
    def change(session: Session, run: Run) -> None:
        step = _idle_step(session, run, step_key, action='retry')
        if bulk and step.status != StepStatus.FAILED:
            raise Conflict(f"Step '{ALL_STEP_TITLES[step_key]}' of run #{run.id} is {step.status}, not FAILED: "
                           'nothing to retry.')
        _update_step(session, step, RUN_AGAIN)
        audit_log.record(session, actor=actor, action='step.retried', tenant_id=run.tenant_id, run_id=run.id,
                         step_key=step_key, correlation_id=run.correlation_id,
                         details={'bulk': True} if bulk else None)
        requeue(session, run, RunTrigger.RETRY, actor=actor)
    return _change_run(db, run_id, change, on_plan=PLAN_STEPS, step_key=step_key)


def bulk_retry_step(db: Database, tenant_ids: list[int], step_key: str, *, actor: str) -> BulkResult:
    """Retry the failed step `step_key` of each tenant's current run, as *Retry step* does for one
    (e.g. the invites ERPNext throttled in a bulk onboarding); tenants without such a step, or that
    cannot be retried now, are reported, not fatal. An unknown step refuses the whole call (InvalidInput)."""
    if step_key not in PROVISION_STEP_KEYS:
        raise InvalidInput('step', f"there is no provisioning step '{step_key[:64]}': use one of "
                                   f"{', '.join(PROVISION_STEP_KEYS)}")
    queued, refused = [], {}
    for tenant_id in dict.fromkeys(tenant_ids):
        try:
            queued.append(retry_step(db, _current_run_id(db, tenant_id), step_key, actor=actor, bulk=True))
        except (NotFound, Conflict) as exc:
            refused[tenant_id] = exc.message
    return BulkResult(queued=queued, refused=refused)


def _current_run_id(db: Database, tenant_id: int) -> int:
    with db.session() as session:
        tenant = session.get(Tenant, tenant_id)
        if tenant is None:
            raise NotFound(f'Tenant {tenant_id} does not exist.')
        run = queries.current_run_for_tenant(session, tenant_id)
    if run is None or run.mode != RunMode.PROVISION:
        what = 'was never provisioned' if run is None else f'was last {run.mode}ed (run #{run.id})'
        raise Conflict(f"Tenant '{tenant.name}' {what}: it has no provisioning step to retry.")
    return run.id


def skip_step(db: Database, run_id: int, step_key: str, *, actor: str, reason: str) -> Run:
    """Give up on one step (reason required); the run goes on without it."""
    return _settle_by_hand(db, run_id, step_key, actor=actor, reason=reason, status=StepStatus.SKIPPED)


def mark_step_succeeded(db: Database, run_id: int, step_key: str, *, actor: str, reason: str) -> Run:
    """Record that someone did the step by hand in ERPNext (reason required); the run goes on."""
    return _settle_by_hand(db, run_id, step_key, actor=actor, reason=reason, status=StepStatus.SUCCEEDED)


def run_detail(db: Database, run_id: int, *,
               stuck_after_minutes: float = DEFAULT_STUCK_AFTER_MINUTES) -> dict[str, Any]:
    """The run with its steps in workflow order, as the UI and the API show it.

    `next_retry_at` is when a transient failure is retried by itself (None: no automatic retry);
    `stuck` is True while the run has been RUNNING longer than `stuck_after_minutes` (pass
    PROVISIONER_STUCK_AFTER_MINUTES): it needs a person (cancel, retry or skip a step, mark one done);
    `resumed` lists each time another claim took the run over after its process stopped (killed, or
    stalled past its lease) and the step it resumed at (the dispatcher's `run.resumed` audit events);
    `waiting_for_engine` says why a QUEUED run is not started: its engine is offline (engines.engine_wait)."""
    with db.session() as session:
        run = session.get(Run, run_id)
        if run is None:
            raise NotFound(f'Run {run_id} does not exist.')
        steps = queries.steps_of_run(session, run_id)
        resumed = audit_queries.events_of_run(session, tenant_id=run.tenant_id, run_id=run_id, action=audit_log.RESUMED)
        meta = run.meta or {}
        return {**run.model_dump(), 'metadata': run.meta, 'stuck': is_stuck(run, utcnow(), stuck_after_minutes),
                'retried_by': meta.get(run_meta.RETRIED_BY), 'resumed': [_resumed_view(event) for event in resumed],
                'waiting_for_engine': engines.waiting_for_engine(session, run),
                'steps': [_step_view(step) for step in steps]}


def current_run_detail(db: Database, tenant_id: int, *,
                       stuck_after_minutes: float = DEFAULT_STUCK_AFTER_MINUTES) -> dict[str, Any] | None:
    """The tenant's current run with its steps: its newest run that is not a plan (a plan only looks,
    so it never replaces the run the tenant's page shows and acts on); None if it never ran."""
    with db.session() as session:
        run = queries.current_run_for_tenant(session, tenant_id)
    return run_detail(db, run.id, stuck_after_minutes=stuck_after_minutes) if run else None


def latest_run_detail(db: Database, tenant_id: int, *,
                      stuck_after_minutes: float = DEFAULT_STUCK_AFTER_MINUTES) -> dict[str, Any] | None:
    """The tenant's newest run of any mode (a plan included) with its steps; None if it never ran."""
    with db.session() as session:
        run = queries.latest_run_for_tenant(session, tenant_id)
    return run_detail(db, run.id, stuck_after_minutes=stuck_after_minutes) if run else None


def latest_and_current_run(db: Database, tenant_id: int, *, stuck_after_minutes: float = DEFAULT_STUCK_AFTER_MINUTES
                           ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The tenant's latest run (a plan included) and its current run (never a plan), with their steps:
    the same run unless the latest is a plan."""
    latest = latest_run_detail(db, tenant_id, stuck_after_minutes=stuck_after_minutes)
    if latest is None or latest['mode'] != RunMode.PLAN:
        return latest, latest
    return latest, current_run_detail(db, tenant_id, stuck_after_minutes=stuck_after_minutes)


def latest_plan_detail(db: Database, tenant_id: int) -> dict[str, Any] | None:
    """The tenant's newest plan run with its steps when it is newer than the current run (a later
    provisioning run makes it stale); None otherwise."""
    with db.session() as session:
        plan = queries.latest_plan_for_tenant(session, tenant_id)
        current = queries.current_run_for_tenant(session, tenant_id) if plan else None
    if plan is None or (current is not None and current.id > plan.id):
        return None
    return run_detail(db, plan.id)


# -- helpers ---------------------------------------------------------------------------------------

def new_run(session: Session, tenant: Tenant, *, mode: str, actor: str, trigger: str) -> Run:
    """A queued run of `mode` with a pending row for each step of its workflow. The flush raises
    IntegrityError when the tenant already has an active run (the one-active-run index): callers
    answer it with `already_active`."""
    run = Run(tenant_id=tenant.id, engine_id=tenant.engine_id, requested_by=actor, trigger=trigger,
              mode=mode, correlation_id=uuid.uuid4().hex)
    session.add(run)
    session.flush()  # the one-active-run index answers here
    session.add_all([StepRun(run_id=run.id, step_key=step.key, position=index, critical=step.critical)
                     for index, step in enumerate(WORKFLOWS[mode], start=1)])
    return run


def requeue(session: Session, run: Run, trigger: str, *, actor: str | None = None) -> None:
    """Queue a finished run again as its next attempt (it resumes at its first unfinished step).
    A retry by a person (`actor`) also gives the run its automatic retries back and is recorded in
    the run's metadata (`retried_by`; `requested_by` keeps who asked for the run). The steps that
    run again keep what their last execution did in their `earlier_*` counters: the runner counts
    afresh."""
    session.execute(update(StepRun).where(StepRun.run_id == run.id, col(StepRun.status).not_in(
        (StepStatus.SUCCEEDED, StepStatus.SKIPPED))).values(RUN_AGAIN))
    if actor is not None and trigger != RunTrigger.AUTO_RETRY:
        run.meta = {**(run.meta or {}), run_meta.RETRIED_BY: actor}
    run.status, run.trigger, run.attempt = RunStatus.QUEUED, trigger, run.attempt + 1
    run.queued_at, run.started_at, run.finished_at, run.next_retry_at = utcnow(), None, None, None
    run.error_category = run.error_message = run.error_step = None
    if trigger != RunTrigger.AUTO_RETRY:
        run.auto_retries = 0
    tenant = tenant_to_run(session, run.tenant_id)  # an edit in progress ends first (the automatic retry's path)
    # on the tenant's engine: an edit may have moved it since (only while none of its runs recorded a
    # document, engine/services/tenant_edit.py), and the run must not write to the old one
    run.engine_id = tenant.engine_id
    if statuses := tenant_status.lifecycle(run.mode):
        tenant_status.queue(tenant, run, statuses.queued)


def _settle_by_hand(db: Database, run_id: int, step_key: str, *, actor: str, reason: str, status: str) -> Run:
    reason = (reason or '').strip()
    if not reason:
        raise InvalidInput('reason', 'say why (it goes into the audit log)')

    def change(session: Session, run: Run) -> None:
        step = _idle_step(session, run, step_key, action='skip' if status == StepStatus.SKIPPED else 'mark')
        if status == StepStatus.SUCCEEDED and step.status == StepStatus.FAILED and not step.critical:
            run.warnings = max(0, run.warnings - 1)  # its failure was the run's warning: done by hand now
        # settled now: the time of its last execution no longer describes it (QA pass 7)
        _update_step(session, step, {**FOLD_EXECUTION, 'status': status, 'manual_by': actor,
                                     'manual_reason': reason[:MAX_REASON], 'finished_at': utcnow(),
                                     'duration_ms': None, 'output': {}})
        action = 'step.skipped' if status == StepStatus.SKIPPED else 'step.marked_succeeded'
        audit_log.record(session, actor=actor, action=action, tenant_id=run.tenant_id, run_id=run.id,
                         step_key=step_key, correlation_id=run.correlation_id, details={'reason': reason[:MAX_REASON]})
        if any(s.status != StepStatus.SUCCEEDED and s.status != StepStatus.SKIPPED
               for s in queries.steps_of_run(session, run.id) if s.step_key != step_key):
            requeue(session, run, RunTrigger.RETRY)
        elif (statuses := tenant_status.lifecycle(run.mode)) and run.status != RunStatus.SUCCEEDED:
            run.status, run.finished_at = RunStatus.SUCCEEDED, utcnow()
            tenant_status.set_status(session.get(Tenant, run.tenant_id), statuses.succeeded)
    return _change_run(db, run_id, change, on_plan=PLAN_STEPS, step_key=step_key)


def refuse_while_stopping(session: Session, tenant_id: int) -> None:
    """Conflict while a cancelled run of the tenant still has steps in flight: what they write
    (a document, its intent) must be on record before anything else reads or runs the tenant's
    steps, or a retry would run beside them and a teardown would miss what they create."""
    run = queries.stopping_run_for_tenant(session, tenant_id, now=utcnow())
    if run is None:
        return
    in_flight = [f"'{ALL_STEP_TITLES.get(step.step_key, step.step_key)}'"
                 for step in queries.steps_of_run(session, run.id) if step.status == StepStatus.RUNNING]
    what = f"its step{'s' if len(in_flight) > 1 else ''} {', '.join(in_flight)}" if in_flight else 'its execution'
    raise Conflict(f'Run #{run.id} was cancelled and is still stopping: {what} must end first, which takes '
                   'a few seconds. Try again then.')


def refuse_while_admin_shared_with(session: Session, tenant: Tenant, mode: str) -> None:
    """Conflict while another tenant sharing `tenant`'s admin user (same engine and e-mail) has a run
    of `mode` queued or running. A teardown deletes the user once ERPNext shows no other company's
    permission on it: beside a provisioning run that is about to add one, it would delete the user
    under that tenant (and a provisioning run beside a teardown would find it gone). The admin user's
    lock (`lock_admin_user`) makes a request about another of its tenants wait until this one is saved."""
    lock_admin_user(session, tenant)
    for other in tenant_queries.tenants_sharing_admin(session, tenant):
        run = queries.active_run_for_tenant(session, other.id)
        if run is not None and run.mode == mode:
            doing = 'being deprovisioned' if mode == RunMode.DEPROVISION else 'being provisioned'
            raise Conflict(f"Tenant '{other.name}' shares this tenant's admin ({tenant.admin_email.strip()}: one "
                           f'ERPNext user) and is {doing} (run #{run.id}): wait for that run to end, then '
                           'try again.')


def _change_run(db: Database, run_id: int, change, *, on_plan: str | None,
                step_key: str | None = None) -> Run:
    """Apply `change` to the run in one transaction, after the checks every action shares. `on_plan`
    says what a plan run cannot have done to it (None: the action applies to plans too)."""
    if step_key is not None and step_key not in ALL_STEP_TITLES:
        raise NotFound(f"There is no step '{step_key}'.")  # before the run's own checks (QA pass 7)
    try:
        with db.session() as session:
            run = session.get(Run, run_id)
            if run is None:
                raise NotFound(f'Run {run_id} does not exist.')
            try:  # an edit or delete of the tenant in progress ends first
                tenant_to_run(session, run.tenant_id)
            except NotFound:  # deleted with its tenant meanwhile
                raise NotFound(f'Run {run_id} does not exist.') from None
            # Then the run itself, read again under its lock (the tenant's lock first, as everywhere): a
            # dispatcher starting it, or an automatic retry queueing it, commits first and is seen.
            run = session.get(Run, run_id, with_for_update=True, populate_existing=True)
            if run is None:
                raise NotFound(f'Run {run_id} does not exist.')
            refuse_while_stopping(session, run.tenant_id)
            if on_plan is not None and run.mode == RunMode.PLAN:
                raise Conflict(_plan_is_read_only(run, on_plan))
            _refuse_unless_current(session, run)
            change(session, run)
            session.add(run)
            return run
    except IntegrityError:
        raise Conflict('The tenant already has another queued or running run.') from None


def _plan_is_read_only(run: Run, what: str) -> str:
    """The 409 for retrying a plan or settling its steps (QA pass 7, finding 8): a plan only looks, so
    running it again would only repeat old look-ups; a new plan looks again."""
    return (f'Run #{run.id} is a plan: it only looked ERPNext up and changes nothing, so {what}. Ask for a '
            f'new plan instead (the Plan button, or POST /api/v1/tenants/{run.tenant_id}/provision with '
            '{"plan": true}).')


def _refuse_unless_current(session: Session, run: Run) -> None:
    """Only the tenant's current run may be retried, cancelled or have its steps settled: acting on an
    earlier one would set the tenant's status from old history. A plan is never the current run: the
    only action left on one, cancelling it while it is active, changes no status."""
    if run.mode == RunMode.PLAN:
        return
    current = queries.current_run_for_tenant(session, run.tenant_id)
    if current is not None and current.id != run.id:
        raise Conflict(f'Run #{run.id} is not the tenant\'s current run (run #{current.id} is): act on that one.')


def _update_step(session: Session, step: StepRun, values: dict[str, Any]) -> None:
    """One step row's UPDATE with column expressions (storage/tables.py FOLD_EXECUTION); the loaded
    step is read again."""
    session.execute(update(StepRun).where(StepRun.id == step.id).values(values))
    session.refresh(step)


def _idle_step(session: Session, run: Run, step_key: str, *, action: str) -> StepRun:
    if step_key not in ALL_STEP_TITLES:
        raise NotFound(f"There is no step '{step_key}'.")
    if run.status in ACTIVE_RUN_STATUSES:
        raise Conflict(f'Run #{run.id} is {run.status}: wait for it to end or cancel it first.')
    step = queries.step_of_run(session, run.id, step_key)
    if step is None:
        raise NotFound(f"Run #{run.id} has no step '{ALL_STEP_TITLES[step_key]}'.")
    if step.status in REFUSED_STEP_STATUSES[action]:
        verb = 'skipped' if action == 'skip' else 'marked succeeded'
        succeeded = step.status == StepStatus.SUCCEEDED
        hint = ' (retry the step to run it again)' if succeeded else ''
        raise Conflict(f"Step '{ALL_STEP_TITLES[step_key]}' of run #{run.id} is {step.status}: it cannot be "
                       f'{verb}{hint}.')
    return step


def _cancelled(run: Run, actor: str) -> str:
    if run.mode == RunMode.DEPROVISION:
        return f'Deprovisioning run #{run.id} was cancelled by {actor}: retry it to finish the teardown.'
    return f'Run #{run.id} was cancelled by {actor}: provision again or retry the run to continue.'


def already_active(db: Database, tenant_id: int) -> Conflict:
    """The 409 for a second active run of a tenant (provisioning or teardown). Names the tenant by
    its name: a bare id (2026) reads like a year in a list of refusals."""
    with db.session() as session:
        active = queries.active_run_for_tenant(session, tenant_id)
        tenant = session.get(Tenant, tenant_id)
    kind = 'plan run' if active and active.mode == RunMode.PLAN else 'run'
    which = f' ({kind} #{active.id}, {active.status})' if active else ''
    who = f"'{tenant.name}'" if tenant else str(tenant_id)
    return Conflict(f'Tenant {who} already has an active run{which}: wait for it or cancel it.')


def _resumed_view(event: AuditEvent) -> dict[str, Any]:
    return {'at': event.at, 'step': event.step_key,
            'step_title': ALL_STEP_TITLES.get(event.step_key, event.step_key) if event.step_key else None}


def _step_view(step: StepRun) -> dict[str, Any]:
    return {'key': step.step_key, 'title': ALL_STEP_TITLES.get(step.step_key, step.step_key),
            'position': step.position, 'critical': step.critical, 'status': step.status,
            'attempts': step.attempts, 'earlier_attempts': step.earlier_attempts,
            'earlier_executions': step.earlier_executions, 'earlier_failures': step.earlier_failures,
            'earlier_retries': step.earlier_retries,
            'started_at': step.started_at, 'finished_at': step.finished_at, 'duration_ms': step.duration_ms,
            'error_category': step.error_category, 'error': step.error_message,
            'output': step.output, 'manual_by': step.manual_by, 'manual_reason': step.manual_reason}
