"""Questions the dispatcher asks when it claims work, named for what they answer.

Core statements built once with bound parameters: the dispatcher claims each time a run ends, so
these run about once per run (building a statement costs several times what executing it does)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, func, or_, select, update
from sqlmodel import col

from storage.tables import Engine, Run, RunStatus, StepRun, StepStatus

_NOW = bindparam('b_now')
# QUEUED runs, and RUNNING runs whose lease expired (their process died).
_CLAIMABLE = or_(Run.status == RunStatus.QUEUED,
                 and_(Run.status == RunStatus.RUNNING, col(Run.lease_expires_at) < _NOW))
_ENGINES = select(Engine.id, Engine.health, Engine.max_concurrent_runs).order_by(col(Engine.id))
_ENGINES_LOCKED = _ENGINES.with_for_update()
_LEASED = (select(Run.engine_id, func.count()).where(Run.status == RunStatus.RUNNING, col(Run.lease_expires_at) >= _NOW)
           .group_by(Run.engine_id))
_OLDEST = select(Run.engine_id, func.min(Run.queued_at)).where(_CLAIMABLE).group_by(Run.engine_id)
_RUNS_OF_ENGINE = (select(Run.id, Run.meta).where(Run.engine_id == bindparam('b_engine'), _CLAIMABLE)
                   .order_by(col(Run.queued_at), col(Run.id)).limit(bindparam('b_limit')))
_RUNS_OF_ENGINE_SKIP_LOCKED = _RUNS_OF_ENGINE.with_for_update(skip_locked=True)
_LEASE = update(Run).where(Run.id == bindparam('b_id')).values(
    status=RunStatus.RUNNING, lease_owner=bindparam('b_owner'), lease_expires_at=bindparam('b_expires'),
    meta=bindparam('b_meta', type_=Run.meta.type))


def engines_for_claiming(connection: Connection, *, lock: bool) -> dict[int, Row]:
    """Every engine by id (id, health, max_concurrent_runs). `lock` (PostgreSQL): FOR UPDATE, in id
    order, so that concurrent claimers count each engine's load one at a time."""
    return {row.id: row for row in connection.execute(_ENGINES_LOCKED if lock else _ENGINES)}


def leased_runs_by_engine(connection: Connection, *, now: datetime) -> dict[int, int]:
    """How many runs each engine has in flight (RUNNING with a live lease), across processes."""
    return dict(connection.execute(_LEASED, {'b_now': now}).all())


def oldest_claimable_by_engine(connection: Connection, *, now: datetime) -> dict[int, datetime]:
    """For each engine with claimable runs: when its oldest one was queued."""
    return dict(connection.execute(_OLDEST, {'b_now': now}).all())


def claimable_runs_of_engine(connection: Connection, engine_id: int, *, now: datetime, limit: int,
                             skip_locked: bool) -> list[Row]:
    """Up to `limit` claimable runs (id, meta) of one engine, oldest first. On PostgreSQL the rows
    are locked with FOR UPDATE SKIP LOCKED, so several processes claiming at once never take the same run."""
    query = _RUNS_OF_ENGINE_SKIP_LOCKED if skip_locked else _RUNS_OF_ENGINE
    return connection.execute(query, {'b_engine': engine_id, 'b_now': now, 'b_limit': limit}).all()


def lease_runs(connection: Connection, leases: Sequence[dict[str, Any]]) -> None:
    """Mark runs RUNNING under a lease: rows of {'b_id', 'b_owner', 'b_expires', 'b_meta'}."""
    if leases:
        connection.execute(_LEASE, list(leases))


# Cancelled runs still stopping whose process stopped first (the lease expired): nobody ends their
# steps in flight any more.
_ABANDONED = and_(Run.status == RunStatus.CANCELLED, col(Run.lease_owner).is_not(None),
                  col(Run.lease_expires_at) < _NOW)
_UNFINISHED_OF_ABANDONED = update(StepRun).where(
    col(StepRun.run_id).in_(select(Run.id).where(_ABANDONED)), StepRun.status == StepStatus.RUNNING).values(
    status=StepStatus.PENDING)
_RELEASE_ABANDONED = update(Run).where(_ABANDONED).values(lease_owner=None, lease_expires_at=None)


def settle_abandoned_cancels(connection: Connection, *, now: datetime) -> int:
    """A cancelled run whose process stopped before its steps in flight ended: those steps did not
    end (PENDING with the attempts they made, as a step a cancel cut short) and the run has stopped
    (no lease: the tenant may be acted on again). Returns how many runs it settled."""
    connection.execute(_UNFINISHED_OF_ABANDONED, {'b_now': now})
    return connection.execute(_RELEASE_ABANDONED, {'b_now': now}).rowcount
