"""The transactional outbox and its relay against a real database and a real broker (cms_platform.outbox)."""

from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import func, select

from cms.calculation.v1 import events_pb2
from cms_devkit.testing import outbox_relay, read_topic
from cms_platform import cloudevents, events, outbox
from cms_platform.models import OutboxEvent
from cms_platform.service import ensure_topics

# A real event message of the contracts (its type declared there), sent to a topic of the test's own.
THING = events_pb2.CalculationCreated
THING_HAPPENED = events.event_type(THING)


def _event(s, clock, topic: str, key: str, label: str):
    return outbox.publish(
        s, clock=clock, topic=topic, key=key, subject=key, message=THING(case_reference=label)
    )


_read_all = read_topic


def test_an_event_written_in_a_rolled_back_transaction_is_never_published(
    sessions, clock, kafka_bootstrap
):
    topic = f"test.outbox.{uuid.uuid4().hex[:8]}"
    ensure_topics(kafka_bootstrap, [topic], partitions=3)
    with pytest.raises(RuntimeError), sessions.begin() as s:
        _event(s, clock, topic, "cases/rolled-back", "rolled-back")
        raise RuntimeError("the state change failed after the event was written")
    with sessions.begin() as s:
        kept = _event(s, clock, topic, "cases/committed", "committed").event_id

    relay = outbox_relay(sessions, clock, kafka_bootstrap)
    assert relay.relay_once() == 1
    assert relay.relay_once() == 0  # marked published: nothing goes twice
    relay.stop()

    records = _read_all(kafka_bootstrap, topic, expected=1)
    envelopes = [cloudevents.from_kafka(r.headers, r.key, r.value) for r in records]
    assert [e.id for e in envelopes] == [kept]
    assert envelopes[0].parse(THING).case_reference == "committed"
    assert records[0].key == b"cases/committed"
    headers = dict(records[0].headers)
    assert headers["ce_type"] == THING_HAPPENED.encode()
    assert headers["content-type"] == b"application/protobuf"
    assert headers["ce_dataschema"] == (
        b"https://schemas.cms.gov.uk/protos/cms/calculation/v1/events.proto"
        b"#cms.calculation.v1.CalculationCreated"
    )
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxEvent)) == 1


def test_events_of_one_aggregate_keep_their_order(sessions, clock, kafka_bootstrap):
    topic = f"test.order.{uuid.uuid4().hex[:8]}"
    ensure_topics(kafka_bootstrap, [topic], partitions=3)
    with sessions.begin() as s:
        for i in range(30):
            _event(s, clock, topic, f"cases/{i % 3}", f"{i:02d}")
    relay = outbox_relay(sessions, clock, kafka_bootstrap)
    assert relay.relay_once() == 30
    relay.stop()
    records = _read_all(kafka_bootstrap, topic, expected=30)
    by_key: dict[bytes, list[str]] = {}
    for r in records:
        by_key.setdefault(r.key, []).append(
            cloudevents.from_kafka(r.headers, r.key, r.value).parse(THING).case_reference
        )
    assert len(records) == 30
    for labels in by_key.values():
        assert labels == sorted(labels)


def test_an_event_key_is_the_aggregates_resource_name(sessions, clock):
    for bare in ("0b7e4a52-6f0c-4c57-9a55-4f1a9b0c2d11", "cases/", "/cases/1", "cases/1/", "a b/1"):
        with pytest.raises(ValueError, match="resource name"), sessions.begin() as s:
            _event(s, clock, "test.keys", bare, "bare")
        with pytest.raises(ValueError, match="resource name"), sessions.begin() as s:
            outbox.publish_many(s, clock=clock, events_=[(bare, bare, THING())])
    with sessions.begin() as s:
        _event(s, clock, "test.keys", "case-surveillances/s-1", "named")
        _event(s, clock, "test.keys", "cases/1/deductionOrders/2", "nested")


def test_on_postgresql_a_relay_is_woken_by_another_process_publishing(
    sessions, clock, kafka_bootstrap
):
    """With replicas, the relay holding the lock is seldom in the process that wrote the event: a transaction that
    publishes notifies every relay of the database as it commits, so the event goes out without waiting for a
    poll (here an hour away)."""
    from cms_platform.db import is_postgres

    if not is_postgres(sessions.kw["bind"]):
        pytest.skip("LISTEN/NOTIFY: PostgreSQL only (SQLite has one process per database)")
    topic = f"test.notify.{uuid.uuid4().hex[:8]}"
    ensure_topics(kafka_bootstrap, [topic])
    relay = outbox_relay(sessions, clock, kafka_bootstrap, poll_interval=3600.0)
    relay.start()
    try:
        assert relay.listening.wait(10)
        deadline = time.monotonic() + 10
        while (
            relay.passes < 1 and time.monotonic() < deadline
        ):  # its first pass, then the hour-long wait
            time.sleep(0.05)
        assert relay.passes == 1
        # Another process's relay: this process's commit hook does not reach it, only the notification does.
        outbox._RELAYS.discard(relay)
        with sessions.begin() as s:
            row = _event(s, clock, topic, "cases/1", "from another process")
        records = _read_all(kafka_bootstrap, topic, expected=1)
        assert [cloudevents.from_kafka(r.headers, r.key, r.value).id for r in records] == [
            row.event_id
        ]
    finally:
        relay.stop()


def test_on_postgresql_a_relay_is_woken_once_for_its_own_process_commit(
    sessions, clock, kafka_bootstrap
):
    """The commit hook wakes the relays of the committing process; the NOTIFY of the same commit then reaches their
    listening connections too, and woke each for a second, empty pass. They skip their own process's notifications."""
    from cms_platform.db import is_postgres

    if not is_postgres(sessions.kw["bind"]):
        pytest.skip("LISTEN/NOTIFY: PostgreSQL only")
    topic = f"test.once.{uuid.uuid4().hex[:8]}"
    ensure_topics(kafka_bootstrap, [topic])
    relay = outbox_relay(
        sessions, clock, kafka_bootstrap, poll_interval=3600.0, listening_poll_interval=3600.0
    )
    relay.start()
    try:
        assert relay.listening.wait(10)
        deadline = time.monotonic() + 10
        while relay.passes < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        before, commits = relay.passes, 5
        for i in range(commits):
            with sessions.begin() as s:
                _event(s, clock, topic, "cases/1", f"event {i}")
            time.sleep(0.3)  # the pass it woke, and the notification, have come and gone
        assert len(_read_all(kafka_bootstrap, topic, expected=commits)) == commits
        assert relay.passes - before == commits
    finally:
        relay.stop()


def test_on_postgresql_a_replay_wakes_the_relay_of_the_running_service(
    sessions, clock, kafka_bootstrap
):
    """`cms-<service> replay-outbox` runs in a process of its own: the rows it queues again reach the running service's
    relay by the same notification a publishing transaction sends, not at the relay's next poll (here an hour)."""
    from cms_platform.db import is_postgres

    if not is_postgres(sessions.kw["bind"]):
        pytest.skip("LISTEN/NOTIFY: PostgreSQL only")
    topic = f"test.replay.{uuid.uuid4().hex[:8]}"
    ensure_topics(kafka_bootstrap, [topic])
    with sessions.begin() as s:
        row = _event(s, clock, topic, "cases/1", "replayed")
    relay = outbox_relay(
        sessions, clock, kafka_bootstrap, poll_interval=3600.0, listening_poll_interval=3600.0
    )
    relay.start()
    try:
        assert relay.listening.wait(10)
        assert [r.value for r in _read_all(kafka_bootstrap, topic, expected=1)]  # its first pass
        outbox._RELAYS.discard(relay)  # as if in another process: only the notification reaches it
        assert outbox.replay(sessions, since=row.created_at) == 1
        records = _read_all(kafka_bootstrap, topic, expected=2)
        assert [cloudevents.from_kafka(r.headers, r.key, r.value).id for r in records] == [
            row.event_id,
            row.event_id,
        ]
    finally:
        relay.stop()


def test_on_postgresql_a_listening_relay_polls_only_as_a_net(sessions, clock, kafka_bootstrap):
    """While notifications wake it, the relay's poll is only the net for a lost wake-up: an idle relay makes a pass
    every listening interval, not every poll interval (empty passes were most of an idle service's CPU). Without
    its listening connection it polls at the poll interval again."""
    from cms_platform.db import is_postgres

    if not is_postgres(sessions.kw["bind"]):
        pytest.skip("LISTEN/NOTIFY: PostgreSQL only")
    relay = outbox_relay(
        sessions, clock, kafka_bootstrap, poll_interval=0.02, listening_poll_interval=3600.0
    )
    relay.start()
    try:
        assert relay.listening.wait(10)
        before = relay.passes
        time.sleep(1.0)  # fifty poll intervals
        assert relay.passes - before <= 1
        relay.listening.clear()  # as when the listening connection drops
        relay.wake()  # ends the hour-long wait; from here the poll interval applies
        deadline = time.monotonic() + 10
        while relay.passes - before < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert relay.passes - before >= 10
    finally:
        relay.stop()
