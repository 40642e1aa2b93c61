"""Monitoring: alerts and dashboards query only exported metrics, the rules pass
`promtool check rules` and `promtool test rules`, Alertmanager's config passes
`amtool check-config`, and the stack's settings hold the agreed numbers."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.unit.k8s.manifests import COMPONENTS, Doc, find, find_generated
from tests.unit.k8s.metric_names import (
    dashboard_exprs,
    declared_metrics,
    exposed_series,
    literal_metric_names,
    referenced_metrics,
)
from tests.unit.k8s.tools import ensure_tool

MONITORING = COMPONENTS / "monitoring"
METRICS_USED = MONITORING / "metrics-used.txt"
DASHBOARDS = sorted((MONITORING / "dashboards").glob("*.json"))
HELM_VALUES = MONITORING / "helm-values"
# Series of postgres_exporter (v0.16), the one third-party exporter the component deploys.
EXPORTER_SERIES = {
    "pg_up",
    "pg_replication_lag_seconds",
    "pg_stat_database_numbackends",
    "pg_stat_database_xact_commit",
}
ALERTMANAGER_SECRET_DIR = "/etc/alertmanager/secrets/packguard-alertmanager/"


def _rule(rendered: dict[str, list[Doc]]) -> Doc:
    return find(rendered["tests/monitoring"], "PrometheusRule", "packguard", "packguard")


def _rule_exprs(rendered: dict[str, list[Doc]]) -> list[str]:
    return [r["expr"] for g in _rule(rendered)["spec"]["groups"] for r in g["rules"]]


def _all_exprs(rendered: dict[str, list[Doc]]) -> list[str]:
    return _rule_exprs(rendered) + [e for board in DASHBOARDS for e in dashboard_exprs(board)]


def test_metric_scan_finds_every_metric_in_the_sources() -> None:
    declared = declared_metrics()
    assert len(declared) >= 15
    # The grep and the parse agree: no metric created through an unrecognised call.
    assert literal_metric_names() == set(declared)


def test_alerts_and_dashboards_query_only_exported_metrics(
    rendered: dict[str, list[Doc]],
) -> None:
    exposed = exposed_series(declared_metrics())
    for expr in _all_exprs(rendered):
        unknown = referenced_metrics(expr) - exposed - EXPORTER_SERIES
        assert not unknown, f"{sorted(unknown)} exported by nothing, in: {expr}"


def test_metric_reference_scan_catches_a_typo() -> None:
    exposed = exposed_series(declared_metrics())
    typo = "sum(rate(packguard_runner_task_total[5m])) by (outcome)"
    assert referenced_metrics(typo) - exposed == {"packguard_runner_task_total"}


def test_metrics_used_list_is_current(rendered: dict[str, list[Doc]]) -> None:
    used = sorted(
        {
            m
            for e in _all_exprs(rendered)
            for m in referenced_metrics(e)
            if m.startswith("packguard_")
        }
    )
    expected = "".join(f"{name}\n" for name in used)
    if os.environ.get("PACKGUARD_WRITE_METRICS_USED") == "1":
        METRICS_USED.write_text(expected)
    assert METRICS_USED.read_text() == expected, (
        "metrics-used.txt is stale: rerun with PACKGUARD_WRITE_METRICS_USED=1"
    )


def test_every_alert_from_the_issue_exists(rendered: dict[str, list[Doc]]) -> None:
    alerts = {r["alert"] for g in _rule(rendered)["spec"]["groups"] for r in g["rules"]}
    for word in (
        "QueueBacklog",
        "NoRunnersWhileWorkWaits",
        "DeadLetter",
        "ErrorRate",
        "AnalysisTimeouts",
        "ReplicationLag",
    ):
        assert any(word in alert for alert in alerts), word
    for group in _rule(rendered)["spec"]["groups"]:
        for rule in group["rules"]:
            assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]


@pytest.fixture(scope="module")
def promtool() -> str:
    return ensure_tool("promtool", "prometheus")


def _promtool(promtool: str, *args: str, cwd: Path) -> None:
    done = subprocess.run([promtool, *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"promtool {' '.join(args)}:\n{done.stdout}{done.stderr}"


def test_rules_pass_promtool_check_and_unit_tests(
    promtool: str, rendered: dict[str, list[Doc]], tmp_path: Path
) -> None:
    # promtool reads plain rule files: the rendered PrometheusRule's groups are one.
    groups = _rule(rendered)["spec"]["groups"]
    (tmp_path / "packguard.rules.yaml").write_text(yaml.safe_dump({"groups": groups}))
    for test_file in (MONITORING / "tests").glob("*.test.yaml"):
        shutil.copy(test_file, tmp_path / test_file.name)
    _promtool(promtool, "check", "rules", "packguard.rules.yaml", cwd=tmp_path)
    for test_file in sorted(tmp_path.glob("*.test.yaml")):
        _promtool(promtool, "test", "rules", test_file.name, cwd=tmp_path)


def test_dashboard_queries_are_valid_promql(promtool: str, tmp_path: Path) -> None:
    # Each panel query as a recording rule, so promtool's parser checks it.
    rules = []
    for board in DASHBOARDS:
        for index, expr in enumerate(dashboard_exprs(board)):
            concrete = expr.replace("$__rate_interval", "5m").replace("$runner_hourly_cost", "1")
            assert "$" not in concrete, f"{board.name}: unknown variable in {expr}"
            rules.append(
                {"record": f"dashboard:{board.stem.replace('-', '_')}:{index}", "expr": concrete}
            )
    (tmp_path / "dashboards.rules.yaml").write_text(
        yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]})
    )
    _promtool(promtool, "check", "rules", "dashboards.rules.yaml", cwd=tmp_path)


def test_dashboards_cover_api_queue_database_cost(rendered: dict[str, list[Doc]]) -> None:
    config_map = find_generated(
        rendered["tests/monitoring"], "ConfigMap", "packguard-dashboards", "monitoring"
    )
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    names = set(config_map["data"])
    assert names == {f"packguard-{n}.json" for n in ("api", "queue-workers", "database", "cost")}


@pytest.mark.parametrize("target", ["tests/monitoring", "overlays/prod", "overlays/staging"])
def test_everything_is_scraped_every_15_seconds(
    target: str, rendered: dict[str, list[Doc]]
) -> None:
    docs = rendered[target]
    gateway = find(docs, "ServiceMonitor", "gateway", "packguard")["spec"]
    assert [e["interval"] for e in gateway["endpoints"]] == ["15s"]
    for name, namespace in (("workers", "packguard"), ("runners", "packguard-sandbox")):
        monitor = find(docs, "PodMonitor", name, namespace)["spec"]
        assert [e["interval"] for e in monitor["podMetricsEndpoints"]] == ["15s"]


def _values(name: str) -> dict[str, object]:
    return dict(yaml.safe_load((HELM_VALUES / name).read_text()))


def test_prometheus_scrapes_15s_and_keeps_30_days() -> None:
    spec = _values("kube-prometheus-stack.yaml")["prometheus"]["prometheusSpec"]  # type: ignore[index]
    assert spec["scrapeInterval"] == "15s"
    assert spec["retention"] == "30d"
    for selector in ("serviceMonitor", "podMonitor", "rule"):
        assert spec[f"{selector}SelectorNilUsesHelmValues"] is False


def test_loki_keeps_30_days() -> None:
    loki = _values("loki.yaml")["loki"]
    assert loki["limits_config"]["retention_period"] == "720h"  # type: ignore[index]
    assert loki["compactor"]["retention_enabled"] is True  # type: ignore[index]


def test_alloy_ships_both_namespaces_to_loki(rendered: dict[str, list[Doc]]) -> None:
    config = find(rendered["tests/monitoring"], "ConfigMap", "alloy-packguard", "monitoring")
    pipeline = config["data"]["config.alloy"]
    assert '"packguard", "packguard-sandbox"' in pipeline
    assert "/loki/api/v1/push" in pipeline
    assert _values("alloy.yaml")["alloy"]["configMap"]["name"] == "alloy-packguard"  # type: ignore[index]


def test_alertmanager_routes_to_email_slack_pagerduty_with_secret_files(
    tmp_path: Path,
) -> None:
    stack = _values("kube-prometheus-stack.yaml")
    alertmanager = stack["alertmanager"]
    config = alertmanager["config"]  # type: ignore[index]
    receivers = {r["name"]: r for r in config["receivers"]}
    assert set(receivers) == {"email", "slack", "pagerduty"}
    credentials = [
        config["global"]["smtp_auth_password_file"],
        receivers["slack"]["slack_configs"][0]["api_url_file"],
        receivers["pagerduty"]["pagerduty_configs"][0]["routing_key_file"],
    ]
    assert all(path.startswith(ALERTMANAGER_SECRET_DIR) for path in credentials)
    assert alertmanager["alertmanagerSpec"]["secrets"] == ["packguard-alertmanager"]  # type: ignore[index]
    text = (HELM_VALUES / "kube-prometheus-stack.yaml").read_text()
    for literal in ("smtp_auth_password:", "api_url:", "routing_key:", "service_key:"):
        assert literal not in text, f"credential {literal} written inline"
    routes = {r["receiver"]: r["matchers"] for r in config["route"]["routes"]}
    assert routes["pagerduty"] == ['severity="critical"']
    assert re.search("warning", routes["slack"][0])

    amtool = ensure_tool("amtool", "prometheus-alertmanager")
    (tmp_path / "alertmanager.yaml").write_text(yaml.safe_dump(config))
    done = subprocess.run(
        [amtool, "check-config", "alertmanager.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
