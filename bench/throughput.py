"""Figure 3: a queue of tenants worked off by the real dispatcher and runner, at a given concurrency.

The dispatcher is ticked the way the process's APScheduler job ticks it (every TICK_SECONDS); in
`eager` mode it is also ticked as soon as a run ends, as the dispatcher itself now does to keep
every slot busy (see docs/BENCHMARKS.md)."""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from pyinstrument import Profiler
from sqlmodel import col, func, select

from bench import floor
from bench.sandbox_server import SandboxServer
from bench.timeline import Exchange, by_run
from bench.world import World
from engine.dispatcher import RENEW_EVERY_SECONDS, TICK_SECONDS, Dispatcher
from engine.services import runs
from storage.db import Database
from storage.tables import Run

# The bench engine row's `requests_per_second`: its request budget out of the way (the shipped default
# is 50; an operator sets it per engine). Written to the row directly, past the API's 10,000 ceiling.
NO_BUDGET = 1_000_000


@dataclass
class Throughput:
    database: str
    concurrency: int
    tenants: int
    eager: bool
    seconds: float
    succeeded: int
    requests_per_second: int
    cpu_ours: float = 0.0  # CPU seconds of this process (engine, database, event loop) for the whole queue
    cpu_erpnext: float = 0.0  # CPU seconds of the sandbox process
    request_median: float = 0.0  # seconds, as the engine saw them (20 ms is ERPNext's injected latency)
    floor_seconds: float = 0.0  # the same requests replayed by plain threads at the same concurrency
    floor_mismatches: int = 0
    # ERPNext traffic (request and answer bytes) per tenant, mean of the first and of the last tenth of
    # the queue: a tenant's cost must not grow with the companies already on the site
    traffic_first: float = 0.0
    traffic_last: float = 0.0
    slow_ms: float | None = None  # ERPNext's latency when this queue ran against a slower ERPNext
    slow_single_wall: float = 0.0  # one fresh tenant's wall time at that latency (its ideal's base)

    @property
    def per_minute(self) -> float:
        return self.succeeded * 60 / self.seconds

    @property
    def floor_per_minute(self) -> float:
        return self.tenants * 60 / self.floor_seconds if self.floor_seconds else 0.0

    @property
    def cpu_ms_per_tenant(self) -> tuple[float, float]:
        """(ours, ERPNext's) CPU milliseconds per tenant."""
        return self.cpu_ours * 1000 / self.tenants, self.cpu_erpnext * 1000 / self.tenants

    def ideal_per_minute(self, single_wall: float) -> float:
        return self.concurrency * 60 / (self.slow_single_wall or single_wall)


async def measure(erp: SandboxServer, database_url: str, *, tenants: int, concurrency: int, eager: bool,
                  requests_per_second: int = NO_BUDGET, profile_to: Path | None = None,
                  with_floor: bool = True, slow_ms: float | None = None) -> Throughput:
    """`slow_ms`: ERPNext answers this slowly instead (the queue's ideal then comes from one tenant
    provisioned first at that latency)."""
    erp.reset()
    world = World.build(database_url, erp.url, max_concurrent_runs=concurrency,
                        requests_per_second=requests_per_second)
    try:
        single_wall = 0.0
        if slow_ms:
            erp.set_latency(slow_ms)
            single_wall = await _single_wall(world)
            erp.reset()
            erp.set_latency(slow_ms)
        already = succeeded(world.db)
        ids = world.add_tenants(range(tenants))
        runs.bulk_provision(world.db, ids, actor='bench')
        dispatcher = Dispatcher(world.db, world.runner, max_concurrent=concurrency)
        profiler = Profiler(async_mode='disabled') if profile_to else None
        if profiler:
            profiler.start()
        cpu, erp_cpu, started = time.process_time(), erp.cpu_seconds(), time.perf_counter()
        await _work_off(world, dispatcher, eager=eager)
        seconds = time.perf_counter() - started
        cpu, erp_cpu = time.process_time() - cpu, erp.cpu_seconds() - erp_cpu
        if profiler:
            profiler.stop()
            profile_to.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
        exchanges = world.recorder.take()
        result = Throughput(_database_kind(database_url), concurrency, tenants, eager, seconds,
                            succeeded(world.db) - already,
                            requests_per_second, cpu, erp_cpu,
                            statistics.median(x.duration for x in exchanges) if exchanges else 0.0)
        result.traffic_first, result.traffic_last = traffic_first_and_last(by_run(exchanges))
        result.slow_ms, result.slow_single_wall = slow_ms, single_wall
        if with_floor:
            erp.reset()
            result.floor_seconds, result.floor_mismatches = await asyncio.to_thread(
                floor.replay_many, by_run(exchanges), concurrency)
        return result
    finally:
        await world.aclose()


async def _single_wall(world: World) -> float:
    """One fresh tenant provisioned alone, as figure 1 does: its wall time in seconds."""
    run = runs.request_provision(world.db, world.add_tenants([1_000_000])[0], actor='bench')
    started = time.perf_counter()
    await world.runner.execute(run.id)
    world.recorder.take()
    return time.perf_counter() - started


async def _work_off(world: World, dispatcher: Dispatcher, *, eager: bool) -> None:
    """Tick (and renew leases) like the scheduler does until no run is queued or running. The
    dispatcher also claims by itself whenever a run ends; `eager` additionally wakes this loop then."""
    renewed = time.monotonic()
    while await asyncio.to_thread(active, world.db):
        await dispatcher.tick()
        if time.monotonic() - renewed >= RENEW_EVERY_SECONDS:
            await dispatcher.renew_leases()
            renewed = time.monotonic()
        running = list(dispatcher.tasks.values())
        if eager and running:
            await asyncio.wait(running, timeout=TICK_SECONDS, return_when=asyncio.FIRST_COMPLETED)
        else:
            await asyncio.sleep(TICK_SECONDS)


def traffic_first_and_last(runs: list[list[Exchange]]) -> tuple[float, float]:
    """Mean bytes per run of the first and of the last tenth of the runs (in the order they started)."""
    if not runs:
        return 0.0, 0.0
    tenth = max(len(runs) // 10, 1)
    sizes = [sum(x.traffic for x in run) for run in runs]
    return statistics.mean(sizes[:tenth]), statistics.mean(sizes[-tenth:])


def active(db: Database) -> bool:
    """Whether any run is still queued or running."""
    with db.session() as session:
        return session.exec(select(func.count()).select_from(Run).where(
            col(Run.status).in_(['QUEUED', 'RUNNING']))).one() > 0


def succeeded(db: Database) -> int:
    with db.session() as session:
        return session.exec(select(func.count()).select_from(Run).where(Run.status == 'SUCCEEDED')).one()


def _database_kind(url: str) -> str:
    return 'PostgreSQL' if url.startswith('postgresql') else 'SQLite'
