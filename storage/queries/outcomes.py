"""Finished provisioning outcomes: the one definition behind every success rate (the Overview's,
the metrics summary's chart, the gauge `provisioner_runs_finished`).

A finished provisioning outcome is a provisioning run (mode `provision`: not a plan, not a
teardown) whose current status is SUCCEEDED or FAILED, counted when it finished. A run that failed,
was retried and then succeeded is one row: it counts once, by its final status. Cancelled runs and
runs still queued or running are no outcome. The index `ix_run_mode_finished` covers the query.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import case
from sqlmodel import Session, col, func, select

from storage.tables import Run, RunMode, RunStatus

FINAL_OUTCOMES = (RunStatus.SUCCEEDED, RunStatus.FAILED)
Window = TypeVar('Window', bound=Hashable)


def finished_outcomes_since(since: datetime) -> tuple[Any, ...]:
    """The WHERE of the finished provisioning outcomes at or after `since`."""
    return Run.mode == RunMode.PROVISION, col(Run.finished_at) >= since, col(Run.status).in_(FINAL_OUTCOMES)


def finished_outcome_counts(session: Session, starts: Mapping[Window, datetime]) -> dict[Window, dict[str, int]]:
    """For each window, given by the moment it starts: how many provisioning runs finished in it
    with each final outcome (`{'SUCCEEDED': n, 'FAILED': m}`, 0 when none), every window in one pass."""
    if not starts:
        return {}
    windows, oldest = list(starts), min(starts.values())
    # Every row read is in the oldest window: a plain count there (a CASE per row costs more).
    per_window = [func.count() if starts[window] == oldest else
                  func.sum(case((col(Run.finished_at) >= starts[window], 1), else_=0)) for window in windows]
    rows = session.exec(select(Run.status, *per_window).where(*finished_outcomes_since(oldest))
                        .group_by(Run.status)).all()
    counts: dict[Window, dict[str, int]] = {window: dict.fromkeys(FINAL_OUTCOMES, 0) for window in windows}
    for status, *numbers in rows:
        for window, number in zip(windows, numbers, strict=True):
            counts[window][RunStatus(status)] = int(number or 0)
    return counts
