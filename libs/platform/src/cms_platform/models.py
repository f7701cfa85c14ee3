"""Tables every service has in its own database: the outbox, processed events and idempotent requests."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Index, Integer, LargeBinary, String, Text
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

    __table_args__ = (Index("ix_outbox_events_unpublished", "published_at", "id"),)


class ProcessedEvent(Base):
    """Events a consumer group has handled: a redelivery finds its row and has no second effect."""

    __tablename__ = "processed_events"

    consumer_group: Mapped[str] = mapped_column(String(200), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(200))
    processed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # "handled", "ignored" (no handler for the type) or "parked" (kept failing; needs an operator).
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
