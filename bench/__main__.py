"""`python -m bench [--quick]`: run every figure of issue 7 and print one table (see bench/README.md)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

from bench import dashboard_scale, engine_overhead, memory, scale_out, throughput
from bench.postgres import Postgres
from bench.report import Row, ms, table, x
from bench.sandbox_server import SandboxServer
from engine.logging import configure_logging
from storage.db import Database

SECTIONS = ('overhead', 'throughput', 'dashboard', 'memory')
CPUS = len(os.sched_getaffinity(0))  # the CPUs this process (and the sandbox it starts) may use


@dataclass(frozen=True)
class Sizes:
    latency_ms: float = 20.0
    repeats: int = 5
    queue: int = 500
    concurrency: tuple[int, ...] = (8, 32, 64)
    targets: tuple[tuple[str, int], ...] = (('SQLite', 32), ('PostgreSQL', 64))
    postgres: bool = True
    tenants: int = 10_000
    runs_per_tenant: int = 5
    timing_repeats: int = 30
    memory_runs: int = 64
    processes: tuple[int, ...] = (1, 2)  # scale-out on PostgreSQL: real `python main.py` processes, 64 runs in all
    slow_ms: float = 200.0  # a slower ERPNext: a queue where round trips, not our CPU, set the pace
    slow_queue: int = 150


QUICK = Sizes(repeats=1, queue=6, concurrency=(2,), targets=(), postgres=False, tenants=60, runs_per_tenant=2,
              timing_repeats=3, memory_runs=4, processes=(), slow_ms=50.0, slow_queue=4)


def main() -> None:
    parser = argparse.ArgumentParser(prog='python -m bench', description=__doc__)
    parser.add_argument('--quick', action='store_true', help='tiny sizes: checks that the harness works (seconds)')
    parser.add_argument('--skip', action='append', default=[], choices=SECTIONS, help='leave a section out')
    parser.add_argument('--no-postgres', action='store_true', help='throughput on SQLite only')
    parser.add_argument('--json', type=Path, help='also write the raw figures to this file')
    parser.add_argument('--profile', type=Path, help='also profile a SQLite queue (half the tenants, concurrency '
                        '32) with pyinstrument and write it to this file; not one of the measured rows')
    args = parser.parse_args()
    sizes = QUICK if args.quick else Sizes()
    if args.no_postgres:
        sizes = Sizes(**{**asdict(sizes), 'postgres': False})
    configure_logging('json', stream=open(os.devnull, 'w'))  # as in production, but not on the console
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the sandbox and PostgreSQL on the way out
    started = time.perf_counter()
    rows, raw = asyncio.run(run_all(sizes, set(SECTIONS) - set(args.skip), args.profile))
    print(table(rows))
    print(f'\n{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end; '
          f'{time.perf_counter() - started:.0f} s in all.')
    if args.json:
        args.json.write_text(json.dumps(raw, indent=2, default=str))
    if any(row.ok is False for row in rows):
        print('Some targets were missed (NO above): see docs/BENCHMARKS.md for how to read them.', file=sys.stderr)


async def run_all(sizes: Sizes, sections: set[str], profile: Path | None) -> tuple[list[Row], dict]:
    rows: list[Row] = []
    raw: dict = {'sizes': asdict(sizes)}
    with tempfile.TemporaryDirectory(prefix='provisioner-bench-') as tmp, \
            SandboxServer(latency_ms=sizes.latency_ms) as erp:
        workdir = Path(tmp)
        single = None
        if 'overhead' in sections or 'throughput' in sections:
            single = await engine_overhead.measure(erp, workdir, repeats=sizes.repeats)
            rows += overhead_rows(single)
            raw['overhead'] = [{**vars(s), 'fresh': dict(s.fresh), 'rerun': dict(s.rerun)} for s in single.samples]
        if 'throughput' in sections:
            results, scaled = await throughput_runs(erp, workdir, sizes, profile)
            rows += throughput_rows(results, single.median('wall'), sizes)
            rows += scale_out_rows(scaled, single.median('wall'))
            raw['throughput'] = [asdict(r) for r in results]
            raw['scale_out'] = [asdict(r) for r in scaled]
        if 'dashboard' in sections:
            timings, seconds = await dashboard_runs(workdir, sizes)
            rows += dashboard_rows(timings, seconds, sizes)
            raw['dashboard'] = [asdict(t) for t in timings]
        if 'memory' in sections:
            result = await asyncio.to_thread(memory.measure, erp, workdir, runs=sizes.memory_runs)
            rows += memory_rows(result)
            raw['memory'] = asdict(result)
    return rows, raw


def overhead_rows(o: engine_overhead.Overhead) -> list[Row]:
    sent, writes, budget = engine_overhead.budget(o.fresh)
    again, rewrites, _ = engine_overhead.budget(o.rerun)
    targets = len({label.split(' ', 1)[1] for label in o.rerun})
    rows = [
        Row('1', f'fresh 1-store tenant: wall time (median of {len(o.samples)})', ms(o.median('wall'))),
        Row('1', f'critical path of its requests ({o.samples[-1].chain} round trips)', ms(o.median('critical_path'))),
        Row('1', 'wall ÷ critical path', x(o.ratio_to_critical_path), '≤ 1.10', x(o.ratio_to_critical_path),
            o.ratio_to_critical_path <= 1.10),
        Row('1', 'all its requests end to end', ms(o.median('end_to_end')), '',
            f'wall ÷ it {x(o.ratio_to_end_to_end)}'),
        Row('6', 'floor: the same requests, plain sequential script', ms(o.median('floor')), '',
            f'wall ÷ floor {x(o.ratio_to_floor)}'),
        Row('1', 're-run over the provisioned tenant: wall time', ms(o.median('rerun_wall')), '',
            f'÷ floor {x(o.median("rerun_wall") / o.median("floor"))}'),
        Row('2', 'fresh: requests sent (writes + look-ups)', f'{sent} ({writes} + {sent - writes})',
            f'≤ {budget} (writes + 1 per doctype)', x(sent / budget), sent <= budget),
        Row('2', 're-run: requests sent (writes)', f'{again} ({rewrites})', f'≤ {targets}, 0 writes',
            x(again / targets), rewrites == 0 and again <= targets),
    ]
    for target, method, fresh, rerun in engine_overhead.by_doctype(o.fresh, o.rerun):
        rows.append(Row('2', f'  {method} {target}', f'{fresh} fresh, {rerun} re-run'))
    mismatches = sum(s.floor_mismatches for s in o.samples)
    if mismatches:
        rows.append(Row('6', 'floor answers that differed from the engine\'s', str(mismatches), '0', '', False))
    return rows


async def throughput_runs(erp: SandboxServer, workdir: Path, sizes: Sizes, profile: Path | None):
    results = []
    databases = [('SQLite', lambda c: f'sqlite:///{workdir / f"queue-{c}.db"}')]
    pg = Postgres()
    if sizes.postgres and pg.available:
        pg.__enter__()
        databases.append(('PostgreSQL', lambda c: pg.database(f'bench_queue_{c}')))
    busy = 32 if 32 in sizes.concurrency else max(sizes.concurrency)  # the profiled and the slow queue's
    try:
        for kind, url in databases:
            for concurrency in sizes.concurrency:
                results.append(await throughput.measure(erp, url(concurrency), tenants=sizes.queue,
                                                        concurrency=concurrency, eager=True))
        if profile:  # a run of its own: the profiler's cost must not weigh on a measured row
            await throughput.measure(erp, databases[0][1]('profiled'), tenants=max(sizes.queue // 2, 2),
                                     concurrency=busy,
                                     eager=True, profile_to=profile,
                                     with_floor=False)
        # ERPNext at 200 ms a request: our CPU no longer sets the pace, the shared Modes of Payment would
        results.append(await throughput.measure(erp, databases[0][1]('slow'), tenants=sizes.slow_queue,
                                                concurrency=busy, eager=True, with_floor=False,
                                                slow_ms=sizes.slow_ms))
        if sizes.queue >= 100:  # the dispatcher as shipped: a claim only on its 1 s tick
            results.append(await throughput.measure(erp, databases[0][1]('tick'), tenants=sizes.queue // 5,
                                                    concurrency=32, eager=False, with_floor=False))
        scaled = [await asyncio.to_thread(scale_out.measure, erp, databases[1][1](f'scale_{n}'), workdir,
                                          processes=n, concurrency=64, tenants=sizes.queue)
                  for n in (sizes.processes if len(databases) > 1 else ())]
    finally:
        if len(databases) > 1:
            pg.__exit__()
    return results, scaled


def throughput_rows(results: list[throughput.Throughput], single_wall: float, sizes: Sizes) -> list[Row]:
    rows = []
    for r in results:
        ideal = r.ideal_per_minute(single_wall)
        ratio = r.per_minute / ideal
        targeted = (r.database, r.concurrency) in sizes.targets and r.eager and not r.slow_ms
        ours, theirs = r.cpu_ms_per_tenant
        label = (f'{r.database}, concurrency {r.concurrency}, {r.tenants} tenants'
                 + ('' if r.eager else ', 1 s tick only') + (f', ERPNext at {r.slow_ms:.0f} ms' if r.slow_ms else ''))
        rows.append(Row('3', f'{label}: tenants/min', f'{r.per_minute:.0f} ({r.succeeded} ok)',
                        f'≥ 0.8 × {ideal:.0f}' if targeted else f'ideal {ideal:.0f}', x(ratio),
                        ratio >= 0.8 if targeted else None))
        if r.floor_seconds:
            rows.append(Row('6', '  floor at the same concurrency (plain threads)', f'{r.floor_per_minute:.0f}/min', '',
                            f'ours ÷ floor {x(r.per_minute / r.floor_per_minute)}'))
        rows.append(Row('3', '  CPU per tenant: ours / ERPNext sandbox; request median',
                        f'{ours:.0f} / {theirs:.0f} ms; {r.request_median * 1000:.0f} ms'))
        if ours + theirs:  # what this machine's CPUs could do at best: both processes on them, nothing idle
            ceiling = CPUS * 60_000 / (ours + theirs)
            budget = CPUS * 60_000 / (0.8 * ideal) - theirs  # our CPU per tenant at which 0.8 of ideal fits
            rows.append(Row('3', f'  ceiling of {CPUS} CPUs at that CPU per tenant', f'{ceiling:.0f}/min',
                            f'0.8 fits if ours ≤ {budget:.0f} ms', f'÷ ideal {x(ceiling / ideal)}'))
        if r.traffic_first:
            rows.append(Row('3', '  ERPNext traffic per tenant: first / last tenth of the queue',
                            f'{r.traffic_first / 1024:.1f} / {r.traffic_last / 1024:.1f} KiB', '',
                            f'last ÷ first {x(r.traffic_last / r.traffic_first)}'))
    return rows


def scale_out_rows(results: list[scale_out.ScaleOut], single_wall: float) -> list[Row]:
    rows = []
    for r in results:
        ideal = r.concurrency * 60 / single_wall
        ours, theirs = r.cpu_ms_per_tenant
        label = f'PostgreSQL, {r.processes} × python main.py, {r.concurrency} runs in all, {r.tenants} tenants'
        rows.append(Row('3', f'{label}: tenants/min', f'{r.per_minute:.0f} ({r.succeeded} ok)', f'ideal {ideal:.0f}',
                        x(r.per_minute / ideal)))
        rows.append(Row('3', '  CPU per tenant: ours (all processes) / ERPNext sandbox',
                        f'{ours:.0f} / {theirs:.0f} ms'))
    return rows


async def dashboard_runs(workdir: Path, sizes: Sizes):
    db = Database.from_url(f'sqlite:///{workdir / "dashboard.db"}')
    try:
        now = dashboard_scale.now_utc()
        seconds = await asyncio.to_thread(dashboard_scale.seed, db, tenants_n=sizes.tenants,
                                          runs_per_tenant=sizes.runs_per_tenant, now=now)
        tenant_id, run_id = sizes.tenants // 2, sizes.tenants * sizes.runs_per_tenant // 2
        calls = dashboard_scale.service_calls(db, tenant_id=tenant_id, run_id=run_id, since=now - timedelta(days=30))
        timings = await asyncio.to_thread(dashboard_scale.time_calls, calls, repeats=sizes.timing_repeats)
        timings += await dashboard_scale.time_routes(db, workdir, tenant_id=tenant_id, run_id=run_id,
                                                     repeats=sizes.timing_repeats)
        return timings, seconds
    finally:
        db.dispose()


def dashboard_rows(timings, seconds: float, sizes: Sizes) -> list[Row]:
    runs = sizes.tenants * sizes.runs_per_tenant
    rows = [Row('4', f'seeded {sizes.tenants:,} tenants, {runs:,} runs, {runs * 11:,} step rows', f'{seconds:.1f} s')]
    for t in timings:
        rows.append(Row('4', f'{t.via}: {t.name} p50 / p95', f'{t.p50 * 1000:.1f} / {t.p95 * 1000:.1f} ms',
                        f'≤ {t.target * 1000:.0f} ms', x(t.p95 / t.target), t.p95 <= t.target))
    return rows


def memory_rows(m: memory.Memory) -> list[Row]:
    return [
        Row('5', 'python main.py RSS idle', f'{m.idle_mb:.0f} MB', '≤ 300 MB', f'÷ floor {x(m.idle_mb / m.floor_mb)}',
            m.idle_mb <= memory.TARGET_MB),
        Row('5', f'python main.py RSS peak, {m.in_flight} runs in flight', f'{m.busy_mb:.0f} MB', '≤ 300 MB',
            f'÷ floor {x(m.busy_mb / m.floor_mb)}', m.busy_mb <= memory.TARGET_MB),
        Row('6', 'floor: a bare Python process with httpx', f'{m.floor_mb:.0f} MB'),
    ]


if __name__ == '__main__':
    main()
