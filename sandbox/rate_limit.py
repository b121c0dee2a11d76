"""The site-wide rate limiter (frappe/rate_limiter.py), on when the site config has `rate_limit`.

The budget is request *time*: each window of `window` seconds allows `limit` seconds of work, counted
in microseconds. A request is refused (429 TooManyRequestsError, Retry-After) once the window's spent
time exceeds the limit; every response carries the X-RateLimit-* headers (ERPNEXT.md §6.6).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RateLimit:
    """Site config `rate_limit: {"limit": <seconds of request time>, "window": <seconds>}`."""

    limit: float
    window: int


@dataclass
class Admission:
    """One request under the limiter: what the window looked like when it arrived."""

    limiter: RateLimiter
    window_number: int
    limit: int
    remaining: int
    reset: int
    rejected: bool
    started: float = field(default_factory=time.perf_counter)
    duration: int = 0

    def finish(self) -> None:
        """after_request `update`: add this request's time (microseconds) to its window."""
        self.duration = int((time.perf_counter() - self.started) * 1_000_000)
        self.limiter.spend(self.window_number, self.duration)

    def headers(self) -> dict[str, str]:
        headers = {
            "X-RateLimit-Reset": str(self.reset),
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
        }
        if self.rejected:
            headers["Retry-After"] = str(self.reset)
        else:
            headers["X-RateLimit-Used"] = str(self.duration)
        return headers


class RateLimiter:
    """Spent microseconds per window (Frappe keeps them in Redis under rate-limit-counter-<n>)."""

    def __init__(self, config: RateLimit):
        self.config = RateLimit(float(config.limit), int(config.window))
        self._spent: dict[int, int] = {}

    def admit(self) -> Admission:
        """before_request `apply`: refused when the window already spent more than the limit."""
        window = max(1, int(self.config.window))
        window_number, elapsed = divmod(int(time.time()), window)
        limit = int(self.config.limit * 1_000_000)
        counter = self._spent.get(window_number, 0)
        return Admission(
            self,
            window_number,
            limit=limit,
            remaining=max(limit - counter, 0),
            reset=window - elapsed,
            rejected=counter > limit,
        )

    def spend(self, window_number: int, microseconds: int) -> None:
        # Only the current window's counter is kept: older ones expire, as Redis keys do.
        self._spent = {window_number: self._spent.get(window_number, 0) + microseconds}
