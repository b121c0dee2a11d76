"""Users, sign-ins and API tokens.

Sign-ins (the REST token endpoint and the UI login page both call `sign_in`) are throttled so that
nobody can lock another person out and nobody can tell which usernames exist:

- five wrong passwords for a username from one client address lock that username *for that
  address* for five minutes (engine/rate_limits.py); the right password from elsewhere still works;
- 50 wrong passwords for a username within 15 minutes, from any addresses, lock it for five minutes
  everywhere: a brake on guessing spread over many addresses. For existing users this lock is also
  written to the database (`locked_until`), where an admin's password reset or re-activation lifts it;
- unknown, inactive and existing usernames get the same answers in the same order, at the same
  counts, and cost the same argon2 time.

Password hashing and verification happen outside database transactions (they are slow); the outcome
is then written in one short transaction, together with its one audit event.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy.exc import IntegrityError

from engine import security
from engine.rate_limits import LoginLimiter, seconds_text
from engine.validation import USERNAME_PATTERN, Conflict, NotFound, ServiceError, UserCreate, UserUpdate
from storage import audit_log
from storage.db import Database
from storage.queries import users as queries
from storage.tables import ApiToken, Role, User, utcnow

if TYPE_CHECKING:
    from sqlmodel import Session

    from engine.settings import Settings

ADMIN_USERNAME = 'admin'
TOKEN_TTL = timedelta(hours=12)
LAST_USED_RESOLUTION = timedelta(minutes=1)  # write last_used_at at most once a minute per token
MAX_TOKEN_LENGTH = 512


class AuthenticationFailed(ServiceError):
    """Wrong username or password, or an inactive account: deliberately one generic message."""

    def __init__(self) -> None:
        super().__init__('incorrect username or password')


class AccountLocked(ServiceError):
    """Too many failed logins: the username takes no password (from this address) until the lock ends."""

    def __init__(self, retry_after_seconds: int, message: str = 'too many failed logins') -> None:
        super().__init__(f'{message}: try again in {seconds_text(retry_after_seconds)}')
        self.retry_after_seconds = retry_after_seconds


class TooManyAttempts(AccountLocked):
    """Too many sign-in attempts from one client address, whatever the usernames."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(retry_after_seconds, 'too many login attempts')


class SignIn(NamedTuple):
    user: User
    token: str


def ensure_admin(db: Database, settings: Settings) -> str | None:
    """On first start (no users), create `admin`; returns the password only if it was generated."""
    with db.session() as session:
        if queries.count_users(session) > 0:
            return None
    given = settings.admin_password.get_secret_value() if settings.admin_password else None
    password = given or security.generate_password()
    try:
        _insert_user(db, ADMIN_USERNAME, password, Role.ADMIN, actor=audit_log.SYSTEM_ACTOR)
    except Conflict:
        return None  # a sibling process created it a moment ago
    return None if given else password


def sign_in(db: Database, limiter: LoginLimiter, username: str, password: str, *, client: str | None,
            token_name: str = 'login', ttl: timedelta = TOKEN_TTL, now: datetime | None = None) -> SignIn:
    """Check the credentials (AuthenticationFailed, AccountLocked, TooManyAttempts) and issue a token.

    One audit event per attempt: `auth.login` (with the token's id, name and expiry) or
    `auth.login_failed` (with the reason). Attempts refused for the client's attempt rate are not
    audited: they check nothing and would only flood the log. The dashboard does the same in two
    steps, apart in time: `check_password` on its login form, `open_session` when the browser comes
    to take its token (dashboard/session.py), so that no token exists before then.
    """
    now = now or utcnow()
    user = check_password(db, limiter, username, password, client=client, now=now)
    signed_in = open_session(db, user.id, client=client, token_name=token_name, ttl=ttl, now=now)
    if signed_in is None:  # deactivated or locked by an admin in the milliseconds between the two
        raise AuthenticationFailed()
    return signed_in


def check_password(db: Database, limiter: LoginLimiter, username: str, password: str, *,
                   client: str | None, now: datetime | None = None) -> User:
    """The active user these credentials belong to, under the per-address attempt limit and the
    locks (AuthenticationFailed, AccountLocked, TooManyAttempts, each failure audited); no token."""
    wait = limiter.attempt(client)
    if wait is not None:
        raise TooManyAttempts(wait)
    user = _checked_user(db, limiter, username, password, client=client, now=now or utcnow())
    _rehash_if_stale(db, user, password)
    return user


def open_session(db: Database, user_id: int, *, client: str | None, token_name: str, ttl: timedelta,
                 now: datetime | None = None) -> SignIn | None:
    """A new token for the user whose password `check_password` accepted, with the sign-in's
    `auth.login` event; None (nothing written) when the user is meanwhile gone, inactive or locked."""
    now = now or utcnow()
    token, digest = security.new_token()
    expires_at = now + ttl
    with db.session() as session:
        user = queries.user_for_update(session, user_id)
        if user is None or not user.active or (user.locked_until is not None and user.locked_until > now):
            return None
        row = ApiToken(user_id=user.id, token_hash=digest, name=token_name[:64], expires_at=expires_at)
        session.add(row)
        session.flush()
        user = _record_success(session, user.id, client,
                               {'token_id': row.id, 'token_name': row.name, 'expires_at': expires_at})
    return SignIn(user, token)


def authenticate(db: Database, username: str, password: str, *, client: str | None = None,
                 limiter: LoginLimiter | None = None, now: datetime | None = None) -> User:
    """The user these credentials belong to, under the same locks as `sign_in`, without a token."""
    now = now or utcnow()
    user = _checked_user(db, limiter or LoginLimiter(), username, password, client=client, now=now)
    with db.session() as session:
        user = _record_success(session, user.id, client, {})
    _rehash_if_stale(db, user, password)
    return user


def issue_token(db: Database, user: User, *, name: str = 'api', ttl: timedelta = TOKEN_TTL,
                client: str | None = None) -> str:
    """A new bearer token for `user`; only its digest is stored, so this is the one chance to read it.
    No caller in the app (`sign_in` issues the API's tokens): a helper for tests and operators' scripts."""
    token, digest = security.new_token()
    expires_at = utcnow() + ttl
    with db.session() as session:
        row = ApiToken(user_id=user.id, token_hash=digest, name=name[:64], expires_at=expires_at)
        session.add(row)
        session.flush()
        audit_log.record(session, actor=user.username, action='auth.token_issued',
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
        audit_log.record(session, actor=actor, action='auth.logout', details={'token_id': row.id})
    return True


def create_user(db: Database, data: UserCreate, *, actor: str) -> User:
    """A new user; Conflict when the username is taken."""
    return _insert_user(db, data.username, data.password, data.role, actor=actor)


def update_user(db: Database, user_id: int, data: UserUpdate, *, actor: str,
                limiter: LoginLimiter | None = None) -> User:
    """Change role, active flag and/or password; never leaves the system without an active admin.
    A new password or a re-activation lifts the user's sign-in locks: the stored one, and `limiter`'s
    (this process's per-address and spread locks)."""
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
        audit_log.record(session, actor=actor, action='user.updated',
                         details={'user_id': user.id, 'username': user.username, 'changes': changes})
    if limiter is not None and (new_hash or data.active):
        limiter.release(user.username)
    return user


def list_users(db: Database) -> list[User]:
    with db.session() as session:
        return queries.all_users(session)


# ---- helpers -----------------------------------------------------------------------------------

def _checked_user(db: Database, limiter: LoginLimiter, username: str, password: str, *,
                  client: str | None, now: datetime) -> User:
    """The active user whose password this is; every failure is audited (and counted when a
    password was checked). Unknown names take exactly the same path, with a dummy verification."""
    name = username.strip().lower()
    user = _login_candidate(db, name)
    actor = user.username if user is not None else _actor_name(name)
    wait = _account_lock(limiter, name, user, now) or limiter.begin(name, client)
    if wait is not None:
        _record_failure(db, None, actor, client, now, reason='locked', details={'retry_after_seconds': wait})
        raise AccountLocked(wait)
    if user is None:
        security.spend_dummy_verify(password)
        matches = False
    else:
        matches = security.verify_password(user.password_hash, password)
    if matches and user is not None and user.active:
        limiter.succeeded(name, client)
        return user
    reason = 'unknown_user' if user is None else 'inactive' if matches else 'bad_password'
    locked_for = limiter.failed(name)
    details = {'account_locked_seconds': locked_for} if locked_for is not None else {}
    _record_failure(db, user.id if user is not None else None, actor, client, now, reason=reason,
                    details=details, lock_for=locked_for)
    raise AuthenticationFailed()


def _account_lock(limiter: LoginLimiter, name: str, user: User | None, now: datetime) -> int | None:
    """Seconds left of the lock for failures from many addresses: kept in the database for an
    existing user (so an admin's password reset or re-activation lifts it), in memory for other names;
    both are set by the same failure, so they answer alike."""
    if user is None:
        return limiter.account_locked(name)
    if user.locked_until is not None and user.locked_until > now:
        return max(1, math.ceil((user.locked_until - now).total_seconds()))
    return None


def _login_candidate(db: Database, name: str) -> User | None:
    if not USERNAME_PATTERN.fullmatch(name):
        return None  # never send odd text (NUL bytes, surrogates) to the database
    with db.session() as session:
        return queries.user_by_username(session, name)


def _actor_name(name: str) -> str:
    return name if USERNAME_PATTERN.fullmatch(name) else '(invalid username)'


def _record_success(session: Session, user_id: int, client: str | None, details: dict[str, Any]) -> User:
    user = queries.user_for_update(session, user_id)
    assert user is not None, 'a user that just logged in cannot vanish: users are never deleted'
    user.failed_logins, user.locked_until = 0, None
    audit_log.record(session, actor=user.username, action='auth.login', details={'client': client, **details})
    return user


def _rehash_if_stale(db: Database, user: User, password: str) -> None:
    if not security.needs_rehash(user.password_hash):
        return
    new_hash = security.hash_password(password)
    with db.session() as session:
        row = queries.user_for_update(session, user.id)
        if row is not None and security.verify_password(row.password_hash, password):
            row.password_hash = new_hash


def _record_failure(db: Database, user_id: int | None, actor: str, client: str | None, now: datetime,
                    *, reason: str, details: dict[str, Any], lock_for: int | None = None) -> None:
    """Audit the failed attempt; on an existing user also count it and keep the account lock."""
    with db.session() as session:
        user = queries.user_for_update(session, user_id) if user_id is not None else None
        if user is not None:
            user.failed_logins += 1
            if lock_for is not None:
                user.failed_logins, user.locked_until = 0, now + timedelta(seconds=lock_for)
        audit_log.record(session, actor=actor, action='auth.login_failed',
                         details={'reason': reason, 'client': client, **details})


def _insert_user(db: Database, name: str, password: str, role: Role | str, *, actor: str) -> User:
    password_hash = security.hash_password(password)
    try:
        with db.session() as session:
            if queries.user_by_username(session, name) is not None:
                raise Conflict(f"a user named '{name}' already exists")
            user = User(username=name, password_hash=password_hash, role=Role(role).value)
            session.add(user)
            session.flush()
            audit_log.record(session, actor=actor, action='user.created',
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
        # An admin's password reset or re-activation lifts a lockout, audited as [before, after] like the
        # other changes: 'locked_until: 2026-12-01 23:50:00 UTC → not locked', 'failed_logins: 3 → 0'.
        if user.locked_until:
            changes['locked_until'] = [user.locked_until.isoformat(), 'not locked']
        if user.failed_logins:
            changes['failed_logins'] = [user.failed_logins, 0]
        user.failed_logins, user.locked_until = 0, None
    return changes


def _ensure_an_admin_remains(session: Session, user: User) -> None:
    session.flush()
    if queries.count_active_admins(session) == 0:
        raise Conflict(f"'{user.username}' is the last active admin: make another user admin first")


def _revoke_all_tokens(session: Session, user_id: int) -> None:
    for token in queries.live_tokens_of(session, user_id):
        token.revoked = True
