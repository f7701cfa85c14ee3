"""The fault suite's bounded run (`make faults` runs the full one, docs/runbook.md): the five services as separate
processes on a private PostgreSQL server and a Tansu broker, a small workload through gRPC, casework SIGKILLed, the
broker restarted empty and dwp-gateway SIGKILLed while it runs; nothing acknowledged may be lost or happen twice, and everything must be found
within 60 s of the workload's end."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaProducer

from cms_devkit import faults, infra
from cms_platform.service import ensure_topics

pytestmark = pytest.mark.faults


@pytest.fixture
def postgres_restartable() -> None:
    if os.environ.get("CMS_TEST_DATABASE") == "sqlite":
        pytest.skip("a private PostgreSQL server: run by the PostgreSQL suite")
    if not sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        pytest.skip("no PostgreSQL binaries to run a private server")


def test_a_restarted_tansu_is_empty_on_the_same_port():
    broker = infra.start_tansu()
    try:
        ensure_topics(broker.bootstrap, ["faults.probe"])
        producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
        producer.send("faults.probe", b"x").get(10)
        producer.close()
        before = broker.proc.pid if broker.proc else None
        broker.restart()
        assert broker.proc is not None and broker.proc.pid != before
        admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
        try:
            assert "faults.probe" not in admin.list_topics()
        finally:
            admin.close()
    finally:
        broker.stop()


def test_no_effect_is_lost_or_doubled_across_service_kills(postgres_restartable, tmp_path):
    """casework SIGKILLed, the broker restarted empty (twice) and dwp-gateway SIGKILLed, under load: the faults that
    found the last losses (a group left reading 4 of a recreated topic's 6 partitions)."""
    lines: list[str] = []
    outcome = faults.run(
        [faults.kill_service("casework"), faults.broker_loss(), faults.kill_service("dwp-gateway")],
        min_families=6,
        workers=2,
        settle=2.0,
        var=tmp_path,
        keep=True,
        log=lines.append,
    )
    report = outcome.markdown("bounded fault run") + "\n" + "\n".join(lines)
    assert [i.label for i in outcome.injected] == [
        "SIGKILL casework, restarted",
        "broker SIGKILLed and restarted empty, twice 3 s apart",
        "SIGKILL dwp-gateway, restarted",
    ], report
    failures = outcome.failures
    assert not failures, report
