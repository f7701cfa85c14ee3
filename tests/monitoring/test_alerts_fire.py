"""The alerts fire when they should and stay quiet otherwise, by Prometheus's own rule evaluator (`promtool test
rules`) over series shaped as the services export them; and the dashboards' queries are valid PromQL. Needs promtool
(Debian's `prometheus` package, which `make venv` fetches); skipped without it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from cms_devkit.testing import promtool

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "deploy/components/monitoring"
PROMTOOL = promtool()

pytestmark = pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed")

POD = 'namespace="cms", pod="casework-1"'


def _alert(name: str, labels: dict, summary: str, description: str) -> dict:
    return {
        "exp_labels": labels,
        "exp_annotations": {
            "summary": summary,
            "description": description,
            "runbook_url": f"RUNBOOK#{name.lower()}",
        },
    }


# Each: input series (one sample a minute) and the alerts expected at given times (none = quiet).
CASES = [
    {
        "interval": "1m",
        "input_series": [
            {
                "series": f'cms_events_parked{{{POD}, service="casework", group="casework-feeds"}}',
                "values": "0 0 1x30",
            },
        ],
        "alert_rule_test": [
            {
                "eval_time": "5m",
                "alertname": "CmsEventsParked",
                "exp_alerts": [],
            },  # parked for 3 minutes only
            {
                "eval_time": "10m",
                "alertname": "CmsEventsParked",
                "exp_alerts": [
                    _alert(
                        "CmsEventsParked",
                        {
                            "severity": "warning",
                            "namespace": "cms",
                            "service": "casework",
                            "group": "casework-feeds",
                        },
                        "casework: 1 events parked by casework-feeds",
                        "Events whose handler kept failing wait for an operator to retry or discard them.",
                    )
                ],
            },
        ],
    },
    {
        "interval": "1m",
        "input_series": [
            # The oldest event waits longer each minute: over 300 s from minute 6, for 5 minutes from minute 11.
            {
                "series": f'cms_outbox_oldest_unpublished_age_seconds{{{POD}, service="casework"}}',
                "values": "0+60x20",
            },
        ],
        "alert_rule_test": [
            {"eval_time": "9m", "alertname": "CmsOutboxEventsWaiting", "exp_alerts": []},
            {
                "eval_time": "12m",
                "alertname": "CmsOutboxEventsWaiting",
                "exp_alerts": [
                    _alert(
                        "CmsOutboxEventsWaiting",
                        {"severity": "critical", "namespace": "cms", "service": "casework"},
                        "casework: events wait in the outbox",
                        "The oldest event not on the broker was recorded 12m 0s ago.",
                    )
                ],
            },
        ],
    },
    {
        "interval": "1m",
        "input_series": [
            # 100 good calls a minute; from then on, 10 INTERNAL a minute too: 1 in 11 fails, far over 0.1%.
            {
                "series": f'cms_rpc_handled_total{{{POD}, service="casework", method="/m", code="OK"}}',
                "values": "0+100x120",
            },
            {
                "series": f'cms_rpc_handled_total{{{POD}, service="casework", method="/m", code="INTERNAL"}}',
                "values": "0+10x120",
            },
            # Refusals of bad requests are the caller's: they spend no budget.
            {
                "series": f'cms_rpc_handled_total{{{POD}, service="calculation", method="/m", code="INVALID_ARGUMENT"}}',
                "values": "0+50x120",
            },
            {
                "series": f'cms_rpc_handled_total{{{POD}, service="calculation", method="/m", code="OK"}}',
                "values": "0+50x120",
            },
        ],
        "alert_rule_test": [
            {
                "eval_time": "90m",
                "alertname": "CmsRpcErrorBudgetBurn",
                "exp_alerts": [
                    _alert(
                        "CmsRpcErrorBudgetBurn",
                        {"severity": "critical", "namespace": "cms", "service": "casework"},
                        "casework: server errors burning the 30-day error budget fast",
                        "Server errors at 9.091% of calls: the month's budget goes in days.",
                    ),
                    _alert(
                        "CmsRpcErrorBudgetBurn",
                        {"severity": "warning", "namespace": "cms", "service": "casework"},
                        "casework: server errors burning the 30-day error budget",
                        "Server errors at 9.091% of calls for days: above the SLO.",
                    ),
                ],
            },
        ],
    },
    {
        "interval": "5m",
        "input_series": [
            {
                "series": 'cms_casework_applications_past_six_weeks{namespace="cms", pod="casework-1"}',
                "values": "0 0 3x30",
            },
        ],
        "alert_rule_test": [
            {"eval_time": "30m", "alertname": "CmsSixWeekTargetAtRisk", "exp_alerts": []},
            {
                "eval_time": "80m",
                "alertname": "CmsSixWeekTargetAtRisk",
                "exp_alerts": [
                    _alert(
                        "CmsSixWeekTargetAtRisk",
                        {
                            "severity": "warning",
                            "signal": "applications-waiting",
                            "namespace": "cms",
                        },
                        "3 applications are past six weeks without a first calculation",
                        "Each counts against the 80% target when it is calculated; look at what holds them.",
                    )
                ],
            },
        ],
    },
    {
        "interval": "1m",
        "input_series": [
            {
                "series": f'cms_scheduled_job_runs_total{{{POD}, job_name="casework-scheduler", outcome="failure"}}',
                "values": "0+1x60",
            },
            {
                "series": f'cms_scheduled_job_runs_total{{{POD}, job_name="hmrc-feeds", outcome="failure"}}',
                "values": "0+1x60",
            },
            {
                "series": f'cms_scheduled_job_runs_total{{{POD}, job_name="hmrc-feeds", outcome="success"}}',
                "values": "0+1x60",
            },
        ],
        "alert_rule_test": [
            {
                "eval_time": "45m",
                "alertname": "CmsScheduledJobFailing",
                "exp_alerts": [  # hmrc-feeds fails now and then but also succeeds: not failing
                    _alert(
                        "CmsScheduledJobFailing",
                        {
                            "severity": "warning",
                            "namespace": "cms",
                            "job_name": "casework-scheduler",
                        },
                        "Background job casework-scheduler fails on every pass",
                        "Its passes failed and none succeeded in the last 30 minutes.",
                    )
                ],
            },
        ],
    },
]


def test_the_alerts_fire_on_what_they_watch_and_not_otherwise(tmp_path):
    rules = yaml.safe_load((MONITORING / "prometheus-rules.yaml").read_text())
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": rules["spec"]["groups"]}))
    (tmp_path / "test.yaml").write_text(
        yaml.safe_dump({"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": CASES})
    )
    done = subprocess.run(
        [PROMTOOL, "test", "rules", "test.yaml"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_dashboards_queries_are_valid_promql(tmp_path):
    exprs = [
        target["expr"].replace("$namespace", "cms")
        for path in sorted((MONITORING / "dashboards").glob("*.json"))
        for panel in json.loads(path.read_text())["panels"]
        for target in panel.get("targets", [])
    ]
    assert exprs
    as_rules = [{"record": f"dashboard:query{i}", "expr": e} for i, e in enumerate(exprs)]
    (tmp_path / "queries.yaml").write_text(
        yaml.safe_dump({"groups": [{"name": "q", "rules": as_rules}]})
    )
    done = subprocess.run(
        [PROMTOOL, "check", "rules", "queries.yaml"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
