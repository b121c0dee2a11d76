"""Outbound back-pressure for one ERPNext site: a request budget and ERPNext's own Retry-After.

Every request of every run on an engine first waits for its turn here:
- a moving-window budget (`limits`: at most N requests in any one second, a bucket that refills
  continuously), so a burst of runs cannot flood the site;
- a pause: when ERPNext answers 429 with `Retry-After`, the whole engine holds its requests for
  that long, not only the run that was refused.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

MAX_PAUSE_S = 300.0  # a Retry-After beyond this is taken as this (a misconfigured proxy, not a plan)


class Throttle:
    """Waits before each request so that one engine gets at most `per_second` requests a second."""

    def __init__(self, per_second: int, *, sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        if per_second < 1:
            raise ValueError('per_second must be at least 1')
        self.per_second = per_second
        self._rule = RateLimitItemPerSecond(per_second)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._paused_until = 0.0  # time.time() of the end of the current Retry-After pause
        self._sleep = sleep

    async def acquire(self) -> float:
        """Wait for a turn; returns the seconds waited (0.0 when a turn was free)."""
        waited = 0.0
        while True:
            pause = self._paused_until - time.time()
            if pause > 0:
                await self._sleep(pause)
                waited += pause
                continue
            if self._limiter.hit(self._rule, 'engine'):
                return waited
            reset_time = self._limiter.get_window_stats(self._rule, 'engine').reset_time
            delay = min(1.0, max(0.005, reset_time - time.time()))
            await self._sleep(delay)
            waited += delay

    def pause(self, seconds: float | None) -> None:
        """ERPNext asked us to come back in `seconds`: hold every request to this engine until then."""
        if seconds and seconds > 0:
            self._paused_until = max(self._paused_until, time.time() + min(seconds, MAX_PAUSE_S))

    @property
    def paused_for(self) -> float:
        return max(0.0, self._paused_until - time.time())
