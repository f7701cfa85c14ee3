"""Tables every service has in its own database: the outbox, processed events and idempotent requests."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base, BigId, UtcDateTime


class OutboxEvent(Base):
    """An event written in the same transaction as the state change it announces."""

    __tablename__ = "outbox_events"

    # Monotonic: the relay publishes in this order, which keeps each aggregate's events in order.
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    topic: Mapped[str] = mapped_column(String(200))
    partition_key: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200))
    data_schema: Mapped[str] = mapped_column(String(200))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    # Extra headers captured at write time: the W3C trace context of the request that caused the event.
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    published_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The broker epoch (OutboxRelayState) it was published in: what to send again if that broker lost its data.
    broker_epoch: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __table_args__ = (
        Index("ix_outbox_events_unpublished", "published_at", "id"),
        Index("ix_outbox_events_broker_epoch", "broker_epoch"),
    )


class OutboxRelayState(Base):
    """The relay's broker epoch: it moves on each time the relay finds the broker lost what it had published."""

    __tablename__ = "outbox_relay_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    epoch: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # Why the epoch last moved on ("" for the first).
    reason: Mapped[str] = mapped_column(String(100), default="")


class OutboxPartitionMark(Base):
    """What the relay last published to a partition, on which cluster and topic (by id) and when: a broker whose
    topic has another id, or whose partition ends at or before `last_offset` (the lowest offset acknowledged in the
    relay's last pass to it), has lost events."""

    __tablename__ = "outbox_partition_marks"

    topic: Mapped[str] = mapped_column(String(200), primary_key=True)
    partition: Mapped[int] = mapped_column(Integer, primary_key=True)
    cluster_id: Mapped[str] = mapped_column(String(200), default="")
    topic_id: Mapped[str] = mapped_column(String(64), default="")
    last_offset: Mapped[int] = mapped_column(BigInteger)
    epoch: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class ConsumerPosition(Base):
    """How far a consumer group has processed a partition, written after each batch: where it resumes when the
    broker has lost the group's committed offsets, provided the topic is still the one it read (same id, offset
    within the log); otherwise it reads the new log from the start and skips what it processed by event id."""

    __tablename__ = "consumer_positions"

    consumer_group: Mapped[str] = mapped_column(String(200), primary_key=True)
    topic: Mapped[str] = mapped_column(String(200), primary_key=True)
    partition: Mapped[int] = mapped_column(Integer, primary_key=True)
    next_offset: Mapped[int] = mapped_column(BigInteger)
    topic_id: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class ProcessedEvent(Base):
    """Events a consumer group has handled: a redelivery finds its row and has no second effect."""

    __tablename__ = "processed_events"

    consumer_group: Mapped[str] = mapped_column(String(200), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(200))
    processed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # "handled" or "parked" (kept failing; needs an operator); "ignored" (no handler for the type) in rows written
    # before such events stopped being recorded.
    outcome: Mapped[str] = mapped_column(String(20), default="handled")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class IdempotentRequest(Base):
    """The stored response of a mutating RPC, keyed by method and the client's request_id (AIP-155)."""

    __tablename__ = "idempotent_requests"

    method: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    # Whose answer it is (cms_platform.idempotency.caller_key): only they may have it again.
    caller: Mapped[str] = mapped_column(String(200), default="")
    response: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


# Every platform table, for tests that build a schema without a service's migrations.
PLATFORM_TABLES = [
    OutboxEvent.__table__,
    OutboxRelayState.__table__,
    OutboxPartitionMark.__table__,
    ProcessedEvent.__table__,
    ConsumerPosition.__table__,
    IdempotentRequest.__table__,
]
