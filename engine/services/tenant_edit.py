"""Correcting a tenant: what may still change, field by field, and the change itself (audited).

A field may change while ERPNext holds nothing made from it (what the tenant's runs recorded:
engine/services/erpnext_footprint.py):

- name: at any time (our label: the company step names the Company by company_name, never by it;
  a renamed tenant's company_name follows its name while that may change, and stays otherwise);
- company_name, country, currency: while no run created (or took) the tenant's Company;
- admin_email: until the invite step succeeded (ERPNext then has a user of that address from it);
- engine: while no run recorded any document (a teardown looks for them on the tenant's engine);
- stores: up at any time (a provisioning run then makes the new stores), down while no store above
  the new number has a warehouse or POS profile on record.

A deprovisioned tenant's company, stores and admin are gone, so those may change again (its engine
may not: its runs' records name documents there). So is what the runs before a completed teardown
made once the tenant is provisioned again: only the runs after it count (its admin stays while that
teardown kept the admin's user for other tenants). The abbreviation is not a tenant's input: the
company step derives it from the company name. Nothing changes while a run of the tenant is queued
or running, or a cancelled one is still stopping (Conflict). The same rules as on creation apply to
each value (engine/validation.py `TenantUpdate`), and names are unique in the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from engine.services.engines import find_engine
from engine.services.erpnext_footprint import Footprint, footprint
from engine.services.runs import refuse_while_stopping
from engine.services.tenant_removal import admin_user_kept
from engine.services.tenant_locks import tenant_to_change
from engine.services.tenant_lookup import tenant_in
from engine.validation import Conflict, InvalidInput, TenantUpdate
from storage import audit_log
from storage.db import Database
from storage.name_keys import name_key
from storage.queries import runs as run_queries
from storage.queries import tenants as queries
from storage.tables import Engine, RunMode, Tenant, TenantStatus, utcnow

COMPANY_FIELDS = ('company_name', 'country', 'currency')  # what the company step makes the Company from
FIELDS = ('name', *COMPANY_FIELDS, 'admin_email', 'engine', 'stores')
MAX_NAMED = 4  # documents named in a refusal
RUN_KINDS = {RunMode.PROVISION: 'provisioning run', RunMode.PLAN: 'plan run', RunMode.DEPROVISION: 'teardown run'}


@dataclass(frozen=True)
class EditRules:
    """What may change now: `blocked` says why nothing may (a run is active); `locked` why a field
    may not; `min_stores` is the fewest stores the tenant may have (`min_stores_reason` says why)."""

    tenant: Tenant
    engine_name: str
    blocked: str | None = None
    locked: dict[str, str] = field(default_factory=dict)
    min_stores: int = 1
    min_stores_reason: str | None = None


def edit_rules(db: Database, tenant_id: int) -> EditRules:
    """The tenant and what of it may change now (NotFound for an unknown id)."""
    with db.session() as session:
        tenant = tenant_in(session, tenant_id)
        return _rules(session, tenant)


def update_tenant(db: Database, tenant_id: int, data: TenantUpdate, *, actor: str) -> Tenant:
    """Apply the fields `data` gives that differ from the tenant's, in one transaction with its
    `tenant.updated` event (`changes`: field → [old, new]). Conflict when a run is active, a field may
    no longer change (each reason named) or a name is taken; InvalidInput for an unknown engine."""
    try:
        with db.session() as session:
            tenant = tenant_to_change(session, tenant_id)  # a run request waits until the change is saved
            rules = _rules(session, tenant)
            if rules.blocked:
                raise Conflict(rules.blocked)
            wanted = _wanted(session, tenant, data, rules)
            changes = {key: [_shown(session, key, getattr(tenant, _column(key))), _shown(session, key, value)]
                       for key, value in wanted.items() if value != getattr(tenant, _column(key))}
            if not changes:
                return tenant
            _refuse_locked(tenant, rules, wanted, changes)
            _refuse_taken_names(session, tenant, wanted, changes)
            for key in changes:
                setattr(tenant, _column(key), wanted[key])
            tenant.name_key, tenant.updated_at = name_key(tenant.name), utcnow()
            session.add(tenant)
            session.flush()  # the unique name key answers here, inside the transaction
            audit_log.record(session, actor=actor, action='tenant.updated', tenant_id=tenant.id,
                             details={'changes': changes})
            return tenant
    except IntegrityError:  # lost a race to the unique name key (another rename or creation)
        with db.session() as session:
            winner = queries.tenant_by_name(session, data.name or '')
        raise Conflict(f"a tenant named '{winner.name if winner else data.name}' already exists") from None


# ---- the rules -----------------------------------------------------------------------------------

def _rules(session: Session, tenant: Tenant) -> EditRules:
    engine = session.get(Engine, tenant.engine_id)
    engine_name = engine.name if engine else f'#{tenant.engine_id}'
    blocked = _active_run(session, tenant)
    made = footprint(session, tenant)
    gone = tenant.status == TenantStatus.DEPROVISIONED  # the teardown deleted what the runs made
    locked: dict[str, str] = {}
    if (company := made.company()) and not gone:
        why = _company_reason(*company)
        locked.update({key: why for key in COMPANY_FIELDS})
    if (invited_by := _admin_invited_by(made, tenant)) and not gone:
        locked['admin_email'] = (
            f"run #{invited_by} invited {tenant.admin_email} as the tenant's admin: ERPNext holds that user "
            '(named after the address, with a permission on the company), which a new address would leave '
            'behind. Add the new admin in ERPNext, or deprovision the tenant first, then change it')
    elif (gone or made.torn_down) and (kept := admin_user_kept(session, tenant)):
        locked['admin_email'] = (
            f'the teardown kept ERPNext user {kept} for the other tenants it is the admin of; the last of their '
            'teardowns deletes it, which needs this address to find it')
    if made.anything or made.torn_down:
        locked['engine'] = (
            f"this tenant's runs recorded documents on engine '{engine_name}' (a deprovision deletes them there): "
            'it stays on that engine. For another engine, create a new tenant'
            + (' and delete this one' if gone else ''))
    min_stores, reason = (1, None) if gone else _fewest_stores(made, tenant)
    return EditRules(tenant=tenant, engine_name=engine_name, blocked=blocked, locked=locked,
                     min_stores=min_stores, min_stores_reason=reason)


def _admin_invited_by(made: Footprint, tenant: Tenant) -> int | None:
    """The run that invited the admin, or that recorded inviting it (its answer may not have come:
    ERPNext may hold the user all the same)."""
    if invited := made.admin_invited():
        return invited.run_id
    return made.recorded.get('User', {}).get(tenant.admin_email.strip().lower())


def _active_run(session: Session, tenant: Tenant) -> str | None:
    try:
        refuse_while_stopping(session, tenant.id)
    except Conflict as exc:
        return exc.message
    run = run_queries.active_run_for_tenant(session, tenant.id)
    if run is None:
        return None
    kind = RUN_KINDS.get(run.mode, 'run')
    return (f"Tenant '{tenant.name}' has a {kind} in progress (run #{run.id}, {run.status}): wait for it to "
            'end (or cancel it), then edit the tenant.')


def _company_reason(company: str, run_id: int) -> str:
    return (f"run #{run_id} created the Company '{company}' in ERPNext from it, and ERPNext keeps a company's "
            'name, country and currency: deprovision the tenant first (it deletes what its runs made), then '
            'correct it')


def _fewest_stores(made: Footprint, tenant: Tenant) -> tuple[int, str | None]:
    """The fewest stores the tenant may have: as many as ERPNext holds documents of."""
    if made.stores_done_by_hand():
        return tenant.stores, (f'a store step was marked succeeded by hand, so which of the {tenant.stores} '
                               "stores ERPNext holds is not on record: deprovision the tenant first")
    stores = made.store_documents()
    if not stores:
        return 1, None
    highest = max(stores)
    names = [name for number in sorted(stores) for name in stores[number]]
    shown = ', '.join(f"'{name}'" for name in names[:MAX_NAMED]) + (', …' if len(names) > MAX_NAMED else '')
    return highest, (f'ERPNext holds warehouses and POS profiles of stores up to {highest} ({shown}), which '
                     'Provisioner would then no longer check or repair: deprovision the tenant first, or disable '
                     'the POS profiles you no longer need in ERPNext')


def _refuse_locked(tenant: Tenant, rules: EditRules, wanted: dict[str, Any], changes: dict[str, Any]) -> None:
    by_reason: dict[str, list[str]] = {}
    for key in changes:
        if key in rules.locked:
            by_reason.setdefault(rules.locked[key], []).append(key)
    reasons = [f"{', '.join(keys)}: {reason}" for reason, keys in by_reason.items()]
    if 'stores' in changes and wanted['stores'] < rules.min_stores:
        reasons.append(f"stores: cannot go from {tenant.stores} to {wanted['stores']}: {rules.min_stores_reason}")
    if reasons:
        raise Conflict(f"Tenant '{tenant.name}' cannot be changed so: " + '; '.join(reasons) + '.')


# ---- values --------------------------------------------------------------------------------------

def _wanted(session: Session, tenant: Tenant, data: TenantUpdate, rules: EditRules) -> dict[str, Any]:
    """The given fields as stored values: the engine by id; a renamed tenant's company follows its name
    unless it was named otherwise (or is given), or may no longer change."""
    wanted = data.given()
    if 'engine' in wanted:
        engine = find_engine(session, wanted['engine'])
        if engine is None:
            raise InvalidInput('engine', f"no engine with id or name '{wanted['engine']}'")
        wanted['engine'] = engine.id
    if 'name' in wanted and 'company_name' not in wanted and tenant.company_name == tenant.name \
            and 'company_name' not in rules.locked:
        wanted['company_name'] = wanted['name']
    return wanted


def _refuse_taken_names(session: Session, tenant: Tenant, wanted: dict[str, Any], changes: dict[str, Any]) -> None:
    if 'name' in changes:
        other = queries.tenant_by_name(session, wanted['name'])
        if other is not None and other.id != tenant.id:
            raise Conflict(f"a tenant named '{other.name}' already exists")
    if 'company_name' in changes or 'engine' in changes:
        company = wanted.get('company_name', tenant.company_name)
        engine_id = wanted.get('engine', tenant.engine_id)
        other = company_holder(session, company, engine_id, own_id=tenant.id)
        if other is not None:
            raise Conflict(f"company_name: tenant '{other.name}' already has a company named "
                           f"'{other.company_name}' on this engine (ERPNext holds one company of a name)")


def company_holder(session: Session, company: str, engine_id: int, *, own_id: int | None = None) -> Tenant | None:
    """Another tenant of the engine whose company has this name, as ERPNext compares names: one whose
    company is named after it (the name's unique key), or one of the few whose company was renamed."""
    key = name_key(company)
    named = queries.tenant_by_name(session, company)
    candidates = [named] if named is not None else []
    candidates += session.exec(select(Tenant).where(Tenant.engine_id == engine_id,
                                                    Tenant.company_name != Tenant.name)).all()
    return next((other for other in candidates if other.id != own_id and other.engine_id == engine_id
                 and name_key(other.company_name) == key), None)


def _column(key: str) -> str:
    return 'engine_id' if key == 'engine' else key


def _shown(session: Session, key: str, value: Any) -> Any:
    """A value as the audit log shows it: an engine by its name."""
    if key != 'engine':
        return value
    engine = session.get(Engine, value)
    return engine.name if engine else value
