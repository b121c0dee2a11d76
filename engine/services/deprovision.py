"""Deprovisioning as the UI and the REST API see it: the plan (what would be deleted or changed,
from what the tenant's runs recorded, nothing written) and the request that queues a teardown run.
The runner executes that run with the steps of engine/teardown/.

A write-ahead intent says a run was *about to* create a document: ERPNext may have refused the
POST. So the teardown deletes a recorded document only with evidence that it is ours:
- a Company, Price List, Customer, User or Mode of Payment: a provisioning step that succeeded
  names it in its output (it existed then, created by us or adopted through our own intent). A
  request first moves the other intents to the runs' `unconfirmed_intents` (kept on record), so
  the teardown never deletes a document of that name that someone created later;
- a document of the company (Account, Cost Center, Warehouse, POS Profile, User Permission): the
  teardown deletes it only when ERPNext shows it in this tenant's confirmed company, which goes
  too (a critical step that failed half-way may have created some of them).

A tenant admin shared by several tenants (the same e-mail on one engine) is created by the first of
them, the only one whose intents name the user; the teardown deletes it only when ERPNext shows no
User Permission of it for another Company, and otherwise keeps it. The intent then passes on: the
request of another tenant with that admin takes over the user a deprovisioned one kept for it
(`_admin_kept_for_others`), so the last of them to go deletes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from engine import tenant_status
from engine.services.erpnext_footprint import footprint
from engine.services.runs import (
    already_active,
    new_run,
    refuse_while_admin_shared_with,
    refuse_while_stopping,
)
from engine.services.tenant_locks import tenant_to_run
from engine.services.tenant_lookup import tenant_in
from engine.teardown import TEARDOWN_STEPS
from engine.teardown.base import TeardownRecord
from engine.teardown.common import COMPANY_DOCTYPES
from engine.validation import Conflict
from storage import audit_log, run_meta
from storage.db import Database
from storage.queries import runs as queries
from storage.queries import tenants as tenant_queries
from storage.tables import Run, RunMode, RunTrigger, StepRun, StepStatus, Tenant, TenantStatus

# Tenant statuses from which a teardown may start (something may exist in ERPNext).
DEPROVISIONABLE = (TenantStatus.PROVISIONED, TenantStatus.FAILED, TenantStatus.DEPROVISIONING)
PLAN_NOTE = (
    "Only documents this tenant's runs created are deleted, each only when ERPNext shows that Provisioner's API "
    'user created it (its owner), and a document of the company only when ERPNext shows it in this company: the '
    "run lists the others as kept. The admin's User is deleted only if ERPNext shows no User Permission of it for "
    'another company (an admin shared with other tenants stays, as theirs). A Mode of Payment created for it is '
    "deleted only if no other company uses it by then; ERPNext removes the rest of the company's chart of "
    'accounts, cost centers and default warehouses with the company. "kept": names a run was about to create but '
    'no step confirmed (ERPNext may have refused them): never deleted; check ERPNext by hand.')


def plan(db: Database, tenant_id: int) -> dict[str, Any]:
    """Every document a deprovision run would delete or change, by teardown step, in order: each step
    of TEARDOWN_STEPS previews its part from what the tenant's runs recorded (nothing written)."""
    with db.session() as session:
        tenant = tenant_in(session, tenant_id)
        refuse_while_stopping(session, tenant_id)  # what its steps in flight create is not on record yet
        _refuse_when_nothing_to_tear_down(session, tenant)
        record, unconfirmed = _teardown_record(session, tenant)
    previews = [step.preview(record) for step in TEARDOWN_STEPS]
    never = [{'doctype': doctype, 'name': name, 'reason': 'no step confirmed creating it'}
             for doctype, names in unconfirmed.items() for name in names]
    return {'tenant_id': tenant_id, 'tenant': tenant.name,
            'delete': [item for preview in previews for item in preview.delete],
            'change': [item for preview in previews for item in preview.change],
            'kept': never + [item for preview in previews for item in preview.kept], 'note': PLAN_NOTE}


def _teardown_record(session: Session, tenant: Tenant) -> tuple[TeardownRecord, dict[str, list[str]]]:
    """What the teardown steps' previews read, and the unconfirmed intents (never deleted)."""
    intents, unconfirmed = confirmed_intents(session, tenant.id)
    holders = tuple(other.name for other in tenant_queries.tenants_sharing_admin(session, tenant)
                    if other.status not in (TenantStatus.NOT_STARTED, TenantStatus.DEPROVISIONED))
    record = TeardownRecord(intents=intents, admin=tenant.admin_email.strip().lower(),
                            admin_handed_over=_admin_kept_for_others(session, tenant) is not None,
                            admin_holders=holders, payment_modes=tuple(_modes_configured(session, tenant.id)))
    return record, unconfirmed


def request(db: Database, tenant_id: int, *, actor: str) -> Run:
    """Queue a teardown run (409 when a run is active, or when there is nothing to tear down)."""
    try:
        with db.session() as session:
            tenant = tenant_to_run(session, tenant_id)  # an edit or delete in progress ends first
            refuse_while_stopping(session, tenant_id)  # a cancelled run's step may still create something
            if tenant.status not in DEPROVISIONABLE:
                raise Conflict(f"Tenant '{tenant.name}' is {tenant.status}: only a provisioned (or failed) tenant "
                               'can be deprovisioned.')
            _refuse_when_nothing_to_tear_down(session, tenant)
            refuse_while_admin_shared_with(session, tenant, RunMode.PROVISION)
            run = new_run(session, tenant, mode=RunMode.DEPROVISION, actor=actor, trigger=RunTrigger.MANUAL)
            _settle_intents(session, tenant.id)
            handed_over = _admin_kept_for_others(session, tenant)
            if handed_over:  # recorded after the settling: no step of this tenant created the user
                run.meta = {**(run.meta or {}), run_meta.INTENTS: {'User': [handed_over[0]]}}
                session.add(run)
            tenant_status.queue(tenant, run, tenant_status.LIFECYCLES[RunMode.DEPROVISION].queued)
            audit_log.record(session, actor=actor, action='run.deprovision_requested', tenant_id=tenant.id,
                             run_id=run.id, correlation_id=run.correlation_id,
                             details={'admin_user_taken_over_from': handed_over[1]} if handed_over else {})
            return run
    except IntegrityError:
        raise already_active(db, tenant_id) from None


def _refuse_when_nothing_to_tear_down(session: Session, tenant: Tenant) -> None:
    """Conflict for a tenant none of whose runs recorded a document (or got a writing step done): a
    teardown would delete nothing, yet wait for the engine, for ever while it is offline. Unless the
    tenant takes over an admin user another tenant's teardown kept for it."""
    if footprint(session, tenant).anything or _admin_kept_for_others(session, tenant) is not None:
        return
    raise Conflict(f"Nothing of tenant '{tenant.name}' is in ERPNext: none of its runs recorded creating or "
                   'adopting a document, so there is nothing to deprovision. Delete the tenant instead (an admin '
                   f'can, on its page or with DELETE /api/v1/tenants/{tenant.id}), or provision it.')


def _admin_kept_for_others(session: Session, tenant: Tenant) -> tuple[str, str] | None:
    """(the admin user, the tenant that kept it) when the newest teardown of another tenant of the same
    engine with the same admin kept the user it had created because other companies still had it as
    their admin. This tenant takes it over; its teardown deletes it once no other company has it."""
    user = tenant.admin_email.strip().lower()
    siblings = {other.id: other.name for other in tenant_queries.tenants_sharing_admin(session, tenant)}
    if not siblings:
        return None
    outputs = session.exec(
        select(Run.tenant_id, StepRun.output).join(Run, col(Run.id) == col(StepRun.run_id))
        .where(col(Run.tenant_id).in_(siblings), Run.mode == RunMode.DEPROVISION,
               StepRun.step_key == 'remove_tenant_admin', StepRun.status == StepStatus.SUCCEEDED)
        .order_by(col(Run.id).desc())).all()
    newest: dict[int, dict[str, Any]] = {}
    for tenant_id, output in outputs:
        newest.setdefault(tenant_id, output or {})
    for tenant_id, output in newest.items():
        if user in output.get('kept', []) and output.get('still_admin_of'):
            return user, siblings[tenant_id]
    return None


def _modes_configured(session: Session, tenant_id: int) -> list[str]:
    """The Modes of Payment the tenant's newest successful payment-mode step reported."""
    for run in queries.runs_for_tenant(session, tenant_id):
        if run.mode != RunMode.PROVISION:
            continue
        step = queries.step_of_run(session, run.id, 'configure_payment_modes')
        if step is not None and step.status == StepStatus.SUCCEEDED and step.output.get('modes'):
            return sorted(step.output['modes'])
    return []



# ---- which recorded documents are ours ------------------------------------------------------------

def confirmed_intents(session: Session, tenant_id: int) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The tenant's intents split into those the teardown may act on and the unconfirmed rest:
    a name outside COMPANY_DOCTYPES stays only when a succeeded provisioning step's output names it."""
    metas = session.exec(select(Run.meta).where(Run.tenant_id == tenant_id)).all()
    intents = queries.merge_intents(metas)
    named = _named_by_succeeded_steps(session, tenant_id)
    kept: dict[str, list[str]] = {}
    unconfirmed: dict[str, list[str]] = {}
    for meta in metas:
        for doctype, names in (meta or {}).get(run_meta.UNCONFIRMED, {}).items():
            bucket = unconfirmed.setdefault(doctype, [])
            bucket.extend(name for name in names if name not in bucket)
    for doctype, names in intents.items():
        for name in names:
            ours = doctype in COMPANY_DOCTYPES or name in named
            (kept if ours else unconfirmed).setdefault(doctype, []).append(name)
    unconfirmed = {doctype: [name for name in names if name not in kept.get(doctype, ())]  # confirmed since
                   for doctype, names in unconfirmed.items()}
    return kept, {doctype: names for doctype, names in unconfirmed.items() if names}


def _settle_intents(session: Session, tenant_id: int) -> None:
    """Move the unconfirmed intents out of the runs' `intents` (the teardown reads those) into
    their `unconfirmed_intents`, where they stay on record."""
    _, unconfirmed = confirmed_intents(session, tenant_id)
    if not unconfirmed:
        return
    for run in session.exec(select(Run).where(Run.tenant_id == tenant_id)).all():
        intents = (run.meta or {}).get(run_meta.INTENTS) or {}
        moved = {doctype: [name for name in names if name in unconfirmed.get(doctype, ())]
                 for doctype, names in intents.items()}
        if not any(moved.values()):
            continue
        on_record = {doctype: list(names) for doctype, names in (run.meta or {}).get(run_meta.UNCONFIRMED, {}).items()}
        for doctype, names in moved.items():
            on_record.setdefault(doctype, []).extend(name for name in names if name not in on_record[doctype])
        run.meta = {**run.meta, run_meta.UNCONFIRMED: {doctype: names for doctype, names in on_record.items() if names},
                    run_meta.INTENTS: {doctype: [name for name in names if name not in moved[doctype]]
                                for doctype, names in intents.items()}}
        session.add(run)


def _named_by_succeeded_steps(session: Session, tenant_id: int) -> set[str]:
    """Every name (dict keys and string values, at any depth) in the output of a provisioning step
    that succeeded, in any provisioning run of the tenant. A step marked done by hand has no output."""
    outputs = session.exec(
        select(StepRun.output).join(Run, col(Run.id) == col(StepRun.run_id))
        .where(Run.tenant_id == tenant_id, Run.mode == RunMode.PROVISION,
               StepRun.status == StepStatus.SUCCEEDED)).all()
    return set(_strings(outputs))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, Iterable):
        for item in value:
            yield from _strings(item)
