"""The benchmark harness still works: `python -m bench --quick` at tiny sizes (no figure is judged here;
performance is measured by `make bench`, never asserted in tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_benchmark_prints_its_table_and_raw_figures(tmp_path):
    out = tmp_path / 'figures.json'
    env = {k: v for k, v in os.environ.items() if not k.startswith(('PYTEST_', 'NICEGUI_', 'PROVISIONER_'))}
    done = subprocess.run([sys.executable, '-m', 'bench', '--quick', '--skip', 'memory', '--json', str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stderr[-3000:]
    for section in ('wall ÷ critical path', 'fresh: requests sent', 'tenants/min', 'ceiling of', 'metrics summary'):
        assert section in done.stdout, done.stdout
    figures = json.loads(out.read_text())
    [sample] = figures['overhead']
    assert 0 < sample['critical_path'] <= sample['wall'] and sample['floor'] > 0
    assert sum(sample['rerun'].values()) > 0 and not any(k.startswith(('POST', 'PUT')) for k in sample['rerun'])
    queue, slow = figures['throughput']
    assert queue['succeeded'] == queue['tenants'] == figures['sizes']['queue']
    assert slow['succeeded'] == slow['tenants'] == figures['sizes']['slow_queue']  # the single tenant not counted
    assert slow['slow_ms'] == figures['sizes']['slow_ms'] and slow['slow_single_wall'] > 0
    assert queue['traffic_first'] > 0 and queue['traffic_last'] > 0
    assert {t['via'] for t in figures['dashboard']} == {'service', 'HTTP'}
