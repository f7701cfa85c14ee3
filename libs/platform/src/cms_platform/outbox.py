"""Transactional outbox: `publish()` adds the event to the caller's transaction; `OutboxRelay` ships it.

The database is the record and the broker the transport: an event exists only if its state change
committed, and it is marked published only after Kafka acknowledged it (acks=all, idempotent producer).
Delivery is at least once; consumers deduplicate on the CloudEvent id.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterable
from typing import Any, cast

import structlog
from google.protobuf.message import Message
from opentelemetry import propagate, trace
from sqlalchemy import CursorResult, delete, event, insert, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from . import cloudevents, events
from .clock import Clock
from .db import is_postgres
from .metrics import (
    BROKER_DATA_LOST,
    OUTBOX_BACKLOG,
    OUTBOX_OLDEST_AGE,
    OUTBOX_PUBLISHED,
    OUTBOX_REPUBLISHED,
)
from .models import OutboxEvent, OutboxPartitionMark, OutboxRelayState
from .topics import BrokerView

log = structlog.get_logger("cms.outbox")


def publish(
    db_session: Session,
    *,
    clock: Clock,
    key: str,
    subject: str,
    message: Message,
    topic: str | None = None,
) -> OutboxEvent:
    """Record an event in the current transaction. `key` is the aggregate's resource name (the Kafka key). The type, topic
    and source are the ones the message declares in the contract (cms_platform.events); `topic` overrides the
    topic (tests that need a topic of their own)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)  # the trace of the request that caused the event travels with it
    row = OutboxEvent(
        event_id=str(uuid.uuid4()),
        topic=topic or events.topic_of(message),
        partition_key=cloudevents.resource_key(key),
        event_type=events.event_type(message),
        source=events.source_of(message),
        subject=subject,
        data_schema=message.DESCRIPTOR.full_name,
        payload=message.SerializeToString(),
        headers=carrier,
        created_at=clock.now(),
        attempts=0,
    )
    db_session.add(row)
    db_session.info[_PUBLISHED] = True
    return row


def publish_many(
    db_session: Session, *, clock: Clock, events_: Iterable[tuple[str, str, Message]]
) -> int:
    """publish() for many (key, subject, message) at once, as one multi-row INSERT rather than an object each: a bulk
    run (the account's charge run) writes tens of thousands of events in a few transactions. Same rows, in the same
    order, after anything published before in the transaction. Returns how many were written."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    now = clock.now()
    rows = [
        {
            "event_id": str(uuid.uuid4()),
            "topic": events.topic_of(message),
            "partition_key": cloudevents.resource_key(key),
            "event_type": events.event_type(message),
            "source": events.source_of(message),
            "subject": subject,
            "data_schema": message.DESCRIPTOR.full_name,
            "payload": message.SerializeToString(),
            "headers": carrier,
            "created_at": now,
            "attempts": 0,
        }
        for key, subject, message in events_
    ]
    if rows:
        db_session.execute(insert(OutboxEvent), rows)
        db_session.info[_PUBLISHED] = True
    return len(rows)


# The relays of this process, woken when a transaction that published commits: an event goes out as soon as it
# exists rather than at the next poll (the poll stays, for a lost wake-up).
_PUBLISHED = "cms_outbox_published"
_RELAYS: weakref.WeakSet[OutboxRelay] = weakref.WeakSet()
# On PostgreSQL the relay of another process is woken too: a transaction that published notifies this channel as
# it commits (NOTIFY is delivered on commit only, and once per transaction). With replicas, the one holding the relay
# lock is seldom the one that served the request; without it, that event waited for the lock holder's next poll.
NOTIFY_CHANNEL = "cms_outbox"
# The payload of this process's notifications: its own relays, woken already by the commit hook, skip them (a
# second, empty pass per publishing commit was a fifth of a busy service's relay work).
_PROCESS_TOKEN = uuid.uuid4().hex


@event.listens_for(Session, "before_commit")
def _notify_relays(session: Session) -> None:
    if session.info.get(_PUBLISHED):
        bind = session.get_bind()
        if is_postgres(bind):
            session.execute(
                text("SELECT pg_notify(:channel, :token)"),
                {"channel": NOTIFY_CHANNEL, "token": _PROCESS_TOKEN},
            )


@event.listens_for(Session, "after_commit")
def _wake_relays(session: Session) -> None:
    if session.info.pop(_PUBLISHED, False):
        for relay in list(_RELAYS):
            relay.wake()


@event.listens_for(Session, "after_rollback")
def _forget_published(session: Session) -> None:
    session.info.pop(_PUBLISHED, None)


def envelope_of(row: OutboxEvent) -> cloudevents.Envelope:
    return cloudevents.Envelope(
        id=row.event_id,
        type=row.event_type,
        source=row.source,
        subject=row.subject,
        time=row.created_at,
        dataschema=row.data_schema,
        partitionkey=row.partition_key,
        data=row.payload,
        extra_headers=dict(row.headers or {}),
    )


# One relay publishes at a time per database, so a batch can never overtake an earlier one
# (SKIP LOCKED alone would let two replicas interleave one aggregate's events).
_RELAY_LOCK_KEY = 0x434D534F5554  # "CMSOUT"


def replay(sessions: sessionmaker, *, since: dt.datetime, topic: str | None = None) -> int:
    """Send again every event recorded since `since` (an operator's tool: the relay re-publishes on its own when
    it notices a broker lost data, see OutboxRelay). The rows are kept after publishing, so they are marked
    unpublished and the relay re-sends them in order. Consumers deduplicate on the CloudEvents id, so an event the
    broker did keep has no second effect. Returns how many rows were re-queued."""
    with sessions.begin() as s:
        q = update(OutboxEvent).where(
            OutboxEvent.created_at >= since, OutboxEvent.published_at.is_not(None)
        )
        if topic:
            q = q.where(OutboxEvent.topic == topic)
        count = s.execute(q.values(published_at=None)).rowcount
        if count:
            # The service's relays are in another process: woken by the commit's NOTIFY, not at their next poll.
            s.info[_PUBLISHED] = True
        return count


class OutboxRelay:
    """Publishes unpublished outbox rows in order, then marks them. Runs as a thread in the service.

    It also notices a broker that lost what it was given (restarted empty, replaced, a topic recreated): every row
    is marked with the relay's broker epoch, and each partition with the last offset the broker acknowledged, the
    topic's id and the cluster's. When the cluster or a topic's id differs, a partition ends before that offset, or
    an acknowledgement comes back at or below it, the rows of the epoch are queued again, the epoch moves on, and
    the relay says so at error level and in cms_broker_data_lost_total. Consumers skip the events they already
    processed by id."""

    def __init__(
        self,
        *,
        service: str,
        sessions: sessionmaker,
        producer_factory: Callable[[], Any],
        clock: Clock,
        poll_interval: float = 0.2,
        listening_poll_interval: float = 2.0,
        batch_size: int = 500,
        send_timeout: float = 15.0,
        broker: BrokerView | None = None,
        check_interval: float = 5.0,
        own_topics: tuple[str, ...] = (),
    ):
        self._service = service
        self._sessions = sessions
        self._producer_factory = producer_factory
        self._producer: Any = None  # a kafka.KafkaProducer, made on first use
        self._clock = clock
        self._poll = poll_interval
        # While notifications wake the relay on every commit that published (PostgreSQL's LISTEN), the poll is only
        # the net for a wake-up lost with a dropped listening connection: polling as often as without them spent
        # an idle service's CPU on empty passes.
        self._listening_poll = max(poll_interval, listening_poll_interval)
        self._batch = batch_size
        self._send_timeout = send_timeout
        # Without a broker view only acknowledgements below a mark reveal a loss.
        self._broker = broker
        self._check_interval = check_interval
        self._checked_at = float("-inf")
        # The topics this service publishes: created (or repaired) with their declared partitions.
        self._own_topics = own_topics
        self._known: dict[str, Any] = {}  # topic -> TopicInfo at the last check
        self._cluster_id = ""
        self._stop = threading.Event()
        self._wake = threading.Event()
        # Set while the relay listens for other processes' notifications (PostgreSQL only).
        self.listening = threading.Event()
        self.passes = 0  # passes made by the relay's thread (a test waits for the first)
        self._thread: threading.Thread | None = None
        self._tracer = trace.get_tracer("cms.outbox")

    def start(self) -> None:
        _RELAYS.add(self)
        self._thread = threading.Thread(
            target=self._run, name=f"{self._service}-outbox", daemon=True
        )
        self._thread.start()
        engine = self._sessions.kw.get("bind")
        if engine is not None and is_postgres(engine):
            threading.Thread(
                target=self._listen,
                args=(engine.url,),
                name=f"{self._service}-outbox-listen",
                daemon=True,
            ).start()

    def _listen(self, url: Any) -> None:
        """Wakes this relay on every NOTIFY of NOTIFY_CHANNEL from another process's transaction that published (this
        process's commit hook has woken it for its own), on a
        connection of its own, until stopped; a lost connection is opened again after a pause (the poll covers the
        gap)."""
        import psycopg

        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not self._stop.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self.listening.set()
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=1.0, stop_after=1):
                            if note.payload != _PROCESS_TOKEN or self not in _RELAYS:
                                self.wake()
            except Exception as exc:  # noqa: BLE001 - the database away: the poll goes on, listen again later
                log.debug("outbox notifications unavailable", error=str(exc))
            self.listening.clear()
            self._stop.wait(5.0)

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        _RELAYS.discard(self)
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)
        if self._producer is not None:
            self._producer.close(timeout=5)
        if self._broker is not None:
            self._broker.close()

    def _run(self) -> None:
        backoff = self._poll
        while not self._stop.is_set():
            self._wake.clear()
            try:
                sent = self.relay_once()
                self.passes += 1
                backoff = self._poll
                if sent >= self._batch:
                    continue  # more waiting: go again at once
            except Exception as exc:  # noqa: BLE001 - broker or DB down: keep the rows, retry later
                log.warning(
                    "outbox relay pass failed; will retry", error=str(exc), retry_in=backoff
                )
                self._reset_producer()
                self._checked_at = float("-inf")  # look at the broker again before the next send
                self._observe_age()
                backoff = min(backoff * 2, 10.0)
                self._stop.wait(backoff)
                continue
            self._wake.wait(self._listening_poll if self.listening.is_set() else backoff)

    def _reset_producer(self) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout=1)
            except Exception:  # noqa: BLE001
                pass
        self._producer = None

    def _locked(self, s: Session) -> bool:
        """Whether this relay may work on the outbox now (one relay per database at a time)."""
        return not is_postgres(s.get_bind()) or bool(
            s.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _RELAY_LOCK_KEY}).scalar()
        )

    def relay_once(self) -> int:
        """One pass: look at the broker when due, then claim, send, wait for acks, mark. Returns how many events
        were published."""
        if self._broker is not None and (
            self._producer is None or time.monotonic() - self._checked_at >= self._check_interval
        ):
            self._check_broker()
        with self._sessions.begin() as s:
            if not self._locked(s):
                # Another replica relays (and measures the age); max() over the pods reads its value.
                OUTBOX_OLDEST_AGE.labels(self._service).set(0)
                return 0
            state = self._state(s)
            rows = s.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.published_at.is_(None))
                .order_by(OutboxEvent.id)
                .limit(self._batch)
                .with_for_update(skip_locked=True)
            ).all()
            OUTBOX_BACKLOG.labels(self._service).observe(len(rows))
            # The oldest waiting event is the first claimed (rows go in id order, one relay at a time).
            self._set_age(rows[0].created_at if rows else None)
            if not rows:
                return 0
            if self._producer is None:
                self._producer = self._producer_factory()
            futures = []
            for row in rows:
                ctx = propagate.extract(row.headers or {})
                with self._tracer.start_as_current_span(
                    f"{row.topic} publish",
                    context=ctx,
                    kind=trace.SpanKind.PRODUCER,
                    attributes={
                        "messaging.system": "kafka",
                        "messaging.destination.name": row.topic,
                        "messaging.message.id": row.event_id,
                    },
                ):
                    # The record carries this publish span's context (a child of the one captured with the row):
                    # a consumer's span joins the trace under it.
                    headers = dict(row.headers or {})
                    propagate.inject(headers)
                    env = dataclasses.replace(envelope_of(row), extra_headers=headers)
                    futures.append(
                        self._producer.send(
                            row.topic,
                            key=row.partition_key.encode(),
                            value=row.payload,
                            headers=cloudevents.to_kafka_headers(env),
                        )
                    )
            self._producer.flush(timeout=self._send_timeout)
            # Raises if the broker refused: the transaction rolls back and the rows wait for the next pass.
            acked = _lowest_offsets(f.get(timeout=self._send_timeout) for f in futures)
            marks = {(m.topic, m.partition): m for m in s.scalars(select(OutboxPartitionMark))}
            if any(
                key in marks and offset <= marks[key].last_offset for key, offset in acked.items()
            ):
                self._requeue(s, state, "offsets went backwards")
                marks = {}
            now = self._clock.now()
            # One statement for the pass's rows (the ORM would update them one by one).
            s.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id.in_([row.id for row in rows]))
                .values(
                    published_at=now,
                    broker_epoch=state.epoch,
                    attempts=OutboxEvent.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
            self._mark(s, marks, acked, state.epoch, now)
            OUTBOX_PUBLISHED.labels(self._service).inc(len(rows))
            return len(rows)

    def _set_age(self, oldest: dt.datetime | None) -> None:
        age = (self._clock.now() - oldest).total_seconds() if oldest is not None else 0.0
        OUTBOX_OLDEST_AGE.labels(self._service).set(max(age, 0.0))

    def _observe_age(self) -> None:
        """cms_outbox_oldest_unpublished_age_seconds after a failed pass (the broker away, a send refused), so the age
        grows while events wait; a pass that claims rows sets it from them."""
        try:
            with self._sessions() as s:
                self._set_age(
                    s.scalar(
                        select(OutboxEvent.created_at)
                        .where(OutboxEvent.published_at.is_(None))
                        .order_by(OutboxEvent.id)
                        .limit(1)
                    )
                )
        except Exception as exc:  # noqa: BLE001 - the database away too: the gauge keeps its last value
            log.debug("could not measure the outbox age", error=str(exc))

    def _check_broker(self) -> None:
        """Requeue, in a transaction of its own (so that a failed send does not undo it), what a broker that lost
        data no longer has."""
        assert self._broker is not None
        if self._producer is None and self._own_topics:
            self._broker.ensure(self._own_topics, repair=True)
        with self._sessions.begin() as s:
            if not self._locked(s):
                return
            reason = self._broker_lost(s)
            if reason:
                self._requeue(s, self._state(s), reason)
        self._checked_at = time.monotonic()

    def _state(self, s: Session) -> OutboxRelayState:
        state = s.get(OutboxRelayState, 1)
        if state is None:
            state = OutboxRelayState(id=1, epoch=1, changed_at=self._clock.now(), reason="")
            s.add(state)
            s.flush()
        return state

    def _broker_lost(self, s: Session) -> str | None:
        """Why the broker no longer holds what this relay gave it, or None."""
        assert self._broker is not None
        marks = s.scalars(select(OutboxPartitionMark)).all()
        topics = {m.topic for m in marks} | set(self._own_topics)
        self._cluster_id = self._broker.cluster_id()
        self._known = self._broker.describe(topics)
        if not marks:
            return None
        ends = self._broker.end_offsets(
            (m.topic, m.partition)
            for m in marks
            if m.topic in self._known and m.partition < self._known[m.topic].partitions
        )
        for m in marks:
            info = self._known.get(m.topic)
            if m.cluster_id and self._cluster_id and m.cluster_id != self._cluster_id:
                return "cluster changed"
            if info is None or m.partition >= info.partitions:
                return "topic missing"
            if m.topic_id and info.topic_id and m.topic_id != info.topic_id:
                return "topic recreated"
            if not m.topic_id:
                m.topic_id = info.topic_id  # published before the topic was first described
            if ends.get((m.topic, m.partition), 0) <= m.last_offset:
                return "offsets went backwards"
        return None

    def _requeue(self, s: Session, state: OutboxRelayState, reason: str) -> None:
        """Queue again what the lost broker had (every row published in this epoch); the rows being sent now are
        not yet marked, so they are not among them."""
        count = cast(
            CursorResult,
            s.execute(
                update(OutboxEvent)
                .where(
                    OutboxEvent.broker_epoch == state.epoch, OutboxEvent.published_at.is_not(None)
                )
                .values(published_at=None, broker_epoch=None)
            ),
        ).rowcount
        s.execute(delete(OutboxPartitionMark))
        state.epoch += 1
        state.changed_at = self._clock.now()
        state.reason = reason
        BROKER_DATA_LOST.labels(self._service, reason).inc()
        OUTBOX_REPUBLISHED.labels(self._service).inc(count)
        log.error(
            "the broker lost events this service published; publishing them again from the outbox",
            reason=reason,
            events=count,
            epoch=state.epoch,
        )
        if self._broker is not None and self._own_topics:
            self._broker.ensure(self._own_topics, repair=True)
        self.wake()  # what was queued again goes at the next pass, not at the listening poll

    def _mark(
        self,
        s: Session,
        marks: dict[tuple[str, int], OutboxPartitionMark],
        acked: dict[tuple[str, int], int],
        epoch: int,
        now: dt.datetime,
    ) -> None:
        for (topic, partition), offset in acked.items():
            info = self._known.get(topic)
            mark = marks.get((topic, partition))
            if mark is None:
                mark = OutboxPartitionMark(topic=topic, partition=partition)
                s.add(mark)
            mark.cluster_id = self._cluster_id
            mark.topic_id = info.topic_id if info is not None else ""
            mark.last_offset, mark.epoch, mark.published_at = offset, epoch, now


def _lowest_offsets(acked: Iterable[Any]) -> dict[tuple[str, int], int]:
    """The lowest offset acknowledged per partition in a pass: a log that ends at or before it has lost the pass.
    (Not the highest: a broker may report a partition's end as one past its last batch's first record.)"""
    lowest: dict[tuple[str, int], int] = {}
    for meta in acked:
        key = (meta.topic, meta.partition)
        lowest[key] = min(lowest.get(key, meta.offset), meta.offset)
    return lowest
