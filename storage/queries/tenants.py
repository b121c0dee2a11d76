"""Questions about tenants."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, func, or_, select

from storage.tables import Tenant


def tenant_by_name(session: Session, name: str) -> Tenant | None:
    """Case-insensitive: ERPNext (MariaDB) treats 'Acme' and 'acme' as the same Company."""
    return session.exec(select(Tenant).where(func.lower(col(Tenant.name)) == name.lower())).first()


def tenants_page(session: Session, *, limit: int, offset: int, status: str | None = None,
                 q: str | None = None, engine_id: int | None = None) -> tuple[list[Tenant], int]:
    """Matching tenants newest first, and how many match in total."""
    conditions = _conditions(status=status, q=q, engine_id=engine_id)
    total = session.exec(select(func.count()).select_from(Tenant).where(*conditions)).one()
    query = select(Tenant).where(*conditions).order_by(col(Tenant.id).desc()).offset(offset).limit(limit)
    return list(session.exec(query)), total


def _conditions(*, status: str | None, q: str | None, engine_id: int | None) -> list[Any]:
    conditions: list[Any] = []
    if status:
        conditions.append(Tenant.status == status)
    if engine_id is not None:
        conditions.append(Tenant.engine_id == engine_id)
    if q:
        columns = (Tenant.name, Tenant.company_name, Tenant.admin_email)
        conditions.append(or_(*(col(column).icontains(q, autoescape=True) for column in columns)))
    return conditions
