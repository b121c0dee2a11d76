"""Inbound rate limits (the `limits` library, moving windows kept in this process's memory).

- sign-in attempts per client address (whatever the usernames): `LOGIN_PER_CLIENT`;
- wrong passwords per (username, client address): `FAILED_LOGINS_PER_CLIENT`. Five in five minutes
  lock that username *for that address only*, so nobody can lock another person out from elsewhere;
- wrong passwords per username from any address: `ACCOUNT_FAILURES`. Reaching it locks the name for
  `ACCOUNT_LOCKOUT` everywhere: a brake on guessing spread over many addresses;
- provision requests per user.

Every rule is keyed on the username as typed (trimmed, lower-cased), whether or not such a user
exists, so unknown names are throttled exactly like known ones. The REST API answers 429 with
`Retry-After`; the UI shows the wait politely. Both ask the same limiter objects, which the Process
owns (`process.login_limiter`, `process.provision_limiter`). Limits are per process: with several
processes behind a balancer each keeps its own count (the account lock is also kept in the database
for existing users, see engine/services/users.py).
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

LOGIN_PER_CLIENT = '30/minute'
FAILED_LOGINS_PER_CLIENT = '5/5 minutes'
ACCOUNT_FAILURES = '50/15 minutes'
ACCOUNT_LOCKOUT = '1/5 minutes'  # one marker, alive for five minutes
PROVISION_PER_USER = '30/minute'


class RateLimit:
    """Named rules over one moving-window limiter; `hit` counts only when every rule allows it."""

    def __init__(self, namespace: str, **rules: str) -> None:
        self.namespace = namespace
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._rules: dict[str, RateLimitItem] = {kind: parse(rule) for kind, rule in rules.items()}

    def hit(self, **keys: str) -> int | None:
        """Count one request under each rule's key; None when allowed, else the seconds to wait."""
        for kind, rule in self._rules.items():
            if not self._limiter.test(rule, self.namespace, kind, keys[kind]):
                return self._retry_after(rule, kind, keys[kind])
        for kind, rule in self._rules.items():
            self._limiter.hit(rule, self.namespace, kind, keys[kind])
        return None

    def _retry_after(self, rule: RateLimitItem, kind: str, key: str) -> int:
        reset_time = self._limiter.get_window_stats(rule, self.namespace, kind, key).reset_time
        return max(1, math.ceil(reset_time - time.time()))


class LoginLimiter:
    """Sign-in throttling; `begin` before checking a password, then `succeeded` or `failed`."""

    def __init__(self, per_client: str = LOGIN_PER_CLIENT,
                 failures_per_client: str = FAILED_LOGINS_PER_CLIENT,
                 account_failures: str = ACCOUNT_FAILURES, account_lockout: str = ACCOUNT_LOCKOUT) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._attempts = parse(per_client)
        self._pair_failures = parse(failures_per_client)
        self._account_failures = parse(account_failures)
        self._account_lock = parse(account_lockout)
        # A name's per-address counters are keyed by its generation too: `release` starts a new one,
        # which lifts the name's locks from every address at once (the storage cannot list keys).
        self._generation: dict[str, int] = {}

    def attempt(self, client: str | None) -> int | None:
        """Count one attempt from `client`; None when allowed, else the seconds to wait."""
        return self._hit(self._attempts, 'client', _client(client))

    def account_locked(self, username: str) -> int | None:
        """The seconds left of the name's lock for `ACCOUNT_FAILURES`, or None."""
        name = _name(username)
        if self._limiter.test(self._account_lock, 'login', 'locked', name):
            return None
        return self._wait(self._account_lock, 'locked', name)

    def begin(self, username: str, client: str | None) -> int | None:
        """None when this name may try a password from `client` now (the try is counted as a failure
        until `succeeded` says otherwise, so parallel tries cannot slip past); else the seconds to wait."""
        return self._hit(self._pair_failures, 'pair', *self._pair(username, client))

    def succeeded(self, username: str, client: str | None) -> None:
        """The right password: forget this name's failures from this address and its spread count."""
        self._limiter.clear(self._pair_failures, 'login', 'pair', *self._pair(username, client))
        self._limiter.clear(self._account_failures, 'login', 'account', _name(username))

    def release(self, username: str) -> None:
        """An admin reset the password or re-activated the user: lift every sign-in lock on the name
        (from each address, and the spread lock) in this process."""
        name = _name(username)
        self._generation[name] = self._generation.get(name, 0) + 1
        self._limiter.clear(self._account_failures, 'login', 'account', name)
        self._limiter.clear(self._account_lock, 'login', 'locked', name)

    def _pair(self, username: str, client: str | None) -> tuple[str, str, str]:
        name = _name(username)
        return name, str(self._generation.get(name, 0)), _client(client)

    def failed(self, username: str) -> int | None:
        """Count a wrong password against the name; the lock's seconds when this one locked it."""
        name = _name(username)
        self._limiter.hit(self._account_failures, 'login', 'account', name)
        if self._limiter.test(self._account_failures, 'login', 'account', name):
            return None
        self._limiter.clear(self._account_failures, 'login', 'account', name)
        self._limiter.hit(self._account_lock, 'login', 'locked', name)
        return self._account_lock.get_expiry()

    def _hit(self, rule: RateLimitItem, kind: str, *keys: str) -> int | None:
        if self._limiter.hit(rule, 'login', kind, *keys):
            return None
        return self._wait(rule, kind, *keys)

    def _wait(self, rule: RateLimitItem, kind: str, *keys: str) -> int:
        reset_time = self._limiter.get_window_stats(rule, 'login', kind, *keys).reset_time
        return max(1, math.ceil(reset_time - time.time()))


def _name(username: str) -> str:
    return username.strip().lower()[:64]


def _client(client: str | None) -> str:
    return (client or 'unknown')[:64]


class ProvisionLimiter:
    """Provision requests (single or bulk: one request each) per user."""

    def __init__(self, per_user: str = PROVISION_PER_USER) -> None:
        self._limit = RateLimit('provision', user=per_user)

    def hit(self, username: str) -> int | None:
        """Count one request; None when allowed, else the seconds to wait before the next one."""
        return self._limit.hit(user=username)


def wait_message(action: str, seconds: int) -> str:
    """The polite sentence shown in the UI and returned by the API."""
    return f'Too many {action} in a short time: please wait {seconds_text(seconds)} and try again.'


def seconds_text(seconds: int) -> str:
    """'1 second', '30 seconds'."""
    return f"{seconds} {'second' if seconds == 1 else 'seconds'}"
