"""The tenant look-up that also locks the tenant's row until the transaction ends, so that an action's
checks and the write they allow are one step against the other actions on the tenant.

On PostgreSQL two transactions may otherwise both pass their checks: an edit finds no active run
while a run request, not yet committed, queues one on the engine the edit is moving away from. On
SQLite every transaction takes the write lock when it begins (storage/db.py), which already
serialises them, and SQLAlchemy leaves FOR UPDATE out of its SQL.

- An edit or a delete takes the row FOR UPDATE (`tenant_to_change`).
- A run request (provision, plan, deprovision, retry, a step action) takes it FOR KEY SHARE
  (`tenant_to_run`): it waits for an edit or a delete in progress and makes them wait, and two
  requests pass each other (the one-active-run index decides between them). It does not stop the
  runner setting the tenant's status as the tenant's previous run ends: the runner locks that run
  first, then updates the tenant, and a request holding FOR UPDATE whose new run waits on the one-
  active-run index for that very run would deadlock with it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from engine.services.tenant_lookup import tenant_in
from engine.validation import MAX_ID, NotFound
from storage.tables import Tenant


def tenant_to_change(session: Session, tenant_id: int) -> Tenant:
    """The tenant, locked against run requests, edits and deletes (NotFound for an unknown id)."""
    return _locked(session, tenant_id, {})


def tenant_to_run(session: Session, tenant_id: int) -> Tenant:
    """The tenant, locked against edits and deletes (NotFound for an unknown id, or one deleted
    while this waited)."""
    return _locked(session, tenant_id, {'read': True, 'key_share': True})  # FOR KEY SHARE


def lock_admin_user(session: Session, tenant: Tenant) -> None:
    """Until the transaction ends, make the other requests about the tenant's ERPNext admin user wait:
    tenants sharing it (same engine, same e-mail) lock only their own rows, so on PostgreSQL a
    provisioning request of one and a teardown request of another could both find no run of the other
    and both be queued (runs.refuse_while_admin_shared_with). A transaction-scoped advisory lock keyed
    by the engine and the e-mail; SQLite's write lock already serialises them."""
    if session.get_bind().dialect.name != 'postgresql':
        return
    session.execute(text('SELECT pg_advisory_xact_lock(:engine, hashtext(:email))'),
                    {'engine': tenant.engine_id, 'email': tenant.admin_email.strip().lower()})


def tenant_to_run_or_none(session: Session, tenant_id: int) -> Tenant | None:
    """`tenant_to_run`, or None when the tenant is gone (a job's look-up, not a user's request)."""
    try:
        return tenant_to_run(session, tenant_id)
    except NotFound:
        return None


def _locked(session: Session, tenant_id: int, lock: dict[str, Any]) -> Tenant:
    if 1 <= tenant_id <= MAX_ID:  # read afresh: what the lock waited for may have changed the row
        session.get(Tenant, tenant_id, with_for_update=lock or True, populate_existing=True)
    return tenant_in(session, tenant_id)  # from the session now, with the one NotFound
