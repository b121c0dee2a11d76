"""ERPNext engines: registration, edits, removal and health checks.

The API secret is encrypted with the process `SecretBox` before it reaches the database and is
write-only: nothing here returns it, and an update replaces it only when a new one is given.
Names follow the tenants' rule: trimmed, single-spaced, and one name whatever its case or spacing
(the unique key of storage/name_keys.py), so 'my  erp' is taken once 'My ERP' exists.

An engine can be deleted only while no tenant and no run refers to it (both hold a foreign key to
it; tenants are never deleted, so an engine that ever had a tenant stays): a mistyped engine goes,
and with it its open `engine_offline` alert and its health checks (they walk the engine table).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from engine import alerting
from engine.clients import EngineClients
from engine.erpnext.client import ERPNextClient
from engine.erpnext.errors import AuthError, ERPNextError
from engine.security import SecretBox, SecretKeyError
from engine.validation import MAX_ID, Conflict, EngineCreate, EngineUpdate, NotFound, url_refusal
from storage import audit_log
from storage.db import Database
from storage.name_keys import name_key
from storage.queries import engines as queries
from storage.tables import Engine, EngineHealth, Run, RunStatus, utcnow

SANDBOX_ENGINE = 'Sandbox'
SANDBOX_CREDENTIALS = ('sandbox', 'sandbox')
CHECK_TIMEOUT = 10.0


@dataclass(frozen=True)
class EngineCheck:
    """The outcome of one health check (also stored on the engine row)."""

    engine_id: int
    health: str
    checked_at: datetime
    user: str | None = None
    version: str | None = None
    error: str | None = None
    sent: bool = True  # False: nothing was asked of ERPNext (the engine's stored URL is refused)


def create_engine(db: Database, secrets: SecretBox, data: EngineCreate, *, actor: str) -> Engine:
    """Register an ERPNext site; Conflict when the name is taken."""
    engine = Engine(name=data.name, name_key=name_key(data.name), base_url=data.base_url,
                    api_key=data.api_key, api_secret_encrypted=secrets.encrypt(data.api_secret),
                    max_concurrent_runs=data.max_concurrent_runs,
                    requests_per_second=data.requests_per_second)
    with _name_race_is_conflict(db, data.name), db.session() as session:
        _refuse_taken_name(session, data.name)
        session.add(engine)
        session.flush()
        audit_log.record(session, actor=actor, action='engine.created',
                         details={'engine_id': engine.id, 'name': engine.name, 'base_url': engine.base_url})
    return engine


def update_engine(db: Database, secrets: SecretBox, engine_id: int, data: EngineUpdate, *,
                  actor: str) -> Engine:
    """Change the given fields; the secret only when a new one is sent."""
    encrypted = secrets.encrypt(data.api_secret) if data.api_secret is not None else None
    with _name_race_is_conflict(db, data.name or ''), db.session() as session:
        engine = _engine_or_404(session, engine_id)
        changes = _apply_changes(session, engine, data, encrypted)
        if changes:
            audit_log.record(session, actor=actor, action='engine.updated',
                             details={'engine_id': engine.id, 'name': engine.name, 'changes': changes})
    return engine


async def edit_engine(db: Database, secrets: SecretBox, engine_id: int, data: EngineUpdate, *, actor: str,
                      clients: EngineClients | None = None) -> Engine:
    """update_engine, then have this process's next run on the engine use the new settings (URL,
    credentials, request budget); other processes pick them up within SETTINGS_RECHECK_S."""
    engine = await asyncio.to_thread(update_engine, db, secrets, engine_id, data, actor=actor)
    if clients is not None:
        await clients.forget(engine_id)
    return engine


def remove_engine(db: Database, engine_id: int, *, actor: str) -> Engine:
    """Delete an engine no tenant or run refers to (Conflict otherwise), resolve its open alerts,
    audit it; returns the engine as it was."""
    name = f'#{engine_id}'
    try:
        with db.session() as session:
            engine = _engine_or_404(session, engine_id)
            name = engine.name
            _refuse_engine_in_use(session, engine)
            resolved = alerting.resolve_open(session, 'engine_offline', engine.name, utcnow())
            session.delete(engine)
            session.flush()  # the foreign keys speak now, inside the transaction
            audit_log.record(session, actor=actor, action='engine.deleted',
                             details={'engine_id': engine.id, 'name': engine.name, 'base_url': engine.base_url,
                                      'alerts_resolved': resolved})
    except IntegrityError:  # a tenant or run was added to it between the check and the delete
        raise Conflict(f"engine '{name}' is in use (a tenant was just added to it): "
                       'it cannot be deleted') from None
    return engine


async def delete_engine(db: Database, engine_id: int, *, actor: str,
                        clients: EngineClients | None = None) -> Engine:
    """remove_engine, then drop this process's client of it (its pool closes once idle)."""
    engine = await asyncio.to_thread(remove_engine, db, engine_id, actor=actor)
    if clients is not None:
        await clients.forget(engine_id)
    return engine


def list_engines(db: Database) -> list[Engine]:
    with db.session() as session:
        return queries.all_engines(session)


def get_engine(db: Database, engine_id: int) -> Engine:
    with db.session() as session:
        return _engine_or_404(session, engine_id)


def engine_by_ref(db: Database, ref: str) -> Engine | None:
    """The engine a person typed (`?engine=` on the tenants page: `ecole` finds 'École', or an id), in
    a session of its own; None for none."""
    if not ref.strip():
        return None
    with db.session() as session:
        return find_engine(session, ref)


def find_engine(session: Session, ref: int | str) -> Engine | None:
    """The engine an id or a name refers to (a digit string that is no name is tried as an id)."""
    if isinstance(ref, int):
        return session.get(Engine, ref) if 1 <= ref <= MAX_ID else None
    engine = queries.engine_by_name(session, ref.strip())
    if engine is None and ref.strip().isdecimal():
        return find_engine(session, int(ref.strip()))
    return engine


def engine_secret(secrets: SecretBox, engine: Engine) -> str:
    """The decrypted API secret, for code that talks to ERPNext (never for display)."""
    return secrets.decrypt(engine.api_secret_encrypted)


def ensure_sandbox_engine(db: Database, secrets: SecretBox, base_url: str) -> Engine:
    """Register the embedded sandbox as engine "Sandbox" (first start), or follow its new URL."""
    with db.session() as session:
        engine = queries.engine_by_name(session, SANDBOX_ENGINE)
        if engine is not None and engine.base_url != base_url.rstrip('/'):
            audit_log.record(session, actor=audit_log.SYSTEM_ACTOR, action='engine.updated',
                             details={'engine_id': engine.id, 'name': engine.name,
                                      'changes': {'base_url': [engine.base_url, base_url.rstrip('/')]}})
            engine.base_url = base_url.rstrip('/')
    if engine is not None:
        return engine
    key, secret = SANDBOX_CREDENTIALS
    data = EngineCreate(name=SANDBOX_ENGINE, base_url=base_url, api_key=key, api_secret=secret)
    try:
        return create_engine(db, secrets, data, actor=audit_log.SYSTEM_ACTOR)
    except Conflict:  # a sibling process registered it a moment ago
        with db.session() as session:
            return queries.engine_by_name(session, SANDBOX_ENGINE)


async def check_engine(db: Database, secrets: SecretBox, engine_id: int, *,
                       transport: httpx.AsyncBaseTransport | None = None, timeout: float = CHECK_TIMEOUT,
                       actor: str | None = None) -> EngineCheck:
    """Ask ERPNext whether it is reachable and accepts the key; store and return the health.

    `actor` is given for checks a person asked for (audited); periodic checks leave it out.
    `transport` stays the caller's (the app shares one between checks): the check never closes it.
    """
    engine = await asyncio.to_thread(get_engine, db, engine_id)
    refusal = url_refusal(engine.base_url)
    if refusal is not None:  # saved before such URLs were refused: no request is sent there
        result = EngineCheck(engine.id, EngineHealth.OFFLINE, utcnow(), error=_refused_url_error(refusal), sent=False)
    else:
        result = await _probe(engine, secrets, transport, timeout)
    await asyncio.to_thread(_save_check, db, result, actor)
    return result


def waiting_for_engine(session: Session, run: Run) -> dict[str, Any] | None:
    """Why a QUEUED run is not started: its engine's last health check found it offline, and the
    dispatcher holds an offline engine's runs (an outage fails no run). None when it does not wait
    for its engine. See `engine_wait` for the shape."""
    if run.status != RunStatus.QUEUED:
        return None
    engine = session.get(Engine, run.engine_id)
    return engine_wait(engine) if engine is not None and engine.health == EngineHealth.OFFLINE else None


def engine_wait(engine: Engine) -> dict[str, Any]:
    """`engine` (offline) as the reason a run waits: its name and id, since when it is seen offline
    (its last check), that check's error (`last_error`: sanitised, it names the API key but never
    the secret) and a sentence for the operator."""
    return {'engine': engine.name, 'engine_id': engine.id, 'since': engine.last_checked_at,
            'reason': engine.last_error, 'message': waiting_message(engine.name, engine.last_error)}


def waiting_message(engine_name: str, reason: str | None, *, admin: bool = True) -> str:
    """Why the run waits and what to do: an admin fixes the engine on Engines; anyone else (who cannot
    open that page) is told to ask an admin, in the words of the offline-engine alert."""
    why = f': {reason.rstrip(". ")}' if reason else ''
    action = 'Fix it on Engines' if admin else 'Ask an admin to fix it (on Engines, a page for admins)'
    return (f"Waiting: engine '{engine_name}' is offline{why}. {action}; the run starts by itself once the engine "
            'answers.')


# ---- helpers -----------------------------------------------------------------------------------

async def _probe(engine: Engine, secrets: SecretBox, transport: httpx.AsyncBaseTransport | None,
                 timeout: float) -> EngineCheck:
    try:
        api_secret = engine_secret(secrets, engine)
    except SecretKeyError as exc:
        return EngineCheck(engine.id, EngineHealth.OFFLINE, utcnow(), error=str(exc))
    try:
        async with ERPNextClient(engine.base_url, engine.api_key, api_secret, timeout=timeout,
                                 transport=transport) as client:
            await client.ping()
            user = await client.logged_user()
            version = _version_text(await client.versions())
    except ERPNextError as exc:
        return EngineCheck(engine.id, EngineHealth.OFFLINE, utcnow(), error=_check_error(engine, exc)[:2000])
    return EngineCheck(engine.id, EngineHealth.ONLINE, utcnow(), user=user, version=version)


def _check_error(engine: Engine, exc: ERPNextError) -> str:
    """What the operator reads on /engines: for a refused key, what to do about it."""
    if isinstance(exc, AuthError) and (exc.status == 401 or 'AuthenticationError' in (exc.exc_type or '')):
        return (f"ERPNext at {engine.base_url} refused the API key '{engine.api_key}' and its secret "
                f'({exc.message}): check both on the engine (ERPNext: User → API Access → Generate Keys) '
                'and that the API user is enabled')
    if isinstance(exc, AuthError):
        return (f"ERPNext at {engine.base_url} accepted the API key '{engine.api_key}' but its user may not "
                f'do this ({exc.message}): give the API user the System Manager role')
    return exc.message


def _refused_url_error(refusal: str) -> str:
    """The check's message for a stored URL Provisioner refuses (the URL itself is not repeated: one
    saved with a user name and password in it would show them)."""
    return (f"Provisioner refuses this engine's URL, so no request was sent to it: the URL {refusal}. "
            "Change it in the engine's settings (Engines → Edit) to the address of the ERPNext site.")


def _version_text(versions: dict[str, Any]) -> str | None:
    """'erpnext 15.2.0, frappe 15.1.0' from get_versions' answer."""
    parts = [f'{app} {info["version"]}' for app, info in sorted(versions.items())
             if isinstance(info, dict) and info.get('version')]
    return ', '.join(parts)[:255] or None


def _save_check(db: Database, result: EngineCheck, actor: str | None) -> None:
    with db.session() as session:
        engine = session.get(Engine, result.engine_id)
        if engine is None:  # deleted while it was being checked: nothing to record
            return
        engine.health, engine.last_checked_at = result.health, result.checked_at
        engine.last_error = result.error
        if result.version:
            engine.version = result.version
        if actor is not None:
            audit_log.record(session, actor=actor, action='engine.checked',
                             details={'engine_id': engine.id, 'health': result.health, 'error': result.error})


def _engine_or_404(session: Session, engine_id: int) -> Engine:
    engine = session.get(Engine, engine_id) if 1 <= engine_id <= MAX_ID else None
    if engine is None:
        raise NotFound(f'no engine with id {engine_id}')
    return engine


def _refuse_engine_in_use(session: Session, engine: Engine) -> None:
    tenants, runs = queries.engine_usage(session, engine.id)
    if tenants or runs:
        used_by = f'{tenants} tenant{"" if tenants == 1 else "s"}' if tenants else \
            f'{runs} run{"" if runs == 1 else "s"}'
        raise Conflict(f"engine '{engine.name}' is used by {used_by}: only an engine no tenant uses can be "
                       'deleted (edit its URL or credentials instead)')


def _refuse_taken_name(session: Session, name: str, *, own_id: int | None = None) -> None:
    other = queries.engine_by_name(session, name)
    if other is not None and other.id != own_id:
        raise _name_taken(other.name)


def _name_taken(name: str) -> Conflict:
    return Conflict(f"an engine named '{name}' already exists")


def _apply_changes(session: Session, engine: Engine, data: EngineUpdate,
                   encrypted: str | None) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if data.name is not None and data.name != engine.name:
        _refuse_taken_name(session, data.name, own_id=engine.id)
        engine.name_key = name_key(data.name)
    for field in ('name', 'base_url', 'api_key', 'max_concurrent_runs', 'requests_per_second'):
        value = getattr(data, field)
        if value is not None and value != getattr(engine, field):
            changes[field] = [getattr(engine, field), value]
            setattr(engine, field, value)
    if encrypted is not None:
        engine.api_secret_encrypted = encrypted
        changes['api_secret'] = 'changed'  # never the secret itself
    return changes


@contextmanager
def _name_race_is_conflict(db: Database, name: str) -> Iterator[None]:
    """Two writes of one name (case and spacing aside) at once: the loser's unique-key error, its
    session rolled back, becomes the Conflict the check gives, naming the winner as stored."""
    try:
        yield
    except IntegrityError:
        with db.session() as session:
            winner = queries.engine_by_name(session, name) if name else None
        raise _name_taken(winner.name if winner else name) from None
