"""Tenants: creation and look-ups (provisioning lives with the run services).

A tenant's Company in ERPNext is named after the tenant, and ERPNext compares names without
regard to case, so two tenants may not differ only in case, nor in spacing: 'acme  retail' is taken
once 'Acme Retail' exists. Names compare through their key (storage/name_keys.py), which a unique
index guards, so two people creating 'Acme' and 'ACME' at the same moment get one tenant and one
Conflict, also with several processes on PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from engine.services import runs
from engine.services.engines import find_engine
from engine.services.tenant_edit import company_holder
from engine.services.tenant_lookup import tenant_in
from engine.validation import MAX_ID, Conflict, InvalidInput, Page, TenantCreate
from storage import audit_log
from storage.db import Database
from storage.name_keys import name_key, single_spaces
from storage.queries import engines as engine_queries
from storage.queries import runs as run_queries
from storage.queries import tenants as queries
from storage.tables import EngineHealth, Run, RunStatus, Tenant, TenantStatus

MAX_LIMIT = 500
MAX_QUERY_LENGTH = 200


def create_tenant(db: Database, data: TenantCreate, *, actor: str, correlation_id: str | None = None) -> Tenant:
    """A NOT_STARTED tenant; InvalidInput for an unknown engine, Conflict for a taken name.
    `correlation_id` goes on its `tenant.created` event (a CSV import gives all its tenants its own)."""
    try:
        with db.session() as session:
            engine = find_engine(session, data.engine)
            if engine is None:
                raise InvalidInput('engine', f"no engine with id or name '{data.engine}'")
            _refuse_taken_name(session, data.name)
            holder = company_holder(session, data.name, engine.id)
            if holder is not None:  # its company was renamed to this name (engine/services/tenant_edit.py)
                raise Conflict(f"tenant '{holder.name}' already has a company named '{holder.company_name}' on "
                               f"engine '{engine.name}' (ERPNext holds one company of a name)")
            tenant = _new_tenant(data, engine.id, actor)
            session.add(tenant)
            session.flush()
            audit_log.record(session, actor=actor, action='tenant.created', tenant_id=tenant.id,
                             details={'name': tenant.name, 'engine_id': engine.id, 'country': tenant.country,
                                      'currency': tenant.currency, 'stores': tenant.stores},
                             correlation_id=correlation_id)
    except IntegrityError:
        # Lost a race to the unique name key: the session rolled back (PostgreSQL's transaction is
        # unusable after the error), so a new one reads the winner and answers as the check does.
        with db.session() as session:
            winner = queries.tenant_by_name(session, data.name)
        raise _name_taken(winner.name if winner else data.name) from None
    return tenant


def list_tenants(db: Database, *, status: str | None = None, q: str | None = None,
                 engine_id: int | None = None, drifted: bool | None = None, warnings: bool | None = None,
                 limit: int = 50, offset: int = 0) -> Page[Tenant]:
    """Tenants newest first; `q` matches name, company or admin email (any case); `drifted` keeps
    only the tenants whose last drift check found (True) or did not find (False) a difference;
    `warnings` only those whose current run (the newest that is not a plan) succeeded with at least
    one warning (True), or all the others (False)."""
    _check_page(limit, offset)
    status = _status(status)
    q = _query_text(q)
    with db.session() as session:
        items, total = queries.tenants_page(session, limit=limit, offset=offset, status=status, q=q,
                                            engine_id=engine_id, drifted=drifted, warnings=warnings)
    return Page(items=items, total=total)


def get_tenant(db: Database, tenant_id: int) -> Tenant:
    with db.session() as session:
        return tenant_in(session, tenant_id)


# ---- drift and repair --------------------------------------------------------------------------

# Nothing in ERPNext to repair in these statuses (QUEUED and PROVISIONING have a run already: 409).
NOT_REPAIRABLE = {
    TenantStatus.NOT_STARTED: 'it was never provisioned: nothing to repair, provision it',
    TenantStatus.DEPROVISIONING: 'it is being deprovisioned: nothing to repair, finish or retry the teardown',
    TenantStatus.DEPROVISIONED: 'it was deprovisioned: nothing to repair, provision it to create it again',
}


def repair(db: Database, tenant_id: int, *, actor: str) -> Run:
    """Provision a PROVISIONED (drifted) or FAILED tenant again: every step adopts what exists and
    creates only what is missing. Conflict for a tenant with nothing in ERPNext to repair."""
    tenant = get_tenant(db, tenant_id)
    why = NOT_REPAIRABLE.get(TenantStatus(tenant.status))
    if why is not None:
        raise Conflict(f"Tenant '{tenant.name}' is {tenant.status}: {why}.")
    return runs.request_provision(db, tenant_id, actor=actor, repair=True)


# ---- helpers -----------------------------------------------------------------------------------

def _new_tenant(data: TenantCreate, engine_id: int, actor: str) -> Tenant:
    return Tenant(name=data.name, name_key=name_key(data.name), company_name=data.name,
                  country=data.country, currency=data.currency, admin_email=data.admin_email,
                  stores=data.stores, engine_id=engine_id, status=TenantStatus.NOT_STARTED, created_by=actor)


def _refuse_taken_name(session: Session, name: str) -> None:
    other = queries.tenant_by_name(session, name)
    if other is not None:
        raise _name_taken(other.name)


def _name_taken(name: str) -> Conflict:
    return Conflict(f"a tenant named '{name}' already exists")


def _check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput('limit', f'must be between 1 and {MAX_LIMIT}')
    if not 0 <= offset <= MAX_ID:
        raise InvalidInput('offset', 'must be 0 or more')


def _status(status: str | None) -> str | None:
    if not status:
        return None
    if status not in set(TenantStatus):
        raise InvalidInput('status', f"must be one of {', '.join(TenantStatus)}")
    return str(status)


def _query_text(q: str | None) -> str | None:
    """What the user typed, trimmed and each run of spaces one space ('acme   retail' finds 'Acme Retail')."""
    text = single_spaces(q or '').strip()
    if not text.isprintable():
        raise InvalidInput('q', 'must contain only printable characters (no tabs, line breaks or control characters)')
    if len(text) > MAX_QUERY_LENGTH:
        raise InvalidInput('q', f'must be at most {MAX_QUERY_LENGTH} characters long')
    return text or None


# ---- the tenants page's listing ----------------------------------------------------------------

@dataclass(frozen=True)
class TenantListing:
    """A tenant with its newest run (None until it ran once), and the name of the offline engine
    that run waits for while it is QUEUED (see engines.waiting_for_engine)."""

    tenant: Tenant
    latest_run: Run | None
    waiting_for_engine: str | None = None


def list_tenants_with_runs(db: Database, *, status: str | None = None, q: str | None = None,
                           engine_id: int | None = None, drifted: bool | None = None,
                           warnings: bool | None = None, limit: int = 25, offset: int = 0) -> Page[TenantListing]:
    """One page of `list_tenants`, each tenant with its newest run: a COUNT, a page and one run query."""
    _check_page(limit, offset)
    status, q = _status(status), _query_text(q)
    with db.session() as session:
        items, total = queries.tenants_page(session, limit=limit, offset=offset, status=status, q=q,
                                            engine_id=engine_id, drifted=drifted, warnings=warnings)
        latest = run_queries.current_runs_for_tenants(session, [tenant.id for tenant in items])
        offline = {engine.id: engine.name for engine in engine_queries.all_engines(session)
                   if engine.health == EngineHealth.OFFLINE}
    return Page(items=[_listing(tenant, latest.get(tenant.id), offline) for tenant in items], total=total)


def _listing(tenant: Tenant, run: Run | None, offline: dict[int, str]) -> TenantListing:
    waits = run is not None and run.status == RunStatus.QUEUED
    return TenantListing(tenant, run, offline.get(run.engine_id) if waits else None)
