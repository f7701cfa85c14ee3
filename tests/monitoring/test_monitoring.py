"""The monitoring component (deploy/components/monitoring) against what it depends on: every alert links to a section
of docs/runbook.md, every metric a rule or dashboard reads is one the services export, every recording rule read is
defined, every service has its PodMonitor and dashboard, and, where promtool is installed, Prometheus accepts the
rules."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY

# The services' apps: importing them registers every metric the services export.
import cms_calculation.app  # noqa: F401
import cms_casework.app  # noqa: F401
import cms_cra_gateway.app  # noqa: F401
import cms_dwp_gateway.app  # noqa: F401
import cms_hmrc_gateway.app  # noqa: F401
from cms_devkit.testing import promtool

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "deploy/components/monitoring"
SERVICES = ["calculation", "casework", "hmrc-gateway", "dwp-gateway", "cra-gateway"]
# Metrics Prometheus makes itself rather than the services.
PROMETHEUS_OWN = {"up"}


def _rules() -> dict:
    return yaml.safe_load((MONITORING / "prometheus-rules.yaml").read_text())


def _alerts() -> list[dict]:
    return [r for g in _rules()["spec"]["groups"] for r in g["rules"] if "alert" in r]


def _dashboards() -> dict[str, dict]:
    return {
        p.name: json.loads(p.read_text())
        for p in sorted((MONITORING / "dashboards").glob("*.json"))
    }


def _dashboard_exprs() -> list[str]:
    def walk(panels: list[dict]) -> list[str]:
        out = []
        for p in panels:
            out += [t["expr"] for t in p.get("targets", []) if "expr" in t]
            out += walk(p.get("panels", []))
        return out

    return [e for d in _dashboards().values() for e in walk(d["panels"])]


def _rule_exprs() -> list[str]:
    return [r["expr"] for g in _rules()["spec"]["groups"] for r in g["rules"]]


def _slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _exported() -> set[str]:
    """Every series name the services can expose: a counter's _total, a histogram's _bucket/_count/_sum."""
    names: set[str] = set()
    for family in REGISTRY.collect():
        if family.type == "counter":
            names |= {f"{family.name}_total"}
        elif family.type == "histogram":
            names |= {f"{family.name}_{s}" for s in ("bucket", "count", "sum")}
        else:
            names.add(family.name)
    return names


def test_every_alert_links_its_runbook_section_and_says_what_it_means():
    headings = {
        _slug(line.lstrip("#"))
        for line in (ROOT / "docs/runbook.md").read_text().splitlines()
        if line.startswith("#")
    }
    alerts = _alerts()
    assert alerts
    for alert in alerts:
        annotations = alert.get("annotations", {})
        base, _, anchor = annotations.get("runbook_url", "").partition("#")
        # The base is replaced at render time by runbook-url.yaml's address (kustomization.yaml, replacements).
        assert base == "RUNBOOK" and anchor == alert["alert"].lower(), alert["alert"]
        assert anchor in headings, f"{alert['alert']}: no section #{anchor} in docs/runbook.md"
        assert annotations.get("summary") and annotations.get("description"), alert["alert"]
        assert alert.get("labels", {}).get("severity") in {"critical", "warning"}, alert["alert"]


def test_the_alerts_cover_what_on_call_needs():
    names = {a["alert"] for a in _alerts()}
    assert {
        "CmsRpcErrorBudgetBurn",
        "CmsRpcLatencyBudgetBurn",
        "CmsOutboxEventsWaiting",
        "CmsConsumerLagHigh",
        "CmsEventsParked",
        "CmsScheduledJobFailing",
        "CmsSixWeekTargetAtRisk",
    } <= names


def test_every_metric_the_rules_and_dashboards_read_is_exported():
    exported = _exported()
    used: dict[str, set[str]] = {}
    for where, exprs in (("rules", _rule_exprs()), ("dashboards", _dashboard_exprs())):
        for expr in exprs:
            for name in re.findall(r"\b(cms_[a-z0-9_]+)\b", expr):
                used.setdefault(name, set()).add(where)
    assert used
    missing = {name: sorted(where) for name, where in used.items() if name not in exported}
    assert not missing, f"not exported by any service: {missing}"


def test_every_recording_rule_read_is_defined():
    defined = {r["record"] for g in _rules()["spec"]["groups"] for r in g["rules"] if "record" in r}
    read = {
        name
        for expr in _rule_exprs() + _dashboard_exprs()
        for name in re.findall(r"\bcms:[a-z0-9_:]+", expr)
    }
    assert read and read <= defined, sorted(read - defined)
    bare = {
        name
        for expr in _rule_exprs() + _dashboard_exprs()
        for name in re.findall(r"(?<![\w:])([a-z_][a-z0-9_]*)\s*(?:\{|\[)", expr)
        if not name.startswith("cms_")
    }
    assert bare <= PROMETHEUS_OWN, (
        f"series the services do not export: {sorted(bare - PROMETHEUS_OWN)}"
    )


def test_every_service_has_its_pod_monitor_and_dashboard_and_the_component_ships_them_all():
    monitors = [d for d in yaml.safe_load_all((MONITORING / "pod-monitors.yaml").read_text()) if d]
    by_service = {
        m["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]: m for m in monitors
    }
    assert sorted(by_service) == sorted(SERVICES)
    for m in by_service.values():
        assert [e["port"] for e in m["spec"]["podMetricsEndpoints"]] == ["metrics"]
    dashboards = _dashboards()
    assert set(dashboards) == {"cms-overview.json", *(f"cms-{s}.json" for s in SERVICES)}
    assert len({d["uid"] for d in dashboards.values()}) == len(dashboards)
    kustomization = yaml.safe_load((MONITORING / "kustomization.yaml").read_text())
    (generator,) = kustomization["configMapGenerator"]
    assert sorted(generator["files"]) == sorted(f"dashboards/{n}" for n in dashboards)
    assert generator["options"]["labels"] == {"grafana_dashboard": "1"}
    prod = yaml.safe_load((ROOT / "deploy/overlays/prod/kustomization.yaml").read_text())
    assert "../../components/monitoring" in prod["components"]


def test_every_service_port_named_metrics_is_the_one_the_pod_monitors_scrape():
    for svc in SERVICES:
        docs = [d for d in yaml.safe_load_all((ROOT / f"deploy/base/{svc}.yaml").read_text()) if d]
        (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
        ports = {
            p["name"]: p["containerPort"]
            for p in deployment["spec"]["template"]["spec"]["containers"][0]["ports"]
        }
        assert ports["metrics"] == 9464, svc


@pytest.mark.skipif(promtool() is None, reason="promtool is not installed")
def test_prometheus_accepts_the_rules(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(yaml.safe_dump({"groups": _rules()["spec"]["groups"]}))
    done = subprocess.run(
        [str(promtool()), "check", "rules", str(rules)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
