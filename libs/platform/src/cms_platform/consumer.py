"""Idempotent Kafka consumer: handle each event in a DB transaction that also records its id, then commit
the offsets. A crash between the two redelivers events whose ids are already recorded: no second effect.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from opentelemetry import propagate, trace
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from . import cloudevents
from .clock import Clock
from .metrics import EVENTS_CONSUMED
from .models import ProcessedEvent

log = structlog.get_logger("cms.consumer")

Handler = Callable[[Session, cloudevents.Envelope], None]


@dataclass(frozen=True)
class Subscription:
    """What a service consumes: a group, its topics and one handler per CloudEvents type."""

    group_id: str
    topics: tuple[str, ...]
    handlers: dict[str, Handler]


class IdempotentConsumer:
    def __init__(
        self,
        *,
        service: str,
        subscription: Subscription,
        bootstrap_servers: str,
        sessions: sessionmaker,
        clock: Clock,
        session_timeout_ms: int = 10_000,
        heartbeat_interval_ms: int = 3_000,
        max_attempts: int = 5,
    ):
        self._service = service
        self._sub = subscription
        self._bootstrap = bootstrap_servers
        self._sessions = sessions
        self._clock = clock
        self._session_timeout_ms = session_timeout_ms
        self._heartbeat_ms = heartbeat_interval_ms
        self._max_attempts = max_attempts
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._tracer = trace.get_tracer("cms.consumer")
        self.assigned = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"{self._service}-{self._sub.group_id}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._consume()
            except Exception as exc:  # noqa: BLE001 - broker unreachable: back off and rejoin
                log.warning("consumer failed; restarting", group=self._sub.group_id, error=str(exc))
                self._stop.wait(2.0)

    def _consume(self) -> None:
        from kafka import KafkaConsumer

        consumer = KafkaConsumer(
            *self._sub.topics,
            bootstrap_servers=self._bootstrap,
            group_id=self._sub.group_id,
            client_id=f"{self._service}-{self._sub.group_id}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=self._session_timeout_ms,
            heartbeat_interval_ms=self._heartbeat_ms,
            max_poll_records=200,
            bootstrap_timeout_ms=10_000,
        )
        try:
            while not self._stop.is_set():
                batch = consumer.poll(timeout_ms=500)
                if consumer.assignment():
                    self.assigned.set()
                if not batch:
                    continue
                for records in batch.values():
                    for record in records:
                        self.handle_record(record.headers, record.key, record.value)
                # Only after every event of the batch is committed in the database.
                consumer.commit()
        finally:
            consumer.close(autocommit=False)

    def handle_record(self, headers, key, value) -> str:
        """Handle one record; returns the outcome ("handled", "duplicate", "ignored", "parked")."""
        try:
            env = cloudevents.from_kafka(headers, key, value)
        except cloudevents.NotACloudEvent as exc:
            log.error("skipping a record that is not a CloudEvent", error=str(exc))
            EVENTS_CONSUMED.labels(self._service, self._sub.group_id, "malformed").inc()
            return "malformed"
        ctx = propagate.extract(env.extra_headers)
        with self._tracer.start_as_current_span(
            f"{env.type} process",
            context=ctx,
            kind=trace.SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.message.id": env.id,
                "messaging.consumer.group.name": self._sub.group_id,
            },
        ):
            outcome = self._handle_with_retries(env)
        EVENTS_CONSUMED.labels(self._service, self._sub.group_id, outcome).inc()
        return outcome

    def _handle_with_retries(self, env: cloudevents.Envelope) -> str:
        handler = self._sub.handlers.get(env.type)
        delay = 0.2
        for attempt in range(1, self._max_attempts + 1):
            try:
                return self._apply(env, handler)
            except IntegrityError:
                # Another member recorded the same event concurrently (after a rebalance): it is done.
                return "duplicate"
            except Exception as exc:  # noqa: BLE001
                log.warning(
                    "event handler failed",
                    event_id=env.id,
                    event_type=env.type,
                    attempt=attempt,
                    error=str(exc),
                )
                if attempt == self._max_attempts:
                    # Park it (recorded with its error for an operator) rather than block the partition forever.
                    self._record(env, outcome="parked", error=repr(exc))
                    log.error(
                        "event parked after repeated failures", event_id=env.id, event_type=env.type
                    )
                    return "parked"
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
        return "parked"

    def _apply(self, env: cloudevents.Envelope, handler: Handler | None) -> str:
        with self._sessions.begin() as s:
            if s.get(ProcessedEvent, (self._sub.group_id, env.id)) is not None:
                return "duplicate"
            outcome = "handled" if handler else "ignored"
            if handler:
                handler(s, env)
            s.add(
                ProcessedEvent(
                    consumer_group=self._sub.group_id,
                    event_id=env.id,
                    event_type=env.type,
                    processed_at=self._clock.now(),
                    outcome=outcome,
                )
            )
        return outcome

    def _record(self, env: cloudevents.Envelope, *, outcome: str, error: str) -> None:
        try:
            with self._sessions.begin() as s:
                s.merge(
                    ProcessedEvent(
                        consumer_group=self._sub.group_id,
                        event_id=env.id,
                        event_type=env.type,
                        processed_at=self._clock.now(),
                        outcome=outcome,
                        error=error[:2000],
                    )
                )
        except Exception:  # noqa: BLE001
            log.exception("could not park event", event_id=env.id)
