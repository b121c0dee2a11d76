"""Deprovisioning as the UI and the REST API see it: the plan (what would be deleted or changed,
from what the tenant's runs recorded, nothing written) and the request that queues a teardown run.
The runner executes that run with the steps of engine/teardown/."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from engine.services import audit
from engine.teardown import TEARDOWN_STEPS
from engine.validation import Conflict, NotFound
from storage.db import Database
from storage.queries import runs as queries
from storage.tables import Run, RunMode, RunTrigger, StepRun, StepStatus, Tenant, TenantStatus, utcnow

# Tenant statuses from which a teardown may start (something may exist in ERPNext).
DEPROVISIONABLE = (TenantStatus.PROVISIONED, TenantStatus.FAILED, TenantStatus.DEPROVISIONING)


def plan(db: Database, tenant_id: int) -> dict[str, Any]:
    """Every document a deprovision run would delete or change, by teardown step, in order."""
    with db.session() as session:
        tenant = _tenant(session, tenant_id)
        intents = queries.intents_of_tenant(session, tenant_id)
        modes = _modes_configured(session, tenant_id)
    company = (intents.get('Company') or [None])[-1]
    user = tenant.admin_email.strip().lower()
    delete: list[dict[str, str]] = []
    change: list[dict[str, str]] = []

    def add(step: str, doctype: str, names) -> None:
        delete.extend({'step': step, 'doctype': doctype, 'name': name} for name in reversed(list(names)))

    if company and intents.get('User Permission'):
        add('remove_tenant_admin', 'User Permission', [f'{user} → Company {company}'])
    add('remove_tenant_admin', 'User', [n for n in intents.get('User', []) if n == user])
    for step_key, doctype in (('delete_pos_profiles', 'POS Profile'), ('delete_walkin_customer', 'Customer'),
                              ('delete_price_list', 'Price List')):
        add(step_key, doctype, intents.get(doctype, []))
    if company:
        change.extend({'step': 'release_payment_modes', 'doctype': 'Mode of Payment', 'name': mode,
                       'change': f'remove the account row of {company}'} for mode in modes)
    add('release_payment_modes', 'Mode of Payment', intents.get('Mode of Payment', []))
    for step_key, doctype in (('delete_warehouses', 'Warehouse'), ('delete_cost_center', 'Cost Center'),
                              ('delete_accounts', 'Account')):
        add(step_key, doctype, intents.get(doctype, []))
    if company:
        add('delete_company', 'Company', [company])
    return {'tenant_id': tenant_id, 'tenant': tenant.name, 'delete': delete, 'change': change,
            'note': 'Only documents this tenant\'s runs created are deleted. A Mode of Payment created for it is '
                    'deleted only if no other company uses it by then; ERPNext removes the rest of the '
                    'company\'s chart of accounts, cost centers and default warehouses with the company.'}


def request(db: Database, tenant_id: int, *, actor: str) -> Run:
    """Queue a teardown run (409 when a run is active, or when there is nothing to tear down)."""
    try:
        with db.session() as session:
            tenant = _tenant(session, tenant_id)
            if tenant.status not in DEPROVISIONABLE:
                raise Conflict(f"Tenant '{tenant.name}' is {tenant.status}: only a provisioned (or failed) tenant "
                               'can be deprovisioned.')
            run = Run(tenant_id=tenant.id, engine_id=tenant.engine_id, requested_by=actor, mode=RunMode.DEPROVISION,
                      trigger=RunTrigger.MANUAL, correlation_id=uuid.uuid4().hex)
            session.add(run)
            session.flush()  # the one-active-run index answers here
            session.add_all([StepRun(run_id=run.id, step_key=step.key, position=index, critical=step.critical)
                             for index, step in enumerate(TEARDOWN_STEPS, start=1)])
            tenant.status, tenant.last_error, tenant.updated_at = TenantStatus.DEPROVISIONING, None, utcnow()
            session.add(tenant)
            audit.record(session, actor=actor, action='run.deprovision_requested', tenant_id=tenant.id,
                         run_id=run.id, correlation_id=run.correlation_id, details={})
            return run
    except IntegrityError:
        with db.session() as session:
            active = queries.active_run_for_tenant(session, tenant_id)
        which = f' (run #{active.id}, {active.status})' if active else ''
        raise Conflict(f'Tenant {tenant_id} already has an active run{which}: wait for it or cancel it.') from None


def _tenant(session: Session, tenant_id: int) -> Tenant:
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound(f'Tenant {tenant_id} does not exist.')
    return tenant


def _modes_configured(session: Session, tenant_id: int) -> list[str]:
    """The Modes of Payment the tenant's newest successful payment-mode step reported."""
    for run in queries.runs_for_tenant(session, tenant_id):
        if run.mode != RunMode.PROVISION:
            continue
        step = queries.step_of_run(session, run.id, 'configure_payment_modes')
        if step is not None and step.status == StepStatus.SUCCEEDED and step.output.get('modes'):
            return sorted(step.output['modes'])
    return []

