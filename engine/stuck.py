"""Stuck runs: RUNNING for longer than PROVISIONER_STUCK_AFTER_MINUTES.

A run is RUNNING since the later of `started_at` (its current attempt began: a retry starts a new
one) and `queued_at` (it was put back in the queue, e.g. parked while its engine was offline).
Such a run needs a person: cancel it, retry or skip a step, or mark one done by hand. The
`stuck` flag of `run_detail` and the `run_stuck` alert rule (engine/alerting.py) both ask here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from storage.tables import Run, RunStatus

DEFAULT_STUCK_AFTER_MINUTES = 30  # the default of PROVISIONER_STUCK_AFTER_MINUTES


def running_since(run: Run) -> datetime | None:
    """When the run's current stretch of RUNNING began (None when it never started)."""
    if run.started_at is None:
        return None
    return max(run.started_at, run.queued_at) if run.queued_at else run.started_at


def is_stuck(run: Run, now: datetime, after_minutes: float) -> bool:
    since = running_since(run)
    cutoff = now - timedelta(minutes=after_minutes)
    return run.status == RunStatus.RUNNING and since is not None and since < cutoff


def stuck_runs(session: Session, now: datetime, after_minutes: float) -> list[Run]:
    """RUNNING runs older than the limit, longest-running first (one query)."""
    cutoff = now - timedelta(minutes=after_minutes)
    query = (select(Run).where(Run.status == RunStatus.RUNNING, col(Run.started_at) < cutoff,
                               col(Run.queued_at) < cutoff)
             .order_by(col(Run.started_at), col(Run.id)))
    return list(session.exec(query).all())
