"""Operational endpoints outside the versioned API: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio

import structlog
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from dashboard import state
from engine.metrics import refresh_database_gauges

log = structlog.get_logger('ops')
router = APIRouter(include_in_schema=False)


@router.get('/healthz')
def healthz() -> dict[str, str]:
    """The process is alive and serving."""
    return {'status': 'ok'}


@router.get('/readyz')
async def readyz(request: Request) -> JSONResponse:
    """Ready to work: the database answers and the scheduler runs."""
    process = state.process(request.app)
    checks = {'database': False, 'scheduler': bool(process and process.scheduler_running)}
    if process is not None:
        try:
            await asyncio.wait_for(asyncio.to_thread(_ping, process.db), timeout=5)
            checks['database'] = True
        except Exception:  # unreachable or slow: not ready, and say which part
            checks['database'] = False
    ready = all(checks.values())
    return JSONResponse({'status': 'ready' if ready else 'not ready', 'checks': checks},
                        status_code=200 if ready else 503)


@router.get('/metrics')
def metrics(request: Request) -> Response:
    """Prometheus text. Queue depth, runs in progress, the oldest running run's age and engine
    health are read from the database now, so every process reports the whole system's state;
    counters and histograms are this process's own (scrape each process as its own target)."""
    db = state.database(request.app)
    if db is not None:
        try:
            refresh_database_gauges(db)
        except Exception as exc:  # the database is away: serve the counters with the last known gauges
            log.warning('metrics.refresh_failed', error=type(exc).__name__)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def _ping(db) -> None:
    with db.engine.connect() as connection:
        connection.execute(text('SELECT 1'))
