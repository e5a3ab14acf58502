"""The Prometheus rules, the sample configuration and the Grafana dashboard in
docker/prometheus/, checked by Debian's real promtool and against what /metrics exports.

promtool checks the rules and the configuration and runs the unit tests of every
alert (docker/prometheus/tests/alerts.test.yml). Every metric the rules and the
dashboard name must be one ringtest exports or records, so a renamed metric
breaks this test, not a council's alerting.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from prometheus_client import generate_latest

from ami_listener.obligations import CallbackLedger
from ami_listener.pipeline import CallPipeline
from ami_listener.stats import ListenerStats
from ami_listener.tracker import CallTracker
from ringtest.config.adapters import monitored_lines_by_pbx
from ringtest.core.standards import Standards
from ringtest.lab.settings import lab_lines, lab_settings
from ringtest.store import Store
from ringtest.web.metrics import build_metrics

PROMETHEUS_DIR = Path(__file__).resolve().parents[2] / "docker" / "prometheus"
RULE_FILES = ("recording.rules.yml", "alerts.rules.yml")
DASHBOARD = PROMETHEUS_DIR / "grafana" / "ringtest-dashboard.json"
GRAFANA_VARIABLES = {
    "$__range": "1h",
    "$__rate_interval": "1m",
    "$department": ".*",
    "$pbx": ".*",
}
"""What Grafana puts in place of its variables, for checking a query with promtool."""
METRIC_NAME = re.compile(r"\b((?:[a-z_]+:)?ringtest_[a-z_]+(?::[a-z0-9_]+)?)\b")
PROMETHEUS_OWN = {"up"}


def promtool(*arguments: str, cwd: Path = PROMETHEUS_DIR) -> subprocess.CompletedProcess:
    executable = shutil.which("promtool")
    if executable is None:
        pytest.fail("promtool not found: apt-get install prometheus (scripts/system-deps)")
    return subprocess.run(
        [executable, *arguments], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def rules(name: str) -> list[dict]:
    document = yaml.safe_load((PROMETHEUS_DIR / name).read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def dashboard_queries() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel["targets"]]


def exported_names(tmp_path: Path) -> set[str]:
    """Every sample name /metrics exposes, with a listener watched."""
    standards = Standards()
    pipeline = CallPipeline(CallTracker("lab", lab_lines(), standards), CallbackLedger(standards))
    stats = ListenerStats(pipeline)
    stats.clock_offset_seconds = 0.25
    with Store.open(f"sqlite:///{tmp_path / 'ringtest.db'}") as store:
        metrics = build_metrics(
            standards,
            store,
            monitored_lines_by_pbx(lab_settings()),
            listener_stats=stats,
            clock=lambda: datetime(2026, 11, 30, 10, tzinfo=UTC),
        )
        metrics.subscriber.ring_seconds.labels("lab", "live", "Housing", "answered").observe(4)
        text = generate_latest(metrics.registry).decode()
    names = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line[:1] != "#"}
    families = {line.split(" ")[2] for line in text.splitlines() if line.startswith("# TYPE")}
    return names | families


def test_promtool_checks_the_rules():
    checked = promtool("check", "rules", *RULE_FILES)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 6 rules found" in checked.stdout


def test_promtool_unit_tests_of_the_alerts_pass():
    tested = promtool("test", "rules", "tests/alerts.test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_every_alert_has_a_unit_test_that_fires_it_and_one_that_does_not():
    alerts = {rule["alert"] for rule in rules("alerts.rules.yml")}
    document = yaml.safe_load((PROMETHEUS_DIR / "tests" / "alerts.test.yml").read_text())
    cases = [case for test in document["tests"] for case in test.get("alert_rule_test", [])]
    fired = {case["alertname"] for case in cases if case["exp_alerts"]}
    quiet = {case["alertname"] for case in cases if not case["exp_alerts"]}
    assert alerts == fired == quiet


def test_the_sample_configuration_loads_the_rules():
    checked = promtool("check", "config", "prometheus.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 2 rule files found" in checked.stdout


def test_every_dashboard_query_is_valid_promql(tmp_path):
    queries = dashboard_queries()
    records = []
    for number, query in enumerate(queries):
        for variable, value in GRAFANA_VARIABLES.items():
            query = query.replace(variable, value)
        records.append({"record": f"dashboard:query_{number}", "expr": query})
    rule_file = tmp_path / "dashboard.rules.yml"
    rule_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": records}]}))
    checked = promtool("check", "rules", str(rule_file))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(queries)} rules found" in checked.stdout


def test_rules_and_dashboard_name_only_metrics_ringtest_exports_or_records(tmp_path):
    recorded = {rule["record"] for rule in rules("recording.rules.yml")}
    known = exported_names(tmp_path) | recorded
    expressions = [rule["expr"] for name in RULE_FILES for rule in rules(name)]
    named = {
        name for expr in [*expressions, *dashboard_queries()] for name in METRIC_NAME.findall(expr)
    }
    assert named, "the regular expression finds the metric names"
    assert named - known == set()
    used = {"ringtest_listener_connected", "ringtest_opening_hours", "ringtest_callbacks_overdue"}
    assert used <= named
