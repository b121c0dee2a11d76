"""Questions about tenants."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, func, or_, select

from storage.tables import Tenant


def tenant_by_name(session: Session, name: str) -> Tenant | None:
    """Case-insensitive: ERPNext (MariaDB) treats 'Acme' and 'acme' as the same Company."""
    return session.exec(select(Tenant).where(func.lower(col(Tenant.name)) == name.lower())).first()


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
        columns = (Tenant.name, Tenant.company_name, Tenant.admin_email)
        conditions.append(or_(*(col(column).icontains(q, autoescape=True) for column in columns)))
    return conditions


def tenant_counts_by_status(session: Session) -> dict[str, int]:
    """How many tenants are in each status (statuses without tenants are left out)."""
    rows = session.exec(select(Tenant.status, func.count()).group_by(Tenant.status)).all()
    return {status: count for status, count in rows}


def existing_names(session: Session, names: list[str], *, chunk: int = 500) -> set[str]:
    """Which of `names` are taken, lower-cased (names compare without regard to case, as in ERPNext)."""
    wanted = sorted({name.lower() for name in names})
    taken: set[str] = set()
    for start in range(0, len(wanted), chunk):
        part = wanted[start:start + chunk]
        lowered = func.lower(col(Tenant.name))
        taken.update(session.exec(select(lowered).where(lowered.in_(part))).all())
    return taken
