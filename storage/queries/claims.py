"""Questions the dispatcher asks when it claims work, named for what they answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from storage.tables import Engine, Run, RunStatus


def _claimable(now: datetime):
    """QUEUED runs, and RUNNING runs whose lease expired (their process died)."""
    return or_(Run.status == RunStatus.QUEUED,
               and_(Run.status == RunStatus.RUNNING, col(Run.lease_expires_at) < now))


def engines_for_claiming(session: Session, *, lock: bool) -> dict[int, Engine]:
    """Every engine by id. `lock` (PostgreSQL): FOR UPDATE, in id order, so that concurrent
    claimers count each engine's load one at a time."""
    query = select(Engine).order_by(col(Engine.id))
    if lock:
        query = query.with_for_update()
    return {engine.id: engine for engine in session.exec(query).all()}


def oldest_claimable_by_engine(session: Session, *, now: datetime) -> dict[int, datetime]:
    """For each engine with claimable runs: when its oldest one was queued."""
    rows = session.exec(select(Run.engine_id, func.min(Run.queued_at)).where(_claimable(now))
                        .group_by(Run.engine_id)).all()
    return dict(rows)


def claimable_runs_of_engine(session: Session, engine_id: int, *, now: datetime, limit: int,
                             skip_locked: bool) -> list[Run]:
    """Up to `limit` claimable runs of one engine, oldest first. On PostgreSQL the rows are locked
    with FOR UPDATE SKIP LOCKED, so several processes claiming at once never take the same run."""
    query = (select(Run).where(Run.engine_id == engine_id, _claimable(now))
             .order_by(col(Run.queued_at), col(Run.id)).limit(limit))
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    return list(session.exec(query).all())


def running_runs_by_engine(session: Session) -> dict[int, int]:
    """How many runs each engine has RUNNING right now (live or expired lease)."""
    rows = session.exec(select(Run.engine_id, func.count()).where(Run.status == RunStatus.RUNNING)
                        .group_by(Run.engine_id)).all()
    return dict(rows)
