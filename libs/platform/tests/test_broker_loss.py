"""A broker that loses its data (restarted empty, as a replaced broker would be): the relay notices and publishes
again from its outbox, topics come back with their declared partitions, and consumers rejoin and read the new log
from the start, handling each event once (cms_platform.outbox, cms_platform.consumer, cms_platform.topics)."""

from __future__ import annotations

import socket
import uuid

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import select

from cms.calculation.v1 import events_pb2
from cms_devkit.testing import outbox_relay, read_topic, wait_until
from cms_platform import events, outbox
from cms_platform.consumer import IdempotentConsumer, Subscription
from cms_platform.metrics import BROKER_DATA_LOST
from cms_platform.models import OutboxEvent
from cms_platform.service import CmsService, ensure_topics
from cms_platform.settings import ServiceSettings
from cms_platform.topics import BrokerView

THING = events_pb2.CalculationCreated
TOPIC = events.topic_of(THING)


def _relay(sessions, clock, bootstrap: str) -> outbox.OutboxRelay:
    return outbox_relay(
        sessions,
        clock,
        bootstrap,
        poll_interval=0.05,
        broker=BrokerView(bootstrap, client_id="test-relay"),
        check_interval=0.5,
        own_topics=(TOPIC,),
    )


def _publish(sessions, clock, n: int, label: str) -> list[str]:
    with sessions.begin() as s:
        return [
            outbox.publish(
                s,
                clock=clock,
                key=f"cases/{label}-{i}",
                subject=f"cases/{label}-{i}",
                message=THING(case_reference=f"{label}-{i}"),
            ).event_id
            for i in range(n)
        ]


def _ids(bootstrap: str, expected: int) -> list[str]:
    return [
        dict(r.headers)["ce_id"].decode()
        for r in read_topic(bootstrap, TOPIC, expected=expected, timeout=30)
    ]


def _epochs(sessions) -> set[int | None]:
    with sessions() as s:
        return set(s.scalars(select(OutboxEvent.broker_epoch)))


def _lost() -> float:
    return sum(
        sample.value
        for metric in BROKER_DATA_LOST.collect()
        for sample in metric.samples
        if sample.name.endswith("_total") and sample.labels["service"] == "test"
    )


def test_a_relay_publishes_again_what_a_broker_restarted_empty_lost(
    sessions, clock, private_broker
):
    relay = _relay(sessions, clock, private_broker.bootstrap)
    relay.start()
    try:
        sent = _publish(sessions, clock, 5, "before")
        assert sorted(_ids(private_broker.bootstrap, 5)) == sorted(sent)
        lost = _lost()
        private_broker.restart()
        # Nothing new is published: the relay finds the loss on its own and sends the five again (read once it
        # has: a reader that came first would make the broker create the topic its own way).
        wait_until(lambda: _epochs(sessions) == {2}, timeout=30, what="the events sent again")
        assert sorted(_ids(private_broker.bootstrap, 5)) == sorted(sent)
        assert _lost() == lost + 1
        view = BrokerView(private_broker.bootstrap, client_id="test-check")
        assert view.describe([TOPIC])[TOPIC].partitions == events.partitions_of(TOPIC) == 6
        view.close()
        later = _publish(sessions, clock, 2, "after")
        assert sorted(_ids(private_broker.bootstrap, 7)) == sorted(sent + later)
    finally:
        relay.stop()


@pytest.mark.parametrize("restarts", [1, 2])
def test_a_consumer_handles_every_event_once_across_a_broker_restarted_empty(
    sessions, clock, private_broker, restarts
):
    applied: list[str] = []
    consumer = IdempotentConsumer(
        service="test",
        subscription=Subscription(
            f"loss-{uuid.uuid4().hex[:6]}",
            {THING: lambda s, event, envelope: applied.append(envelope.id)},
        ),
        bootstrap_servers=private_broker.bootstrap,
        sessions=sessions,
        clock=clock,
        session_timeout_ms=6000,
        heartbeat_interval_ms=2000,
        check_interval=0.5,
        rejoin_after=10,
    )
    relay = _relay(sessions, clock, private_broker.bootstrap)
    relay.start()
    consumer.start()
    try:
        first = _publish(sessions, clock, 4, "first")
        wait_until(lambda: len(applied) == 4, timeout=60, what="the first events")
        for _ in range(restarts):
            private_broker.restart()  # twice: in quick succession
        later = _publish(sessions, clock, 3, "later")
        wait_until(lambda: len(applied) >= 7, timeout=60, what="the events after the restart")
        # The old events came back on the new broker (the relay re-published them) and were skipped by id.
        assert len(set(_ids(private_broker.bootstrap, 7))) == 7
        assert sorted(applied) == sorted(first + later)
        assert consumer.healthy()
    finally:
        consumer.stop()
        relay.stop()


def _dead_address() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"  # closed again: nothing listens there


class _Listening(CmsService):
    """A service that only consumes."""

    name = "listening"

    def registrations(self):
        return []

    def subscriptions(self):
        return [Subscription("listening", {THING: lambda s, event, envelope: None})]


def test_a_consumer_that_makes_no_progress_makes_its_service_not_ready(database_url, clock):
    settings = ServiceSettings(
        environment="test",
        grpc_host="127.0.0.1",
        grpc_port=0,
        database_url=database_url("listening"),
        kafka_bootstrap_servers=_dead_address(),
        consumer_stall_after_seconds=1.0,
        consumer_rejoin_after_seconds=1.0,
        log_format="console",
    )
    service = _Listening(settings, clock=clock)
    port = service.start(migrate=False)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)

            def status():
                return health.Check(health_pb2.HealthCheckRequest(service=""), timeout=2).status

            wait_until(
                lambda: status() == health_pb2.HealthCheckResponse.NOT_SERVING,
                timeout=30,
                what="readiness to drop",
            )
            assert not service.consumers[0].healthy()
    finally:
        service.stop()


def test_a_relay_without_a_view_of_the_broker_finds_the_loss_in_its_acknowledgements(
    sessions, clock, private_broker
):
    """Offsets acknowledged at or below what the relay last had acknowledged mean a new log: what the old one held
    is queued again."""
    relay = outbox_relay(sessions, clock, private_broker.bootstrap)
    ensure_topics(private_broker.bootstrap, [TOPIC])
    try:
        sent = _publish(sessions, clock, 3, "before")
        assert relay.relay_once() == 3
        private_broker.restart()
        ensure_topics(private_broker.bootstrap, [TOPIC])
        later = _publish(
            sessions, clock, 1, "before"
        )  # the key of the first: a partition the relay marked

        def passes() -> bool:
            try:
                relay.relay_once()
            except Exception:  # noqa: BLE001 - the producer meets the new broker: the pass is retried
                relay._reset_producer()
            return _epochs(sessions) == {2}

        wait_until(passes, timeout=30, what="the lost events sent again")
        assert sorted(_ids(private_broker.bootstrap, 4)) == sorted(sent + later)
    finally:
        relay.stop()
