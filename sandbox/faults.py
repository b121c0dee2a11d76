"""Fault injection: rules the control API adds, and the decision each /api request gets.

A rule = optional filters (`method`, `doctype`) + selection (`count`: the next N matches;
`rate`: a probability) + effect (`offline`, `timeout`, `status`, `latency_ms`). With
`after_commit`, a `status` or `timeout` comes after the request did its work (committed): the
answer is lost, not the write, as when a proxy gives up on a request the site then finishes.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import (
    AuthenticationError,
    DoesNotExistError,
    DuplicateEntryError,
    FrappeError,
    PermissionError,
    PythonError,
    QueryDeadlockError,
    SessionStopped,
    TooManyRequestsError,
    ValidationError,
    error_body,
    message,
)
from .responses import frappe_json, proxy_page

DEFAULT_HANG_S = 120.0
RULE_KEYS = {
    "method", "doctype", "status", "count", "rate", "latency_ms", "timeout", "offline",
    "retry_after", "hang_s", "exc_type", "seed", "after_commit",
}  # fmt: skip


class RuleError(ValueError):
    """A fault rule body the control API refuses (422)."""


@dataclass
class FaultRule:
    """One rule; `remaining` counts down when `count` was given."""

    id: int
    method: str | None = None
    doctype: str | None = None
    status: int | None = None
    remaining: int | None = None
    rate: float | None = None
    latency_ms: float = 0.0
    timeout: bool = False
    offline: bool = False
    retry_after: float | None = None
    hang_s: float = DEFAULT_HANG_S
    exc_type: str | None = None
    after_commit: bool = False  # the request runs (and commits) first; only its answer fails
    hits: int = 0
    spec: dict = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def matches(self, verb: str, target: str | None) -> bool:
        if self.method and self.method != verb:
            return False
        return not self.doctype or self.doctype == target

    def to_json(self) -> dict:
        return {**self.spec, "id": self.id, "hits": self.hits, "remaining": self.remaining}


@dataclass
class Decision:
    """What the faults do to one request, applied in this order."""

    offline: bool = False
    latency_s: float = 0.0
    hang: FaultRule | None = None
    failure: FaultRule | None = None


class Faults:
    """The active rules of one sandbox."""

    def __init__(self) -> None:
        self.rules: dict[int, FaultRule] = {}
        self._next_id = 1

    def add(self, body: object) -> FaultRule:
        rule = parse_rule(body, self._next_id)
        self.rules[rule.id] = rule
        self._next_id += 1
        return rule

    def remove(self, rule_id: int) -> bool:
        return self.rules.pop(rule_id, None) is not None

    def clear(self) -> int:
        removed = len(self.rules)
        self.rules.clear()
        return removed

    def decide(self, verb: str, target: str | None) -> Decision:
        """Consume counts and draw rates for the rules this request matches."""
        decision = Decision()
        for rule in list(self.rules.values()):
            if rule.matches(verb, target) and _selected(rule):
                _apply(rule, decision)
        return decision


def _selected(rule: FaultRule) -> bool:
    if rule.remaining is not None and rule.remaining <= 0:
        return False
    if rule.rate is not None and rule.rng.random() >= rule.rate:
        return False
    if rule.remaining is not None:
        rule.remaining -= 1
    rule.hits += 1
    return True


def _apply(rule: FaultRule, decision: Decision) -> None:
    decision.offline = decision.offline or rule.offline
    decision.latency_s += rule.latency_ms / 1000
    if rule.timeout and decision.hang is None:
        decision.hang = rule
    if rule.status is not None and decision.failure is None:
        decision.failure = rule


def parse_rule(body: object, rule_id: int) -> FaultRule:
    """Validate a rule body; every problem is a RuleError with a message naming the key."""
    if not isinstance(body, dict):
        raise RuleError("a fault rule must be a JSON object")
    unknown = set(body) - RULE_KEYS
    if unknown:
        raise RuleError(
            f"unknown keys: {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(RULE_KEYS))}"
        )
    rule = FaultRule(rule_id, spec=dict(body))
    _read_filters(body, rule)
    _read_selection(body, rule)
    _read_effects(body, rule)
    if not (rule.offline or rule.timeout or rule.status is not None or rule.latency_ms):
        raise RuleError("a rule needs an effect: status, latency_ms, timeout or offline")
    return rule


def _read_filters(body: dict, rule: FaultRule) -> None:
    for key in ("method", "doctype", "exc_type"):
        if body.get(key) is not None and not isinstance(body[key], str):
            raise RuleError(f"{key} must be a string")
    rule.method = body["method"].upper() if body.get("method") else None
    rule.doctype = body.get("doctype") or None
    rule.exc_type = body.get("exc_type") or None


def _read_selection(body: dict, rule: FaultRule) -> None:
    if "count" in body:
        rule.remaining = _number(body, "count", integer=True, minimum=1)
    if "rate" in body:
        rule.rate = _number(body, "rate", minimum=0)
        if rule.rate > 1:
            raise RuleError("rate must be between 0 and 1")
    if "seed" in body:
        rule.rng = random.Random(_number(body, "seed", integer=True))


def _read_effects(body: dict, rule: FaultRule) -> None:
    if "status" in body:
        rule.status = _number(body, "status", integer=True)
        if not 400 <= rule.status <= 599:
            raise RuleError("status must be an HTTP error status (400-599)")
    rule.latency_ms = _number(body, "latency_ms", minimum=0) if "latency_ms" in body else 0.0
    rule.retry_after = _number(body, "retry_after", minimum=0) if "retry_after" in body else None
    rule.hang_s = _number(body, "hang_s", minimum=0) if "hang_s" in body else DEFAULT_HANG_S
    for key in ("timeout", "offline", "after_commit"):
        if not isinstance(body.get(key, False), bool):
            raise RuleError(f"{key} must be true or false")
    rule.timeout, rule.offline = body.get("timeout", False), body.get("offline", False)
    rule.after_commit = body.get("after_commit", False)
    if rule.after_commit and not (rule.timeout or "status" in body):
        raise RuleError("after_commit needs a status or timeout: the answer that replaces the committed one")


def _number(body: dict, key: str, *, integer: bool = False, minimum: float | None = None):
    value = body[key]
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (integer and not isinstance(value, int))
    ):
        raise RuleError(f"{key} must be {'an integer' if integer else 'a number'}")
    if minimum is not None and value < minimum:
        raise RuleError(f"{key} must be at least {minimum}")
    return value


def offline_response():
    """The site is down behind its proxy: a quick 503 HTML page, not Frappe JSON."""
    return proxy_page(503)


def gateway_timeout():
    """What the proxy answers when a hung request outlives `hang_s`."""
    return proxy_page(504)


def failure_response(rule: FaultRule):
    """A realistic body for an injected status, so the client's envelope parsing is exercised."""
    headers = {"Retry-After": str(math.ceil(rule.retry_after))} if rule.retry_after is not None else {}
    status = rule.status or 500
    if rule.exc_type is None and status in (502, 504):
        return proxy_page(status, headers)
    error = _injected_error(status, rule)
    error.http_status = status
    return frappe_json(error_body(error, error.messages), status, headers)


def _injected_error(status: int, rule: FaultRule) -> FrappeError:
    if rule.exc_type:
        return PythonError(
            rule.exc_type, f"Injected fault (sandbox rule {rule.id})", module="frappe.exceptions"
        )
    factory = INJECTED_ERRORS.get(status)
    if factory is not None:
        return factory(rule)
    text = f"Injected failure (sandbox rule {rule.id})"
    return ValidationError(text, messages=[message(text, raised=True)])


# What a real site answers with for each status (502/504 are proxy pages, handled above).
INJECTED_ERRORS: dict[int, Callable[[FaultRule], FrappeError]] = {
    500: lambda rule: QueryDeadlockError(
        "(1213, 'Deadlock found when trying to get lock; try restarting transaction')"
    ),
    503: lambda rule: SessionStopped("Session Stopped"),
    429: lambda rule: TooManyRequestsError(),
    401: lambda rule: AuthenticationError(),
    403: lambda rule: PermissionError(error_message=f"No permission for {rule.doctype or 'this resource'}"),
    404: lambda rule: DoesNotExistError(f"{rule.doctype or 'Document'} not found"),
    409: lambda rule: DuplicateEntryError(f"Injected duplicate (sandbox rule {rule.id})"),
}
