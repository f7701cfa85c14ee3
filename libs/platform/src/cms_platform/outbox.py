"""Transactional outbox: `publish()` adds the event to the caller's transaction; `OutboxRelay` ships it.

The database is the record and the broker the transport: an event exists only if its state change
committed, and it is marked published only after Kafka acknowledged it (acks=all, idempotent producer).
Delivery is at least once; consumers deduplicate on the CloudEvent id.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable
from typing import Any

import structlog
from google.protobuf.message import Message
from opentelemetry import propagate, trace
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from . import cloudevents, events
from .clock import Clock
from .db import is_postgres
from .metrics import OUTBOX_BACKLOG, OUTBOX_PUBLISHED
from .models import OutboxEvent

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
    """Record an event in the current transaction. `key` is the aggregate id (Kafka partition key). The type, topic
    and source are the ones the message declares in the contract (cms_platform.events); `topic` overrides the
    topic (tests that need a topic of their own)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)  # the trace of the request that caused the event travels with it
    row = OutboxEvent(
        event_id=str(uuid.uuid4()),
        topic=topic or events.topic_of(message),
        partition_key=key,
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
    return row


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
    """Send again every event recorded since `since` (e.g. after a broker lost its data): the rows are kept after
    publishing, so they are marked unpublished and the relay re-sends them in order. Consumers deduplicate on the
    CloudEvents id, so an event the broker did keep has no second effect. Returns how many rows were re-queued."""
    with sessions.begin() as s:
        q = update(OutboxEvent).where(
            OutboxEvent.created_at >= since, OutboxEvent.published_at.is_not(None)
        )
        if topic:
            q = q.where(OutboxEvent.topic == topic)
        return s.execute(q.values(published_at=None)).rowcount


class OutboxRelay:
    """Publishes unpublished outbox rows in order, then marks them. Runs as a thread in the service."""

    def __init__(
        self,
        *,
        service: str,
        sessions: sessionmaker,
        producer_factory: Callable[[], Any],
        clock: Clock,
        poll_interval: float = 0.2,
        batch_size: int = 500,
        send_timeout: float = 30.0,
    ):
        self._service = service
        self._sessions = sessions
        self._producer_factory = producer_factory
        self._producer: Any = None  # a kafka.KafkaProducer, made on first use
        self._clock = clock
        self._poll = poll_interval
        self._batch = batch_size
        self._send_timeout = send_timeout
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._tracer = trace.get_tracer("cms.outbox")

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"{self._service}-outbox", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)
        if self._producer is not None:
            self._producer.close(timeout=5)

    def _run(self) -> None:
        backoff = self._poll
        while not self._stop.is_set():
            try:
                sent = self.relay_once()
                backoff = self._poll
                if sent >= self._batch:
                    continue  # more waiting: go again at once
            except Exception as exc:  # noqa: BLE001 - broker or DB down: keep the rows, retry later
                log.warning(
                    "outbox relay pass failed; will retry", error=str(exc), retry_in=backoff
                )
                self._reset_producer()
                backoff = min(backoff * 2, 10.0)
            self._stop.wait(backoff)

    def _reset_producer(self) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout=1)
            except Exception:  # noqa: BLE001
                pass
        self._producer = None

    def relay_once(self) -> int:
        """One pass: claim, send, wait for acks, mark. Returns how many events were published."""
        with self._sessions.begin() as s:
            if (
                is_postgres(s.get_bind())
                and not s.execute(
                    text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _RELAY_LOCK_KEY}
                ).scalar()
            ):
                return 0
            rows = s.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.published_at.is_(None))
                .order_by(OutboxEvent.id)
                .limit(self._batch)
                .with_for_update(skip_locked=True)
            ).all()
            OUTBOX_BACKLOG.labels(self._service).observe(len(rows))
            if not rows:
                return 0
            if self._producer is None:
                self._producer = self._producer_factory()
            futures = []
            for row in rows:
                env = envelope_of(row)
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
                    futures.append(
                        self._producer.send(
                            row.topic,
                            key=row.partition_key.encode(),
                            value=row.payload,
                            headers=cloudevents.to_kafka_headers(env),
                        )
                    )
                row.attempts += 1
            self._producer.flush(timeout=self._send_timeout)
            for f in futures:
                f.get(
                    timeout=self._send_timeout
                )  # raises if the broker refused: the transaction rolls back
            now = self._clock.now()
            for row in rows:
                row.published_at = now
            OUTBOX_PUBLISHED.labels(self._service).inc(len(rows))
            return len(rows)
