"""What the sandbox has been asked: per-endpoint counters and a bounded request log."""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass

LOG_SIZE = 10_000


@dataclass(frozen=True)
class Target:
    """What an /api request addresses: a DocType (resource) or a dotted method path."""

    kind: str  # "resource" | "method" | "other"
    name: str | None  # DocType, method path, or None

    def stats_key(self, verb: str, path: str) -> str:
        """`"<VERB> <DocType>"`, `"<VERB> method:<dotted.path>"`, or `"<VERB> <path>"` for other routes."""
        if self.kind == "resource":
            return f"{verb} {self.name}"
        if self.kind == "method":
            return f"{verb} method:{self.name}"
        return f"{verb} {path}"


class Traffic:
    """Counters for /__sandbox__/stats and the last 10,000 requests for /__sandbox__/requests."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.log: deque[dict] = deque(maxlen=LOG_SIZE)

    def record(self, verb: str, path: str, target: Target, status: int, request_id: str | None) -> None:
        self.counts[target.stats_key(verb, path)] += 1
        self.log.append(
            {"method": verb, "path": path, "doctype": target.name, "status": status, "request_id": request_id}
        )
