"""Users, logins and API tokens.

Logins: five wrong passwords in a row lock an account for five minutes (`AccountLocked`);
unknown and inactive users get the same generic `AuthenticationFailed` and cost the same argon2
time. Password hashing and verification happen outside database transactions (they are slow);
the outcome is then written in one short transaction, together with its audit event.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from engine import security
from engine.services import audit
from engine.validation import USERNAME_PATTERN, Conflict, NotFound, ServiceError, UserCreate, UserUpdate
from storage.db import Database
from storage.queries import users as queries
from storage.tables import ApiToken, Role, User, utcnow

if TYPE_CHECKING:
    from sqlmodel import Session

    from engine.settings import Settings

ADMIN_USERNAME = 'admin'
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=5)
TOKEN_TTL = timedelta(hours=12)
LAST_USED_RESOLUTION = timedelta(minutes=1)  # write last_used_at at most once a minute per token
MAX_TOKEN_LENGTH = 512


class AuthenticationFailed(ServiceError):
    """Wrong username or password, or an inactive account: deliberately one generic message."""

    def __init__(self) -> None:
        super().__init__('incorrect username or password')


class AccountLocked(ServiceError):
    """Too many failed logins: the account accepts no password until the lock expires."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f'too many failed logins: try again in {retry_after_seconds} seconds')
        self.retry_after_seconds = retry_after_seconds


def ensure_admin(db: Database, settings: Settings) -> str | None:
    """On first start (no users), create `admin`; returns the password only if it was generated."""
    with db.session() as session:
        if queries.count_users(session) > 0:
            return None
    given = settings.admin_password.get_secret_value() if settings.admin_password else None
    password = given or security.generate_password()
    try:
        _insert_user(db, ADMIN_USERNAME, password, Role.ADMIN, actor=audit.SYSTEM_ACTOR)
    except Conflict:
        return None  # a sibling process created it a moment ago
    return None if given else password


def authenticate(db: Database, username: str, password: str, *, client: str | None = None,
                 now: datetime | None = None) -> User:
    """The user these credentials belong to, or AuthenticationFailed / AccountLocked."""
    now = now or utcnow()
    name = username.strip().lower()
    user = _login_candidate(db, name)
    if user is None:
        security.spend_dummy_verify(password)
        _record_failure(db, None, _actor_name(name), client, now, reason='unknown_user')
        raise AuthenticationFailed()
    if user.locked_until is not None and user.locked_until > now:
        _record_failure(db, None, user.username, client, now, reason='locked')
        raise AccountLocked(math.ceil((user.locked_until - now).total_seconds()))
    matches = security.verify_password(user.password_hash, password)
    if matches and user.active:
        return _record_success(db, user.id, password, client, now)
    reason = 'inactive' if not user.active else 'bad_password'
    counted_user = user.id if reason == 'bad_password' else None  # an inactive account is not locked
    _record_failure(db, counted_user, user.username, client, now, reason=reason)
    raise AuthenticationFailed()


def issue_token(db: Database, user: User, *, name: str = 'api', ttl: timedelta = TOKEN_TTL,
                client: str | None = None) -> str:
    """A new bearer token for `user`; only its digest is stored, so this is the one chance to read it."""
    token, digest = security.new_token()
    expires_at = utcnow() + ttl
    with db.session() as session:
        row = ApiToken(user_id=user.id, token_hash=digest, name=name[:64], expires_at=expires_at)
        session.add(row)
        session.flush()
        audit.record(session, actor=user.username, action='auth.token_issued',
                     details={'token_id': row.id, 'name': row.name, 'expires_at': expires_at,
                              'client': client})
    return token


def user_for_token(db: Database, token: str, *, now: datetime | None = None) -> User | None:
    """The active user behind a live token, or None (unknown, revoked, expired, user inactive)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    now = now or utcnow()
    with db.session() as session:
        row = queries.token_by_hash(session, security.hash_token(token))
        if row is None or row.revoked or (row.expires_at is not None and row.expires_at <= now):
            return None
        user = session.get(User, row.user_id)
        if user is None or not user.active:
            return None
        if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
            row.last_used_at = now
        return user


def revoke_token(db: Database, token: str, *, actor: str) -> bool:
    """Log out: the token stops working at once. False when it was not live."""
    with db.session() as session:
        row = queries.token_by_hash(session, security.hash_token(token))
        if row is None or row.revoked:
            return False
        row.revoked = True
        audit.record(session, actor=actor, action='auth.logout', details={'token_id': row.id})
    return True


def create_user(db: Database, data: UserCreate, *, actor: str) -> User:
    """A new user; Conflict when the username is taken."""
    return _insert_user(db, data.username, data.password, data.role, actor=actor)


def update_user(db: Database, user_id: int, data: UserUpdate, *, actor: str) -> User:
    """Change role, active flag and/or password; never leaves the system without an active admin."""
    new_hash = security.hash_password(data.password) if data.password else None
    with db.session() as session:
        user = queries.user_for_update(session, user_id)
        if user is None:
            raise NotFound(f'no user with id {user_id}')
        changes = _apply_changes(user, data, new_hash)
        if not changes:
            return user
        _ensure_an_admin_remains(session, user)
        if new_hash or data.active is False:
            _revoke_all_tokens(session, user.id)
        audit.record(session, actor=actor, action='user.updated',
                     details={'user_id': user.id, 'username': user.username, 'changes': changes})
    return user


def list_users(db: Database) -> list[User]:
    with db.session() as session:
        return queries.all_users(session)


def get_user(db: Database, user_id: int) -> User:
    with db.session() as session:
        user = session.get(User, user_id)
    if user is None:
        raise NotFound(f'no user with id {user_id}')
    return user


# ---- helpers -----------------------------------------------------------------------------------

def _login_candidate(db: Database, name: str) -> User | None:
    if not USERNAME_PATTERN.fullmatch(name):
        return None  # never send odd text (NUL bytes, surrogates) to the database
    with db.session() as session:
        return queries.user_by_username(session, name)


def _actor_name(name: str) -> str:
    return name if USERNAME_PATTERN.fullmatch(name) else '(invalid username)'


def _record_success(db: Database, user_id: int, password: str, client: str | None, now: datetime) -> User:
    with db.session() as session:
        user = queries.user_for_update(session, user_id)
        assert user is not None, 'a user that just logged in cannot vanish: users are never deleted'
        stale_hash = security.needs_rehash(user.password_hash)
        user.failed_logins, user.locked_until = 0, None
        audit.record(session, actor=user.username, action='auth.login', details={'client': client})
    if stale_hash:
        _rehash(db, user_id, password)
    return user


def _rehash(db: Database, user_id: int, password: str) -> None:
    new_hash = security.hash_password(password)
    with db.session() as session:
        user = queries.user_for_update(session, user_id)
        if user is not None and security.verify_password(user.password_hash, password):
            user.password_hash = new_hash


def _record_failure(db: Database, user_id: int | None, actor: str, client: str | None, now: datetime,
                    *, reason: str) -> None:
    """Audit the failed attempt; for a wrong password also count it, locking at the limit."""
    with db.session() as session:
        details: dict[str, Any] = {'reason': reason, 'client': client}
        user = queries.user_for_update(session, user_id) if user_id is not None else None
        if user is not None:
            details.update(_count_failure(user, now))
        audit.record(session, actor=actor, action='auth.login_failed', details=details)


def _count_failure(user: User, now: datetime) -> dict[str, Any]:
    user.failed_logins += 1
    if user.failed_logins < MAX_FAILED_LOGINS:
        return {'failed_logins': user.failed_logins}
    user.failed_logins, user.locked_until = 0, now + LOCKOUT
    return {'failed_logins': MAX_FAILED_LOGINS, 'locked_until': user.locked_until}


def _insert_user(db: Database, name: str, password: str, role: Role | str, *, actor: str) -> User:
    password_hash = security.hash_password(password)
    try:
        with db.session() as session:
            if queries.user_by_username(session, name) is not None:
                raise Conflict(f"a user named '{name}' already exists")
            user = User(username=name, password_hash=password_hash, role=Role(role).value)
            session.add(user)
            session.flush()
            audit.record(session, actor=actor, action='user.created',
                         details={'user_id': user.id, 'username': name, 'role': user.role})
    except IntegrityError:
        raise Conflict(f"a user named '{name}' already exists") from None
    return user


def _apply_changes(user: User, data: UserUpdate, new_hash: str | None) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if data.role is not None and data.role.value != user.role:
        changes['role'] = [user.role, data.role.value]
        user.role = data.role.value
    if data.active is not None and data.active != user.active:
        changes['active'] = [user.active, data.active]
        user.active = data.active
    if new_hash is not None:
        changes['password'] = 'changed'  # never the password or its hash
        user.password_hash = new_hash
    if (new_hash is not None or data.active) and (user.locked_until or user.failed_logins):
        changes['unlocked'] = True  # an admin's password reset or re-activation lifts a lockout
        user.failed_logins, user.locked_until = 0, None
    return changes


def _ensure_an_admin_remains(session: Session, user: User) -> None:
    session.flush()
    if queries.count_active_admins(session) == 0:
        raise Conflict(f"'{user.username}' is the last active admin: make another user admin first")


def _revoke_all_tokens(session: Session, user_id: int) -> None:
    for token in queries.live_tokens_of(session, user_id):
        token.revoked = True
