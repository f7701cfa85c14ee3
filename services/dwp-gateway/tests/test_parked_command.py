"""`cms-dwp-gateway parked ...` against the service's own database and subscription: a CaseCalculated notice whose
payload cannot be read is parked by the service's consumer; the command lists it, shows it without the broker and
discards it with the operator's name (docs/runbook.md, "Parked events")."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import structlog

from cms.casework.v1 import events_pb2 as casework_events
from cms_dwp_gateway.app import DwpGatewayService, main
from cms_platform import cloudevents, events
from cms_platform.consumer import IdempotentConsumer
from cms_platform.settings import ServiceSettings


@pytest.fixture
def dwp_env(monkeypatch, database_url, clock) -> Iterator[DwpGatewayService]:
    """The service as its pod's environment describes it (the command reads the same), migrated."""
    monkeypatch.setenv("DWP_GATEWAY_DATABASE_URL", database_url("dwp-gateway"))
    monkeypatch.setenv("DWP_GATEWAY_NOTICES_CONSUMER_GROUP", f"dwp-notices-{uuid.uuid4().hex[:8]}")
    monkeypatch.setenv("DWP_GATEWAY_LOG_FORMAT", "console")
    settings: ServiceSettings = DwpGatewayService.settings_class()
    service = DwpGatewayService(settings, clock=clock)
    service.migrate()
    # The command configures the process's logging, as a service does: put back this process's afterwards.
    logging_was = structlog.get_config()
    yield service
    structlog.configure(**logging_was)
    structlog.contextvars.unbind_contextvars("service")
    service.engine.dispose()


def test_a_poison_notice_parked_by_the_service_is_listed_and_discarded_by_its_command(
    dwp_env, clock, capsys
):
    (subscription,) = dwp_env.subscriptions()
    consumer = IdempotentConsumer(
        service="dwp-gateway",
        subscription=subscription,
        bootstrap_servers="unused",
        sessions=dwp_env.sessions,
        clock=clock,
        max_attempts=1,
    )
    event_id = str(uuid.uuid4())
    poison = cloudevents.Envelope(
        id=event_id,
        type=events.event_type(casework_events.CaseCalculated),
        source="/cms/casework",
        subject="cases/c-1",
        time=clock.now(),
        dataschema=casework_events.CaseCalculated.DESCRIPTOR.full_name,
        partitionkey="cases/c-1",
        data=b"\xff\xff not protobuf",
    )
    assert (
        consumer.handle_record(cloudevents.to_kafka_headers(poison), b"cases/c-1", poison.data)
        == "parked"
    )
    capsys.readouterr()

    assert main(["parked", "list"]) == 0
    listed = capsys.readouterr().out
    assert event_id in listed and subscription.group_id in listed and "1 event(s)" in listed

    assert main(["parked", "inspect", event_id, "--no-broker"]) == 0
    assert '"outcome": "parked"' in capsys.readouterr().out

    assert (
        main(
            [
                "parked",
                "discard",
                event_id,
                "--operator",
                "oncall-7",
                "--reason",
                "a malformed notice",
            ]
        )
        == 0
    )
    assert main(["parked", "list"]) == 0
    assert "0 event(s)" in capsys.readouterr().out
    assert main(["parked", "inspect", event_id, "--no-broker"]) == 0
    shown = capsys.readouterr().out
    assert '"outcome": "discarded"' in shown and "by oncall-7: a malformed notice" in shown
    assert (
        main(["parked", "retry", event_id, "--operator", "oncall-7"]) == 1
    )  # discarded: nothing to retry
