"""Figures 1, 2 and 6: one fresh 1-store tenant against the sandbox with latency, its request
counts, a re-run over it, and the plain sequential replay of its requests (the floor)."""

from __future__ import annotations

import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench import floor
from bench.sandbox_server import SandboxServer
from bench.throughput import NO_BUDGET
from bench.timeline import Exchange, counts, critical_chain_length, critical_path, end_to_end
from bench.world import World
from engine.services import runs

WRITES = ('POST', 'PUT', 'DELETE')


@dataclass
class SingleRun:
    wall: float
    critical_path: float
    chain: int
    end_to_end: float
    floor: float
    floor_mismatches: int
    fresh: Counter = field(default_factory=Counter)
    rerun: Counter = field(default_factory=Counter)
    rerun_wall: float = 0.0


@dataclass
class Overhead:
    samples: list[SingleRun]

    def median(self, attr: str) -> float:
        return statistics.median(getattr(s, attr) for s in self.samples)

    @property
    def ratio_to_critical_path(self) -> float:
        return statistics.median(s.wall / s.critical_path for s in self.samples)

    @property
    def ratio_to_end_to_end(self) -> float:
        return statistics.median(s.wall / s.end_to_end for s in self.samples)

    @property
    def ratio_to_floor(self) -> float:
        return statistics.median(s.wall / s.floor for s in self.samples)

    @property
    def fresh(self) -> Counter:
        return self.samples[-1].fresh

    @property
    def rerun(self) -> Counter:
        return self.samples[-1].rerun


async def measure(erp: SandboxServer, workdir: Path, *, repeats: int) -> Overhead:
    # The budget out of the way: its waits are a deliberate limit, not engine overhead (at the default
    # 50 a second, a sample starting within a second of the previous sample's re-run would wait).
    world = World.build(f'sqlite:///{workdir / "overhead.db"}', erp.url, requests_per_second=NO_BUDGET)
    try:
        await _provision(world, world.add_tenants([9_000])[0])  # warm-up: imports, pools, caches
        samples = []
        for number in range(repeats):
            erp.reset()  # the same ERPNext state for the run and for its replay
            samples.append(await _one(world, erp, world.add_tenants([number])[0]))
        return Overhead(samples)
    finally:
        await world.aclose()


async def _one(world: World, erp: SandboxServer, tenant_id: int) -> SingleRun:
    world.recorder.take()
    wall = await _provision(world, tenant_id)
    fresh = world.recorder.take()
    rerun_wall = await _provision(world, tenant_id)
    rerun = world.recorder.take()
    erp.reset()
    floor_s, mismatches = floor.replay(fresh)
    return SingleRun(wall=wall, critical_path=critical_path(fresh), chain=critical_chain_length(fresh),
                     end_to_end=end_to_end(fresh), floor=floor_s, floor_mismatches=mismatches,
                     fresh=counts(fresh), rerun=counts(rerun), rerun_wall=rerun_wall)


async def _provision(world: World, tenant_id: int) -> float:
    run = runs.request_provision(world.db, tenant_id, actor='bench')
    started = time.perf_counter()
    status = await world.runner.execute(run.id)
    wall = time.perf_counter() - started
    if status != 'SUCCEEDED':
        detail = runs.run_detail(world.db, run.id)
        raise RuntimeError(f'benchmark run ended {status}: {detail.get("error_message") or detail}')
    return wall


def budget(requests: Counter) -> tuple[int, int, int]:
    """(requests sent, writes, the budget: writes + one look-up per target touched)."""
    writes = sum(n for label, n in requests.items() if label.split(' ', 1)[0] in WRITES)
    targets = {label.split(' ', 1)[1] for label in requests}
    return sum(requests.values()), writes, writes + len(targets)


def by_doctype(fresh: Counter, rerun: Counter) -> list[tuple[str, str, int, int]]:
    """(target, method, fresh count, re-run count) rows, by target then method."""
    keys = sorted(set(fresh) | set(rerun), key=lambda label: (label.split(' ', 1)[1], label))
    return [(k.split(' ', 1)[1], k.split(' ', 1)[0], fresh.get(k, 0), rerun.get(k, 0)) for k in keys]


__all__ = ['Exchange', 'Overhead', 'budget', 'by_doctype', 'measure']
