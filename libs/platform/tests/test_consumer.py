"""The idempotent consumer against a real database (cms_platform.consumer)."""

from __future__ import annotations

import threading
import uuid
from types import SimpleNamespace

import pytest
from sqlalchemy import event, select

from cms.calculation.v1 import events_pb2
from cms_devkit.testing import outbox_relay
from cms_platform import cloudevents, events
from cms_platform.consumer import ConsumerStopping, IdempotentConsumer, Subscription
from cms_platform.db import Base, make_engine, make_sessionmaker
from cms_platform.metrics import EVENTS_UNHANDLED
from cms_platform.models import PLATFORM_TABLES, ProcessedEvent

# A real event message of the contracts (its type declared there), sent to a topic of the test's own.
THING = events_pb2.CalculationCreated
THING_HAPPENED = events.event_type(THING)


def test_a_redelivered_event_has_no_second_effect(sessions, clock):
    applied = []
    sub = Subscription(
        "test-group", {THING: lambda s, event, envelope: applied.append(envelope.id)}
    )
    consumer = IdempotentConsumer(
        service="test", subscription=sub, bootstrap_servers="unused", sessions=sessions, clock=clock
    )
    env = cloudevents.Envelope(
        id=str(uuid.uuid4()),
        type=THING_HAPPENED,
        source="/cms/test",
        subject="cases/1",
        time=clock.now(),
        dataschema=THING.DESCRIPTOR.full_name,
        partitionkey="cases/1",
        data=b"",
    )
    headers = cloudevents.to_kafka_headers(env)
    assert consumer.handle_record(headers, b"cases/1", b"") == "handled"
    assert consumer.handle_record(headers, b"cases/1", b"") == "duplicate"
    assert applied == [env.id]


def test_a_handler_that_keeps_failing_parks_the_event_with_nothing_half_written(sessions, clock):
    def failing(s, event, e):
        s.add(
            ProcessedEvent(
                consumer_group="side-effect",
                event_id=e.id,
                event_type="x",
                processed_at=clock.now(),
                outcome="handled",
            )
        )
        raise ValueError("downstream rule broken")

    sub = Subscription("test-group", {THING: failing})
    consumer = IdempotentConsumer(
        service="test",
        subscription=sub,
        bootstrap_servers="unused",
        sessions=sessions,
        clock=clock,
        max_attempts=2,
    )
    env = cloudevents.Envelope(
        id=str(uuid.uuid4()),
        type=THING_HAPPENED,
        source="/cms/test",
        subject="cases/1",
        time=clock.now(),
        dataschema="x",
        partitionkey="cases/1",
        data=b"",
    )
    assert consumer.handle_record(cloudevents.to_kafka_headers(env), b"cases/1", b"") == "parked"
    with sessions() as s:
        rows = s.scalars(select(ProcessedEvent)).all()
    assert [(r.consumer_group, r.outcome) for r in rows] == [("test-group", "parked")]
    assert "downstream rule broken" in rows[0].error


def test_a_record_that_is_not_a_cloudevent_is_skipped(sessions, clock):
    sub = Subscription("g", {})
    consumer = IdempotentConsumer(
        service="test", subscription=sub, bootstrap_servers="unused", sessions=sessions, clock=clock
    )
    assert consumer.handle_record([("foo", b"bar")], None, b"junk") == "malformed"


def _envelope(clock, event_type: str, data: bytes = b"") -> cloudevents.Envelope:
    return cloudevents.Envelope(
        id=str(uuid.uuid4()),
        type=event_type,
        source="/cms/test",
        subject="cases/1",
        time=clock.now(),
        dataschema="x",
        partitionkey="cases/1",
        data=data,
    )


def test_a_handler_receives_the_event_parsed_as_its_declared_message(sessions, clock):
    seen = []
    sub = Subscription("test-group", {THING: lambda s, event, envelope: seen.append(event)})
    consumer = IdempotentConsumer(
        service="test", subscription=sub, bootstrap_servers="unused", sessions=sessions, clock=clock
    )
    env = _envelope(clock, THING_HAPPENED, THING(case_reference="case-9").SerializeToString())
    assert (
        consumer.handle_record(cloudevents.to_kafka_headers(env), b"cases/1", env.data) == "handled"
    )
    assert [type(e) for e in seen] == [THING] and seen[0].case_reference == "case-9"
    assert sub.topics == (events.topic_of(THING),)


def test_an_event_type_nobody_handles_is_counted_logged_once_and_not_written(
    sessions, clock, capsys
):
    sub = Subscription("unhandled-group", {THING: lambda s, event, envelope: None})
    consumer = IdempotentConsumer(
        service="test", subscription=sub, bootstrap_servers="unused", sessions=sessions, clock=clock
    )
    counter = EVENTS_UNHANDLED.labels("test", "unhandled-group", "uk.gov.cms.test.unknown.v1")
    before = counter._value.get()
    for _ in range(3):
        env = _envelope(clock, "uk.gov.cms.test.unknown.v1")
        outcome = consumer.handle_record(cloudevents.to_kafka_headers(env), b"cases/1", b"")
        assert outcome == "ignored"
    assert counter._value.get() == before + 3
    logged = capsys.readouterr()
    assert (logged.out + logged.err).count("event type has no handler") == 1
    with sessions() as s:
        outcomes = s.scalars(
            select(ProcessedEvent.outcome).where(ProcessedEvent.consumer_group == "unhandled-group")
        ).all()
    assert outcomes == []  # nothing to guard against a second effect: no write for each such event


def test_a_subscription_refuses_a_message_that_is_not_an_event():
    from cms.common.v1 import types_pb2 as common

    with pytest.raises(events.NotAnEvent):
        Subscription("g", {common.PersonName: lambda s, event, envelope: None})


def test_a_consumer_waiting_on_the_broker_stops_at_once_and_handles_nothing_after(
    sessions, clock, kafka_bootstrap
):
    import time

    from cms_platform import outbox
    from cms_platform.service import ensure_topics

    handled = []
    sub = Subscription(
        f"stop-{uuid.uuid4().hex[:6]}", {THING: lambda s, event, envelope: handled.append(event)}
    )
    topic = f"test.stop.{uuid.uuid4().hex[:8]}"
    ensure_topics(kafka_bootstrap, [topic])
    consumer = IdempotentConsumer(
        service="test",
        subscription=Subscription(sub.group_id, sub.handlers, extra_topics=(topic,)),
        bootstrap_servers=kafka_bootstrap,
        sessions=sessions,
        clock=clock,
        session_timeout_ms=6000,
        heartbeat_interval_ms=2000,
    )
    consumer.start()
    # An event waits on the topic while the consumer is still joining its group (seconds on the local broker).
    with sessions.begin() as s:
        outbox.publish(
            s, clock=clock, topic=topic, key="cases/1", subject="cases/1", message=THING()
        )
    relay = outbox_relay(sessions, clock, kafka_bootstrap)
    assert relay.relay_once() == 1
    relay.stop()
    started = time.monotonic()
    consumer.stop()
    assert time.monotonic() - started < 1.0  # it did not wait for the join
    assert consumer._thread is not None
    consumer._thread.join(
        15
    )  # it leaves the group on its own, without handling what it then received
    assert not consumer._thread.is_alive()
    assert not handled


def _waiting_on_the_database(private_postgres, clock, applied: list):
    """A consumer on a private server, and an event, with the server halted."""
    engine = make_engine(private_postgres.url, pool_size=2)
    Base.metadata.create_all(engine, tables=PLATFORM_TABLES)
    sub = Subscription("g", {THING: lambda s, event, envelope: applied.append(envelope.id)})
    consumer = IdempotentConsumer(
        service="test",
        subscription=sub,
        bootstrap_servers="unused",
        sessions=make_sessionmaker(engine),
        clock=clock,
        max_attempts=2,
    )
    env = _envelope(clock, THING_HAPPENED)
    private_postgres.halt()
    return engine, consumer, cloudevents.to_kafka_headers(env), env


def test_an_event_waits_for_the_database_instead_of_being_parked(private_postgres, clock):
    applied: list[str] = []
    engine, consumer, headers, env = _waiting_on_the_database(private_postgres, clock, applied)
    # Back after several of the handler's attempts' worth of waiting (max_attempts=2): still handled, once.
    threading.Timer(2.0, private_postgres.resume).start()
    assert consumer.handle_record(headers, b"cases/1", b"") == "handled"
    assert applied == [env.id]
    assert consumer.handle_record(headers, b"cases/1", b"") == "duplicate"
    engine.dispose()


def test_a_consumer_stopping_while_an_event_waits_leaves_it_unapplied_and_uncommitted(
    private_postgres, clock
):
    applied: list[str] = []
    engine, consumer, headers, _ = _waiting_on_the_database(private_postgres, clock, applied)
    threading.Timer(1.0, consumer.stop).start()
    with pytest.raises(ConsumerStopping):
        consumer.handle_record(headers, b"cases/1", b"")
    assert applied == []
    engine.dispose()


class _Cluster:
    def __init__(self, partitions: dict[str, int]) -> None:
        self._partitions = partitions

    def partitions_for_topic(self, topic: str) -> set[int] | None:
        n = self._partitions.get(topic)
        return set(range(n)) if n is not None else None


def _member(member_id: str, topics: list[str]) -> SimpleNamespace:
    """A JoinGroup member as the assignor is given it (metadata already decoded)."""
    from kafka.protocol.consumer.metadata import ConsumerProtocolSubscription

    return SimpleNamespace(
        member_id=member_id,
        group_instance_id=None,
        metadata=ConsumerProtocolSubscription(version=0, topics=topics, user_data=b""),
    )


def test_every_member_learns_the_partition_counts_its_group_was_assigned_on():
    """The leader's metadata may be of a topic since recreated with more partitions: each member is told the counts
    the assignment was made on (through the wire encoding), so it can see that its group reads only some of them."""
    from kafka.protocol.consumer.metadata import ConsumerProtocolAssignment

    from cms_platform.consumer import BasisAssignor

    leader, follower = BasisAssignor(), BasisAssignor()
    members = [_member("a", ["t1", "t2"]), _member("b", ["t1", "t2"])]
    assignments = leader.assign(_Cluster({"t1": 4, "t2": 6}), members)
    assert sorted(
        p.partition for a in assignments.values() for p in a.partitions() if p.topic == "t1"
    ) == [
        0,
        1,
        2,
        3,
    ]
    wire = ConsumerProtocolAssignment.decode(assignments["b"].encode())
    follower.on_assignment(wire, generation=1)
    assert follower.basis == {"t1": 4, "t2": 6}

    # A leader that sends no basis (kafka-python's own range assignor) leaves the member without one.
    follower.on_assignment(
        ConsumerProtocolAssignment(version=0, assigned_partitions=[], user_data=b""), 2
    )
    assert follower.basis == {}


# -- a burst: events applied in groups ------------------------------------------------------------------------------


def _records(clock, n: int, *, bad: int | None = None) -> tuple[list[SimpleNamespace], list[str]]:
    """n records of THING as a poll returns them; the `bad`-th carries data its handler refuses."""
    out, ids = [], []
    for i in range(n):
        env = _envelope(clock, THING_HAPPENED, b"bad" if i == bad else b"")
        ids.append(env.id)
        out.append(
            SimpleNamespace(
                headers=cloudevents.to_kafka_headers(env), key=b"cases/1", value=env.data
            )
        )
    return out, ids


def test_a_burst_is_applied_in_groups_one_commit_each_in_order(sessions, clock):
    from cms_platform import consumer as consumer_module

    applied: list[str] = []
    sub = Subscription("burst", {THING: lambda s, message, e: applied.append(e.id)})
    consumer = IdempotentConsumer(
        service="test", subscription=sub, bootstrap_servers="unused", sessions=sessions, clock=clock
    )
    records, ids = _records(clock, consumer_module.GROUP_SIZE + 3)
    commits: list[int] = []
    event.listen(sessions, "after_commit", lambda _s: commits.append(1))
    consumer._handle_records(records)
    assert applied == ids
    assert len(commits) == 2  # a full group, then the rest: not one commit per event
    with sessions() as s:
        done = s.scalars(
            select(ProcessedEvent.event_id).where(ProcessedEvent.consumer_group == "burst")
        )
        assert set(done) == set(ids)
    # Delivered again (a rebalance before the offsets were committed): no second effect.
    consumer._handle_records(records)
    assert applied == ids


def test_one_bad_event_in_a_group_is_parked_alone_and_the_others_applied_once(sessions, clock):
    def handle(s, message, e):
        if e.data == b"bad":
            raise ValueError("downstream rule broken")
        s.add(
            ProcessedEvent(
                consumer_group="side-effect",
                event_id=e.id,
                event_type="x",
                processed_at=clock.now(),
                outcome="handled",
            )
        )

    sub = Subscription("burst-bad", {THING: handle})
    consumer = IdempotentConsumer(
        service="test",
        subscription=sub,
        bootstrap_servers="unused",
        sessions=sessions,
        clock=clock,
        max_attempts=1,
    )
    records, ids = _records(clock, 5, bad=2)
    consumer._handle_records(records)
    with sessions() as s:
        outcomes = dict(
            s.execute(
                select(ProcessedEvent.event_id, ProcessedEvent.outcome).where(
                    ProcessedEvent.consumer_group == "burst-bad"
                )
            ).all()
        )
        effects = s.scalars(
            select(ProcessedEvent.event_id).where(ProcessedEvent.consumer_group == "side-effect")
        ).all()
    assert outcomes == {i: ("parked" if n == 2 else "handled") for n, i in enumerate(ids)}
    # The group's first try was rolled back whole: each good event's effect is there once.
    assert sorted(effects) == sorted(i for n, i in enumerate(ids) if n != 2)


def test_positions_are_written_at_most_each_interval_and_as_the_consumer_stops(
    sessions, clock, kafka_bootstrap, monkeypatch
):
    """Where a consumer has got to (its resume point should the broker lose the group's offsets) is written at once,
    then at most every POSITIONS_INTERVAL_SECONDS (here an hour), and as it stops."""
    from cms_devkit.testing import wait_until
    from cms_platform import consumer as consumer_module
    from cms_platform import outbox
    from cms_platform.models import ConsumerPosition
    from cms_platform.service import ensure_topics

    monkeypatch.setattr(consumer_module, "POSITIONS_INTERVAL_SECONDS", 3600.0)
    handled: list = []
    group = f"positions-{uuid.uuid4().hex[:6]}"
    topic = f"test.positions.{uuid.uuid4().hex[:8]}"
    ensure_topics(kafka_bootstrap, [topic], partitions=1)
    consumer = IdempotentConsumer(
        service="test",
        subscription=Subscription(
            group, {THING: lambda s, event, envelope: handled.append(event)}, extra_topics=(topic,)
        ),
        bootstrap_servers=kafka_bootstrap,
        sessions=sessions,
        clock=clock,
        session_timeout_ms=6000,
        heartbeat_interval_ms=2000,
    )
    relay = outbox_relay(sessions, clock, kafka_bootstrap)

    def send_one() -> None:
        with sessions.begin() as s:
            outbox.publish(
                s, clock=clock, topic=topic, key="cases/1", subject="cases/1", message=THING()
            )
        assert relay.relay_once() == 1

    def position() -> int | None:
        with sessions() as s:
            return s.scalar(
                select(ConsumerPosition.next_offset).where(ConsumerPosition.consumer_group == group)
            )

    consumer.start()
    try:
        send_one()
        wait_until(lambda: position() == 1, timeout=60, what="the first position")
        send_one()
        wait_until(lambda: len(handled) == 2, timeout=30, what="the second event")
        assert position() == 1  # not due for an hour
    finally:
        relay.stop()
        consumer.stop()
        assert consumer._thread is not None
        consumer._thread.join(15)
    assert position() == 2


def test_a_position_keeps_the_id_of_the_log_it_was_read_from(sessions, clock, monkeypatch):
    """A position noted, then a join that finds the topic recreated (another id), then the write: the row keeps the
    old log's id, so a resume reads the new log from the start rather than from the old log's offset."""
    import time

    from kafka import TopicPartition

    from cms_platform import consumer as consumer_module
    from cms_platform.models import ConsumerPosition
    from cms_platform.topics import TopicInfo

    monkeypatch.setattr(consumer_module, "POSITIONS_INTERVAL_SECONDS", 3600.0)
    consumer = IdempotentConsumer(
        service="test",
        subscription=Subscription("logs", {THING: lambda s, message, e: None}),
        bootstrap_servers="unused",
        sessions=sessions,
        clock=clock,
    )
    consumer._recorded_at = time.monotonic()  # written a moment ago: the next write waits
    consumer._joined = {"t": TopicInfo(topic_id="old-log", partitions=1)}
    consumer._note_positions({TopicPartition("t", 0): [SimpleNamespace(offset=41)]})
    consumer._joined = {"t": TopicInfo(topic_id="new-log", partitions=1)}  # the topic recreated
    consumer._record_positions()
    with sessions() as s:
        row = s.get(ConsumerPosition, ("logs", "t", 0))
        assert row is not None
        assert (row.next_offset, row.topic_id) == (42, "old-log")
