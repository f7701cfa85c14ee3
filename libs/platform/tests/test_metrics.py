"""The metrics an on-call engineer alerts on move through the real parts that make them (cms_platform.metrics): the
RPC histogram by method and status code through a real server, the outbox age through a relay pass on a real broker,
the parked count through a consumer whose handler keeps failing, the lag from a real group's position, and a
background job's outcomes."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import grpc
import pytest
from prometheus_client import REGISTRY

from cms.calculation.v1 import calculation_service_pb2 as api
from cms.calculation.v1 import calculation_service_pb2_grpc as api_grpc
from cms.calculation.v1 import events_pb2
from cms.calculation.v1 import resources_pb2 as pb
from cms_devkit.testing import local_issuer, outbox_relay
from cms_platform import cloudevents, events, outbox
from cms_platform.consumer import IdempotentConsumer, Subscription
from cms_platform.errors import NotFound
from cms_platform.identity import IdentityVerifier, TrustedIssuer, staff_caller
from cms_platform.scheduling import PeriodicJob
from cms_platform.service import ensure_topics

THING = events_pb2.CalculationCreated
ISSUER = local_issuer()
IDENTITY = IdentityVerifier([TrustedIssuer.model_validate(ISSUER.trusted())], audience="test")


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class _Servicer(api_grpc.CalculationServiceServicer):
    def GetRuleSet(
        self, request: api.GetRuleSetRequest, context: grpc.ServicerContext
    ) -> pb.RuleSet:
        if request.name == "ruleSets/missing":
            raise NotFound("rule set", request.name)
        return pb.RuleSet(name=request.name)


def test_rpc_latency_is_recorded_by_method_and_status_code(serve_calculation):
    stub = serve_calculation(_Servicer(), IDENTITY)
    staff = (
        (
            "authorization",
            f"Bearer {ISSUER.mint(staff_caller('s-1', 'caseworker'), audience='test')}",
        ),
    )
    stub.GetRuleSet(api.GetRuleSetRequest(name="ruleSets/x"), metadata=staff)
    (method,) = {
        s.labels["method"]
        for m in REGISTRY.collect()
        if m.name == "cms_rpc_server_duration_seconds"
        for s in m.samples
        if s.labels.get("service") == "test" and s.labels["method"].endswith("GetRuleSet")
    }
    count = "cms_rpc_server_duration_seconds_count"
    ok, missing = (
        _value(count, service="test", method=method, code=c) for c in ("OK", "NOT_FOUND")
    )
    stub.GetRuleSet(api.GetRuleSetRequest(name="ruleSets/x"), metadata=staff)
    with pytest.raises(grpc.RpcError) as err:
        stub.GetRuleSet(api.GetRuleSetRequest(name="ruleSets/missing"), metadata=staff)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert _value(count, service="test", method=method, code="OK") == ok + 1
    assert _value(count, service="test", method=method, code="NOT_FOUND") == missing + 1


def test_the_outbox_age_is_the_oldest_unpublished_event_until_the_relay_publishes_it(
    sessions, clock, kafka_bootstrap
):
    service = f"age-{uuid.uuid4().hex[:8]}"
    topic = f"test.age.{uuid.uuid4().hex[:8]}"
    ensure_topics(kafka_bootstrap, [topic], partitions=1)
    with sessions.begin() as s:
        outbox.publish(
            s, clock=clock, topic=topic, key="cases/1", subject="cases/1", message=THING()
        )
    clock.advance(dt.timedelta(seconds=90))
    with sessions.begin() as s:
        outbox.publish(
            s, clock=clock, topic=topic, key="cases/2", subject="cases/2", message=THING()
        )
    relay = outbox_relay(sessions, clock, kafka_bootstrap, service=service)
    try:
        assert (
            relay.relay_once() == 2
        )  # measured at the start of the pass: the first event waited 90 s
        assert _value("cms_outbox_oldest_unpublished_age_seconds", service=service) == 90
        assert relay.relay_once() == 0
        assert _value("cms_outbox_oldest_unpublished_age_seconds", service=service) == 0
    finally:
        relay.stop()


def _parking_consumer(sessions, clock, service: str, group: str) -> IdempotentConsumer:
    def failing(s, event, envelope):
        raise ValueError("a rule the event breaks")

    return IdempotentConsumer(
        service=service,
        subscription=Subscription(group, {THING: failing}),
        bootstrap_servers="unused",
        sessions=sessions,
        clock=clock,
        max_attempts=1,
    )


def _record(clock) -> list[tuple[str, bytes]]:
    env = cloudevents.Envelope(
        id=str(uuid.uuid4()),
        type=events.event_type(THING),
        source="/cms/test",
        subject="cases/1",
        time=clock.now(),
        dataschema=THING.DESCRIPTOR.full_name,
        partitionkey="cases/1",
        data=b"",
    )
    return cloudevents.to_kafka_headers(env)


def test_an_event_parked_after_repeated_failures_is_counted_for_its_group(sessions, clock):
    service = f"parked-{uuid.uuid4().hex[:8]}"
    consumer = _parking_consumer(sessions, clock, service, "group-a")
    other = _parking_consumer(sessions, clock, service, "group-b")
    assert consumer.handle_record(_record(clock), b"cases/1", b"") == "parked"
    assert _value("cms_events_parked", service=service, group="group-a") == 1
    assert consumer.handle_record(_record(clock), b"cases/1", b"") == "parked"
    assert other.handle_record(_record(clock), b"cases/1", b"") == "parked"
    assert _value("cms_events_parked", service=service, group="group-a") == 2
    assert _value("cms_events_parked", service=service, group="group-b") == 1


def test_consumer_lag_is_the_end_of_each_partition_less_the_groups_position(
    sessions, clock, kafka_bootstrap
):
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition

    service, group = f"lag-{uuid.uuid4().hex[:8]}", f"lag-{uuid.uuid4().hex[:8]}"
    topic = f"test.lag.{uuid.uuid4().hex[:8]}"
    ensure_topics(kafka_bootstrap, [topic], partitions=2)
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    for i in range(5):
        producer.send(topic, value=b"x", partition=i % 2)
        producer.flush()  # a batch each: the local broker reports a log's end by its last batch's first record
    producer.close()
    ours = _parking_consumer(sessions, clock, service, group)
    reader = KafkaConsumer(
        bootstrap_servers=kafka_bootstrap, group_id=group, enable_auto_commit=False
    )
    try:
        parts = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
        reader.assign(parts)
        reader.seek_to_beginning(*parts)
        ours.observe_lag(reader)
        lag = [
            _value(
                "cms_consumer_lag_records", service=service, group=group, topic=topic, partition=p
            )
            for p in "01"
        ]
        assert lag == [3, 2]
        reader.seek(parts[0], 2)  # the group processed two of partition 0's three
        reader.assign(parts[:1])  # and partition 1 went to another member
        ours.observe_lag(reader)
        assert (
            _value(
                "cms_consumer_lag_records", service=service, group=group, topic=topic, partition="0"
            )
            == 1
        )
        assert (
            REGISTRY.get_sample_value(
                "cms_consumer_lag_records",
                {"service": service, "group": group, "topic": topic, "partition": "1"},
            )
            is None
        )
    finally:
        reader.close()


def test_a_background_jobs_passes_are_counted_by_outcome_with_the_last_success_time():
    name = f"job-{uuid.uuid4().hex[:8]}"
    outcomes = iter([RuntimeError("the database went away"), None])

    def run() -> None:
        failure = next(outcomes)
        if failure:
            raise failure

    job = PeriodicJob(name, 0, run)
    assert job.run_pass() is False
    assert _value("cms_scheduled_job_runs_total", job_name=name, outcome="failure") == 1
    assert _value("cms_scheduled_job_last_success_timestamp_seconds", job_name=name) == 0
    before = time.time()
    assert job.run_pass() is True
    assert _value("cms_scheduled_job_runs_total", job_name=name, outcome="success") == 1
    assert _value("cms_scheduled_job_last_success_timestamp_seconds", job_name=name) >= before


def test_the_outbox_age_grows_while_the_broker_is_away(sessions, clock):
    from cms_devkit.testing import wait_until
    from cms_platform.topics import BrokerView

    service = f"away-{uuid.uuid4().hex[:8]}"
    with sessions.begin() as s:
        outbox.publish(
            s, clock=clock, topic="test.away", key="cases/1", subject="cases/1", message=THING()
        )
    clock.advance(dt.timedelta(minutes=10))
    nowhere = (
        "127.0.0.1:9"  # nothing listens: every look at the broker fails before a row is claimed
    )
    relay = outbox_relay(
        sessions,
        clock,
        nowhere,
        service=service,
        broker=BrokerView(nowhere, client_id=service),
    )
    relay.start()
    try:
        wait_until(
            lambda: _value("cms_outbox_oldest_unpublished_age_seconds", service=service) == 600,
            timeout=60,
            what="the age measured after a failed pass",
        )
    finally:
        relay.stop()


def test_a_series_removed_and_recorded_again_starts_afresh_on_both_sides():
    """Metric keeps each labelled series once; removing it (a partition no longer assigned) must drop that copy
    too, or the next increments would go to a series the scrape no longer shows."""
    from cms_platform.metrics import counter

    recorded: list[tuple[float, dict]] = []
    metric = counter("cms_test_series_total", "a test series", ["group"])
    metric._record = lambda value, attributes: recorded.append((value, dict(attributes)))
    name = "cms_test_series_total"
    metric.labels("g").inc()
    assert metric.labels("g") is metric.labels("g")
    metric.labels("g").inc(2)
    assert _value(name, group="g") == 3
    metric.remove("g")
    assert REGISTRY.get_sample_value(name, {"group": "g"}) is None
    metric.labels("g").inc()
    assert _value(name, group="g") == 1
    metric.clear()
    metric.labels("g").inc(5)
    assert _value(name, group="g") == 5
    assert [v for v, _ in recorded] == [1, 2, 1, 5]
    assert all(a == {"group": "g"} for _, a in recorded)
