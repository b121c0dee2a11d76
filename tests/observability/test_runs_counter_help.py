"""QA pass 9, finding 8: /metrics showed provisioner_runs_total{outcome="failed"} 2 beside a summary of
0 failed runs. Both are right (executions since the process started vs each run by its outcome now),
and the counter's HELP says so, so that an operator does not take one of them for wrong."""

from __future__ import annotations

from prometheus_client import generate_latest

import engine.metrics  # noqa: F401  (registers the metrics)


def test_the_runs_counter_says_what_it_counts_and_how_it_differs_from_the_summary() -> None:
    text = generate_latest().decode()

    [help_line] = [line for line in text.splitlines() if line.startswith('# HELP provisioner_runs_total ')]
    assert 'since it started' in help_line and 'counts once failed and once succeeded' in help_line
    assert 'summary and provisioner_runs_finished count each run once' in help_line
    assert help_line.endswith('both are right.')
