"""Prometheus metrics (prometheus-client, default registry). Labels never hold a tenant, run or
user id: only step keys, outcomes, error categories and engine names, all bounded sets.

Defined here, in an imported module, so that re-executing main.py (NiceGUI's test fixtures do)
does not register them twice."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# Resolve a 50 ms step as well as a 5-minute run.
BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 180, 300, 450, 600, 1200, 1800)

RUNS = Counter('provisioner_runs_total', 'Provisioning runs that ended, by outcome.', ['outcome'])
RUN_DURATION = Histogram('provisioner_run_duration_seconds', 'Wall time of runs that ended.', buckets=BUCKETS)
STEP_DURATION = Histogram('provisioner_step_duration_seconds', 'Wall time of steps that ended.', ['step'],
                          buckets=BUCKETS)
STEP_FAILURES = Counter('provisioner_step_failures_total', 'Steps that failed, by category.', ['step', 'category'])
STEP_RETRIES = Counter('provisioner_step_retries_total', 'Extra attempts made by steps.', ['step'])
RUNS_IN_PROGRESS = Gauge('provisioner_runs_in_progress', 'Runs this process is executing.')
QUEUE_DEPTH = Gauge('provisioner_queue_depth', 'Runs waiting to be claimed (all processes).')
OLDEST_RUNNING_AGE = Gauge('provisioner_oldest_running_run_age_seconds',
                           'Age of the oldest RUNNING run (0 when none): compare with the stuck limit.')
ENGINE_UP = Gauge('provisioner_engine_up', 'Whether the engine answered its last health check.', ['engine'])


def step_finished(step: str, *, status: str, attempts: int, duration_s: float, category: str | None) -> None:
    STEP_DURATION.labels(step).observe(duration_s)
    if attempts > 1:
        STEP_RETRIES.labels(step).inc(attempts - 1)
    if status == 'FAILED':
        STEP_FAILURES.labels(step, category or 'critical').inc()


def run_finished(outcome: str, duration_s: float | None) -> None:
    RUNS.labels(outcome.lower()).inc()
    if duration_s is not None:
        RUN_DURATION.observe(duration_s)
