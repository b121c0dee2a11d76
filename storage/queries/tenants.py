"""Questions about tenants."""

from __future__ import annotations

from typing import Any

from sqlalchemy import literal_column
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, or_, select

from storage.name_keys import name_key
from storage.tables import Run, RunMode, RunStatus, Tenant


def tenant_by_name(session: Session, name: str) -> Tenant | None:
    """The tenant called `name`, case and spacing aside (ERPNext treats 'Acme' and 'acme' as one
    Company): one look-up of the unique `name_key` index."""
    return session.exec(select(Tenant).where(Tenant.name_key == name_key(name))).first()


def tenants_sharing_admin(session: Session, tenant: Tenant) -> list[Tenant]:
    """The other tenants of `tenant`'s engine whose admin is the same e-mail: one ERPNext user serves
    them all (each tenant adds its company's User Permission to it)."""
    email = tenant.admin_email.strip().lower()
    return list(session.exec(select(Tenant).where(
        Tenant.engine_id == tenant.engine_id, Tenant.id != tenant.id,
        func.lower(func.trim(Tenant.admin_email)) == email).order_by(col(Tenant.id))))


def tenants_page(session: Session, *, limit: int, offset: int, status: str | None = None,
                 q: str | None = None, engine_id: int | None = None,
                 drifted: bool | None = None, warnings: bool | None = None) -> tuple[list[Tenant], int]:
    """Matching tenants newest first, and how many match in total."""
    conditions = _conditions(status=status, q=q, engine_id=engine_id, drifted=drifted, warnings=warnings)
    total = session.exec(select(func.count()).select_from(Tenant).where(*conditions)).one()
    query = select(Tenant).where(*conditions).order_by(col(Tenant.id).desc()).offset(offset).limit(limit)
    return list(session.exec(query)), total


def _conditions(*, status: str | None, q: str | None, engine_id: int | None,
                drifted: bool | None = None, warnings: bool | None = None) -> list[Any]:
    conditions: list[Any] = []
    if drifted is not None:
        conditions.append(col(Tenant.drifted).is_(drifted))
    if warnings is not None:
        warned = tenants_warned_by_current_run()
        conditions.append(col(Tenant.id).in_(warned) if warnings else col(Tenant.id).not_in(warned))
    if status:
        conditions.append(Tenant.status == status)
    if engine_id is not None:
        conditions.append(Tenant.engine_id == engine_id)
    if q:
        # The name through its key, so spacing and case are ignored there as in every name check.
        by_name = col(Tenant.name_key).contains(name_key(q), autoescape=True)
        others = (Tenant.company_name, Tenant.admin_email)
        conditions.append(or_(by_name, *(col(column).icontains(q, autoescape=True) for column in others)))
    return conditions


def tenants_warned_by_current_run() -> Any:
    """The ids of the tenants whose current run (the newest that is not a plan) succeeded with at
    least one warning, as a subquery. It reads only the runs that succeeded with warnings (the
    partial index `ix_run_warned` holds just the runs with warnings) and keeps each one that is its
    tenant's newest non-plan run (one `ix_run_tenant` probe each): no pass over the whole history."""
    later = aliased(Run)
    newest = (select(func.max(later.id)).where(later.tenant_id == Run.tenant_id, later.mode != RunMode.PLAN)
              .scalar_subquery())
    # `> 0` written out, not a bound parameter: only then may the planner use the partial index.
    return select(Run.tenant_id).where(Run.status == RunStatus.SUCCEEDED, col(Run.warnings) > literal_column('0'),
                                       Run.mode != RunMode.PLAN, Run.id == newest)


def tenant_counts_by_status(session: Session) -> dict[str, int]:
    """How many tenants are in each status (statuses without tenants are left out)."""
    rows = session.exec(select(Tenant.status, func.count()).group_by(Tenant.status)).all()
    return {status: count for status, count in rows}


def existing_names(session: Session, names: list[str], *, chunk: int = 500) -> set[str]:
    """The keys (storage/name_keys.py) of those of `names` that are taken."""
    wanted = sorted({name_key(name) for name in names})
    taken: set[str] = set()
    for start in range(0, len(wanted), chunk):
        part = wanted[start:start + chunk]
        taken.update(session.exec(select(Tenant.name_key).where(col(Tenant.name_key).in_(part))).all())
    return taken
