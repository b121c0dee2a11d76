"""Questions about tenants."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, func, or_, select

from storage.name_keys import name_key
from storage.tables import Tenant


def tenant_by_name(session: Session, name: str) -> Tenant | None:
    """The tenant called `name`, case and spacing aside (ERPNext treats 'Acme' and 'acme' as one
    Company): one look-up of the unique `name_key` index."""
    return session.exec(select(Tenant).where(Tenant.name_key == name_key(name))).first()


def tenants_page(session: Session, *, limit: int, offset: int, status: str | None = None,
                 q: str | None = None, engine_id: int | None = None,
                 drifted: bool | None = None) -> tuple[list[Tenant], int]:
    """Matching tenants newest first, and how many match in total."""
    conditions = _conditions(status=status, q=q, engine_id=engine_id, drifted=drifted)
    total = session.exec(select(func.count()).select_from(Tenant).where(*conditions)).one()
    query = select(Tenant).where(*conditions).order_by(col(Tenant.id).desc()).offset(offset).limit(limit)
    return list(session.exec(query)), total


def _conditions(*, status: str | None, q: str | None, engine_id: int | None,
                drifted: bool | None = None) -> list[Any]:
    conditions: list[Any] = []
    if drifted is not None:
        conditions.append(col(Tenant.drifted).is_(drifted))
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
