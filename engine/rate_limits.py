"""Inbound rate limits (the `limits` library, moving windows kept in this process's memory).

- login attempts: per username and per client address;
- provision requests: per user.

The REST API answers 429 with `Retry-After`; the UI shows the wait politely. Both ask the same
limiter objects, which the Process owns (`process.login_limiter`, `process.provision_limiter`).
Limits are per process: with several processes behind a balancer each keeps its own count.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

LOGIN_PER_USERNAME = '10/minute'
LOGIN_PER_CLIENT = '30/minute'
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
    """Login attempts per username and per client address."""

    def __init__(self, per_username: str = LOGIN_PER_USERNAME, per_client: str = LOGIN_PER_CLIENT) -> None:
        self._limit = RateLimit('login', username=per_username, client=per_client)

    def hit(self, username: str, client: str | None) -> int | None:
        """Count one attempt; None when allowed, else the seconds to wait before the next one."""
        return self._limit.hit(username=username.strip().lower()[:64], client=client or 'unknown')


class ProvisionLimiter:
    """Provision requests (single or bulk: one request each) per user."""

    def __init__(self, per_user: str = PROVISION_PER_USER) -> None:
        self._limit = RateLimit('provision', user=per_user)

    def hit(self, username: str) -> int | None:
        """Count one request; None when allowed, else the seconds to wait before the next one."""
        return self._limit.hit(user=username)


def wait_message(action: str, seconds: int) -> str:
    """The polite sentence shown in the UI and returned by the API."""
    unit = 'second' if seconds == 1 else 'seconds'
    return f'Too many {action} in a short time: please wait {seconds} {unit} and try again.'
