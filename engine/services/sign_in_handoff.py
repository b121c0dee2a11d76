"""The dashboard's sign-in in two steps, so that no token exists before the browser comes to take it.

The login form checks the password on the page's websocket, which cannot set a cookie; the browser
then posts a one-time code to an HTTP endpoint, whose answer can. `users.sign_in` (the REST token
endpoint) does both at once; here they are split in time, with the same limiter, the same failure
audits and, at the end, the same one `auth.login` event naming the token:

- `check_password`: the per-address attempt limit, the locks and the password (AuthenticationFailed,
  AccountLocked, TooManyAttempts, each failure audited as `users.sign_in` does); writes no token;
- `open_session`: the token, once the code checked out; None when the user has meanwhile been
  deactivated or locked (or is gone), and then nothing is written.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from engine import security
from engine.rate_limits import LoginLimiter
from engine.services import users
from storage.db import Database
from storage.queries import users as queries
from storage.tables import ApiToken, User, utcnow


def check_password(db: Database, limiter: LoginLimiter, username: str, password: str, *,
                   client: str | None, now: datetime | None = None) -> User:
    """The active user these credentials belong to, under the limits and locks of `users.sign_in`."""
    wait = limiter.attempt(client)
    if wait is not None:
        raise users.TooManyAttempts(wait)
    # NOTE: users.py's own helpers, so that both sign-ins check, count and audit alike.
    user = users._checked_user(db, limiter, username, password, client=client, now=now or utcnow())
    users._rehash_if_stale(db, user, password)
    return user


def open_session(db: Database, user_id: int, *, client: str | None, token_name: str, ttl: timedelta,
                 now: datetime | None = None) -> str | None:
    """A new token for the user, with the sign-in's `auth.login` event; None (nothing written) when
    the user no longer exists, is inactive or is locked."""
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
        users._record_success(session, user.id, client,
                              {'token_id': row.id, 'token_name': row.name, 'expires_at': expires_at})
    return token
