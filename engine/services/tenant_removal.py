"""Deleting a tenant that never reached ERPNext, or whose teardown is done.

A tenant may be deleted when nothing of it is left in ERPNext to account for: none of its runs
recorded a document or got a writing step done (engine/services/erpnext_footprint.py), or it is
DEPROVISIONED (its teardown deleted what its runs made and listed what it kept); once provisioned
again, only the runs after its last completed teardown count. Never while a run of it is queued or
running, or a cancelled one is still stopping. Otherwise: Conflict, saying to deprovision it first.

Its runs and their steps go with it (the foreign keys need it, and a run means nothing without its
tenant); the audit log keeps every event, the `tenant.deleted` one with its name. An engine that only
deleted tenants used can then be deleted too. One exception keeps a deprovisioned tenant: when its
teardown kept the admin's ERPNext user for other tenants sharing that admin, its runs are the record
that Provisioner made that user, which the last of those tenants' teardowns takes over.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from engine.services.erpnext_footprint import WRITES_NOTHING, Footprint, footprint
from engine.services.runs import refuse_while_stopping
from engine.services.tenant_locks import tenant_to_change
from engine.services.tenant_lookup import tenant_in
from engine.validation import Conflict
from storage import audit_log
from storage.db import Database
from storage.queries import runs as run_queries
from storage.queries import tenants as tenant_queries
from storage.tables import Run, RunMode, StepRun, StepStatus, Tenant, TenantStatus

# Statuses in which a tenant is never deletable (a provisioned one has its company; the others a run):
# a page need not ask.
NEVER_DELETABLE = frozenset({TenantStatus.PROVISIONED, TenantStatus.QUEUED, TenantStatus.PROVISIONING})


def removal_refusal(db: Database, tenant_id: int) -> str | None:
    """Why the tenant cannot be deleted now, or None when it can (NotFound for an unknown id)."""
    with db.session() as session:
        try:
            _refuse_removal(session, tenant_in(session, tenant_id))
        except Conflict as exc:
            return exc.message
    return None


def delete_tenant(db: Database, tenant_id: int, *, actor: str) -> Tenant:
    """Delete the tenant with its runs and their steps, audited as `tenant.deleted`; returns the tenant
    as it was. Conflict when something of it may be in ERPNext, or a run of it is active."""
    try:
        with db.session() as session:
            tenant = tenant_to_change(session, tenant_id)  # a run request waits until the delete is saved
            _refuse_removal(session, tenant)
            run_ids = list(session.exec(select(Run.id).where(Run.tenant_id == tenant.id)).all())
            if run_ids:
                session.execute(delete(StepRun).where(col(StepRun.run_id).in_(run_ids)))
                session.execute(delete(Run).where(col(Run.id).in_(run_ids)))
            session.delete(tenant)
            session.flush()  # a run requested meanwhile (another process) makes the foreign key refuse here
            audit_log.record(session, actor=actor, action='tenant.deleted', tenant_id=tenant.id,
                             details={'name': tenant.name, 'company_name': tenant.company_name,
                                      'engine_id': tenant.engine_id, 'status': tenant.status,
                                      'runs_deleted': len(run_ids)})
            return tenant
    except IntegrityError:
        raise Conflict('A run of this tenant was requested while it was being deleted: it was kept. '
                       'Cancel that run, then delete the tenant.') from None


def _refuse_removal(session: Session, tenant: Tenant) -> None:
    refuse_while_stopping(session, tenant.id)
    run = run_queries.active_run_for_tenant(session, tenant.id)
    if run is not None:
        raise Conflict(f"Tenant '{tenant.name}' has an active run (#{run.id}, {run.status}): wait for it to end "
                       'or cancel it, then delete the tenant.')
    if tenant.status != TenantStatus.DEPROVISIONED and (made := footprint(session, tenant)).anything:
        raise Conflict(f"Tenant '{tenant.name}' may have documents in ERPNext ({_what(made)}): deprovision it "
                       'first (the teardown deletes what its runs made), then delete it.')
    _refuse_while_admin_kept_for_others(session, tenant)  # after a teardown, provisioned again or not


def _what(made: Footprint) -> str:
    """The company its runs recorded (or the first document), how many more, or the step that succeeded."""
    names = [(doctype, name) for doctype, recorded in made.recorded.items() for name in recorded]
    if names:
        first = next(((doctype, name) for doctype, name in names if doctype == 'Company'), names[0])
        more = len(names) - 1
        return (f"its runs recorded the {first[0]} '{first[1]}'"
                + (f" and {more} other document{'s' if more > 1 else ''}" if more else ''))
    steps = [key for key in made.done if key not in WRITES_NOTHING]
    return f"step '{steps[0]}' succeeded" if steps else 'a step that writes succeeded'


def _refuse_while_admin_kept_for_others(session: Session, tenant: Tenant) -> None:
    """Conflict when this tenant's teardown kept the admin user it had created because other tenants
    still had it as their admin, and one of those is still live: its teardown takes the user over from
    this tenant's runs (engine/services/deprovision.py `_admin_kept_for_others`)."""
    kept = admin_user_kept(session, tenant)
    if kept is None:
        return
    live = [other.name for other in tenant_queries.tenants_sharing_admin(session, tenant)
            if other.status != TenantStatus.DEPROVISIONED]
    if live:
        names = ', '.join(f"'{name}'" for name in live)
        raise Conflict(f"Tenant '{tenant.name}' cannot be deleted yet: its teardown kept the ERPNext user {kept} "
                       f'(the admin it created) for {names}, which still use it, and only its runs record that '
                       f'Provisioner made that user. Deprovision {names} first (that teardown then deletes the user), '
                       'then delete this tenant.')


def admin_user_kept(session: Session, tenant: Tenant) -> str | None:
    """The admin user the tenant's newest finished teardown kept for other tenants, or None."""
    output: dict[str, Any] | None = session.exec(
        select(StepRun.output).join(Run, col(Run.id) == col(StepRun.run_id))
        .where(Run.tenant_id == tenant.id, Run.mode == RunMode.DEPROVISION,
               StepRun.step_key == 'remove_tenant_admin', StepRun.status == StepStatus.SUCCEEDED)
        .order_by(col(Run.id).desc())).first()
    return tenant.admin_email.strip().lower() if output and output.get('still_admin_of') else None
