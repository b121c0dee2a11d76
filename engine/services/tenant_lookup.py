"""The one tenant look-up by id that every service uses, with the one 404 for an unknown id.

It is a module of its own because `tenants` imports `runs`, and `runs`, `deprovision` and
`tenant_view` need the look-up too.
"""

from __future__ import annotations

from sqlmodel import Session

from engine.validation import MAX_ID, NotFound
from storage.tables import Tenant


def tenant_in(session: Session, tenant_id: int) -> Tenant:
    """The tenant with this id, or NotFound. An id beyond what the database's integers hold is no
    tenant either (it would overflow the query: a 500 instead of a 404)."""
    tenant = session.get(Tenant, tenant_id) if 1 <= tenant_id <= MAX_ID else None
    if tenant is None:
        raise NotFound(f'There is no tenant with id {tenant_id}.')
    return tenant
