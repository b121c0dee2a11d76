"""deploy/: the Prometheus rules mirror the in-process rules and pass promtool (when installed);
the Grafana dashboard only queries metrics the service exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from engine import metrics
from engine.alerting import RULES

DEPLOY = Path(__file__).resolve().parents[2] / 'deploy'
RULES_FILE = DEPLOY / 'prometheus-alerts.yml'
RULES_TESTS = DEPLOY / 'prometheus-alerts.test.yml'
DASHBOARD = DEPLOY / 'grafana-dashboard.json'
METRIC = re.compile(r'\bprovisioner_[a-z_]+')
needs_promtool = pytest.mark.skipif(shutil.which('promtool') is None,
                                    reason="promtool not installed (Debian's prometheus package)")


def exported_names() -> set[str]:
    """Series names of every metric engine/metrics.py defines (labelled ones have no sample until used)."""
    names = set()
    for metric in vars(metrics).values():
        if isinstance(metric, MetricWrapperBase):
            suffixes = {'counter': ['_total'], 'histogram': ['_bucket', '_count', '_sum']}.get(metric._type, [''])
            names.update(f'{metric._name}{suffix}' for suffix in suffixes)
    return names


def alert_rules() -> list[dict]:
    return [rule for group in yaml.safe_load(RULES_FILE.read_text())['groups'] for rule in group['rules']]


def dashboard_queries() -> list[str]:
    return [target['expr'] for panel in json.loads(DASHBOARD.read_text())['panels'] for target in panel['targets']]


def test_every_in_process_rule_has_a_prometheus_rule():
    assert sorted(rule['labels']['rule'] for rule in alert_rules()) == sorted(RULES)


def test_prometheus_rules_and_dashboard_query_only_exported_metrics():
    exported = exported_names()
    queried = {name for rule in alert_rules() for name in METRIC.findall(rule['expr'])}
    queried |= {name for expr in dashboard_queries() for name in METRIC.findall(expr)}
    assert queried and queried <= exported, queried - exported


def test_dashboard_has_success_rate_duration_and_error_panels():
    titles = [panel['title'].lower() for panel in json.loads(DASHBOARD.read_text())['panels']]
    assert any('success rate' in t for t in titles)
    assert any('duration' in t for t in titles)
    assert any('failure' in t or 'error' in t for t in titles)


@needs_promtool
def test_promtool_accepts_the_rules_and_their_unit_tests_pass():
    checked = subprocess.run(['promtool', 'check', 'rules', str(RULES_FILE)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run(['promtool', 'test', 'rules', RULES_TESTS.name], cwd=DEPLOY, capture_output=True, text=True)
    assert tested.returncode == 0, tested.stdout + tested.stderr


@needs_promtool
def test_promtool_parses_every_dashboard_query(tmp_path):
    records = [{'record': f'provisioner:dashboard_query_{n}', 'expr': expr.replace('$__range', '1h')}
               for n, expr in enumerate(dashboard_queries())]
    rules = tmp_path / 'dashboard-queries.yml'
    rules.write_text(yaml.safe_dump({'groups': [{'name': 'dashboard', 'rules': records}]}))
    checked = subprocess.run(['promtool', 'check', 'rules', str(rules)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
