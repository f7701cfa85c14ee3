"""Idempotent Kafka consumer: handle each event in a DB transaction that also records its id, then commit
the offsets. A crash between the two redelivers events whose ids are already recorded: no second effect. A poll's
events share their transactions, up to GROUP_SIZE each (a burst costs a commit per group, not per event); a group
with an event that fails is undone and its events handled one at a time, each with its retries.

It does not trust the broker to keep what it had. After each batch it records, in its own database, how far it got
in each partition and which topic (by id) that was. When it joins its group it resumes from there if the topic is
the same one (its id; the offsets only where no id is known); a topic with another id (the broker restarted empty
or was replaced) is read again from the start, the events it processed skipped by id. While running it looks at
the broker every `check_interval` seconds and joins again when a topic appeared, went, was recreated or changed its
partition count, and when it has had no group for `rejoin_after` seconds. `healthy()` turns false when it makes no progress for `stall_after`
seconds; the service then reports not ready.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog
from google.protobuf.message import Message
from kafka.coordinator.assignors.range import RangePartitionAssignor
from opentelemetry import propagate, trace
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from . import cloudevents, db, events
from .clock import Clock
from .metrics import (
    CONSUMER_LAG,
    CONSUMER_RESETS,
    EVENTS_CONSUMED,
    EVENTS_PARKED,
    EVENTS_UNHANDLED,
)
from .models import ConsumerPosition, ProcessedEvent
from .topics import BrokerView, TopicInfo

log = structlog.get_logger("cms.consumer")

# handler(session, event, envelope): the event parsed as its message class, in the transaction that records it.
Handler = Callable[[Session, Any, cloudevents.Envelope], None]

# The most events of a poll applied in one transaction: a burst costs one commit (and one wake of the relay and of
# what the handlers start) per group rather than per event, which keeps a consumer up with its topics; small enough
# that a group holds its locks only briefly.
GROUP_SIZE = 50
# How often a consumer writes where it has got to (consumer_positions), its resume point should the broker lose the
# group's offsets: at most this far behind, so at most this much is read again (and skipped by event id).
POSITIONS_INTERVAL_SECONDS = 1.0


class _GroupFailed(Exception):
    """An event of a group could not be applied with the others: the group's transaction is rolled back and its
    events are applied one by one instead, each with its retries."""


class BasisAssignor(RangePartitionAssignor):
    """Range assignment that tells every member the partition count of each topic it was made on (the assignment's
    user data). The leader assigns from the metadata its client holds, which can be of a topic since recreated with
    more partitions (a broker's auto-created topic, replaced by ours); the group would then read only some partitions
    and never notice. A member that sees a topic with another count than its group's basis joins again. Same
    protocol name as kafka-python's range: members without it interoperate and simply carry no basis."""

    def __init__(self) -> None:
        self.basis: dict[str, int] = {}

    def assign(self, cluster: Any, members: Any) -> dict[str, Any]:
        assignments: dict[str, Any] = super().assign(cluster, members)
        topics = {t for m in members for t in m.metadata.topics}
        counts = {t: len(cluster.partitions_for_topic(t) or ()) for t in sorted(topics)}
        for assignment in assignments.values():
            assignment.user_data = json.dumps(counts).encode()
        return assignments

    def on_assignment(self, assignment: Any, generation: int) -> None:
        try:
            basis = json.loads(assignment.user_data or b"{}")
        except ValueError:
            basis = {}
        self.basis = {str(t): int(n) for t, n in basis.items()} if isinstance(basis, dict) else {}


class ConsumerStopping(Exception):
    """Raised out of a batch when the consumer stops while an event waits for the database: the batch is not
    committed, so the event is delivered again when a consumer next joins."""


@dataclass(frozen=True)
class Subscription:
    """What a service consumes: a consumer group and one handler per event message class. The CloudEvents types
    and topics are the ones the messages declare in the contracts (cms_platform.events)."""

    group_id: str
    handlers: Mapping[type[Message], Handler]
    # Topics to read besides those of the handled messages.
    extra_topics: tuple[str, ...] = ()
    # Records a poll hands over at most: fewer for events whose handling is long (a chunk of a national run), so a
    # batch ends well inside the broker's poll interval and its offsets are committed as each is done.
    max_poll_records: int = 200
    _by_type: dict[str, tuple[type[Message], Handler]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        declared = events.by_type(self.handlers)
        object.__setattr__(
            self, "_by_type", {t: (cls, self.handlers[cls]) for t, cls in declared.items()}
        )

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(
            sorted({events.topic_of(cls) for cls in self.handlers} | set(self.extra_topics))
        )

    def handler_for(self, event_type: str) -> tuple[type[Message], Handler] | None:
        return self._by_type.get(event_type)


class IdempotentConsumer:
    def __init__(
        self,
        *,
        service: str,
        subscription: Subscription,
        bootstrap_servers: str,
        sessions: sessionmaker,
        clock: Clock,
        session_timeout_ms: int = 6_000,
        heartbeat_interval_ms: int = 2_000,
        max_attempts: int = 5,
        check_interval: float = 5.0,
        rejoin_after: float = 30.0,
        stall_after: float = 60.0,
        create_topics: bool = True,
        parked_interval: float = 60.0,
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
        # Set while a batch is being handled; the lock makes "stopped" and "busy" exclusive, so no batch starts
        # after stop() has looked.
        self._busy = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._tracer = trace.get_tracer("cms.consumer")
        self._unhandled_logged: set[str] = set()
        self.assigned = threading.Event()
        self._check_interval = check_interval
        self._rejoin_after = rejoin_after
        self._stall_after = stall_after
        self._create_topics = create_topics
        self._parked_interval = parked_interval
        # The (topic, partition) this consumer reports lag for.
        self._lag_labels: set[tuple[str, str]] = set()
        self._broker = BrokerView(
            bootstrap_servers, client_id=f"{service}-{subscription.group_id}-check", service=service
        )
        # Each subscribed topic (id, partitions) as it was at the last join, and why the join must be made again
        # (set by the rebalance listener, acted on by the poll loop).
        self._joined: dict[str, TopicInfo] = {}
        self._join_again: str | None = None
        # One for every KafkaConsumer this makes: each assignment replaces the basis it holds.
        self._assignor = BasisAssignor()
        # Signs of life for healthy(): the last completed poll or applied event, and since when it has no group.
        self._progress_at = time.monotonic()
        self._groupless_since: float | None = time.monotonic()
        # Where each partition's handled events end (with the id of the topic they were read from), not yet written
        # to consumer_positions, and when it last was.
        self._unrecorded: dict[tuple[str, int], tuple[int, str]] = {}
        self._recorded_at = float("-inf")

    @property
    def group_id(self) -> str:
        return self._sub.group_id

    def seconds_since_progress(self) -> float:
        return time.monotonic() - self._progress_at

    def healthy(self) -> bool:
        """False when the consumer has made no progress for `stall_after` seconds: a poll or an event stuck (the
        database away, a handler failing), or no group to consume in."""
        now = time.monotonic()
        if now - self._progress_at > self._stall_after:
            return False
        since = self._groupless_since
        return since is None or now - since <= self._stall_after

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"{self._service}-{self._sub.group_id}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop consuming. A batch being handled is finished (and its offsets committed) within `timeout`, unless an
        event of it waits for the database: then the batch is left uncommitted, to be delivered again; a thread
        only waiting on the broker (a poll, a group join that can take seconds) is not waited for: it handles
        nothing more and leaves the group at its next turn."""
        with self._lock:
            self._stop.set()
            busy = self._busy.is_set()
        if self._thread:
            self._thread.join(timeout if busy else 0.1)
        self._broker.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._consume()
            except ConsumerStopping:
                return
            except Exception as exc:  # noqa: BLE001 - broker unreachable: back off and rejoin
                log.warning("consumer failed; restarting", group=self._sub.group_id, error=str(exc))
                self._stop.wait(2.0)

    def _consume(self) -> None:
        from kafka import ConsumerRebalanceListener, KafkaConsumer

        if self._create_topics:
            # Ours, with the declared partitions, before the broker's auto-creation can make them otherwise.
            self._broker.ensure(self._sub.topics)
        consumer = KafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=self._sub.group_id,
            client_id=f"{self._service}-{self._sub.group_id}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            allow_auto_create_topics=False,
            session_timeout_ms=self._session_timeout_ms,
            heartbeat_interval_ms=self._heartbeat_ms,
            max_poll_records=self._sub.max_poll_records,
            bootstrap_timeout_ms=10_000,
            # A request to a broker that went away fails in seconds, not kafka-python's 30 s, so a lost broker is
            # noticed (and the group joined again) quickly.
            request_timeout_ms=max(self._session_timeout_ms + 2_000, 10_000),
            partition_assignment_strategy=[self._assignor],
        )
        self._join_again = None
        outer = self

        class Resume(ConsumerRebalanceListener):
            def on_partitions_revoked(self, revoked: Any) -> None:
                outer._groupless_since = time.monotonic()
                # Whoever is assigned them next (this member too) resumes from the positions written.
                outer._record_positions()

            def on_partitions_assigned(self, assigned: Any) -> None:
                outer._resume(consumer, assigned)
                outer._groupless_since = None

        self._groupless_since = time.monotonic()
        consumer.subscribe(topics=list(self._sub.topics), listener=Resume())
        checked_at = time.monotonic()
        parked_at = float("-inf")
        try:
            while not self._stop.is_set():
                batch = consumer.poll(timeout_ms=500)
                self._progress_at = time.monotonic()
                if consumer.assignment():
                    self.assigned.set()
                if self._join_again:
                    why, self._join_again = self._join_again, None
                    self._reset("stale assignment", why)
                    return
                since = self._groupless_since
                if since is not None and time.monotonic() - since > self._rejoin_after:
                    self._reset("no group", f"no group for {self._rejoin_after:.0f}s")
                    return
                if since is None and time.monotonic() - checked_at >= self._check_interval:
                    checked_at = time.monotonic()
                    why = self._log_replaced()
                    if why:
                        self._reset("log replaced", why)
                        return
                    self.observe_lag(consumer)
                if time.monotonic() - parked_at >= self._parked_interval:
                    parked_at = time.monotonic()
                    self.observe_parked()
                if not batch:
                    continue
                with self._lock:
                    if self._stop.is_set():
                        break  # not handled, not committed: redelivered to whoever consumes next
                    self._busy.set()
                try:
                    for records in batch.values():
                        self._handle_records(records)
                    # Only after every event of the batch is committed in the database.
                    self._note_positions(batch)
                    consumer.commit()
                finally:
                    self._busy.clear()
        finally:
            self._groupless_since = time.monotonic()
            self._record_positions()
            consumer.close(autocommit=False)

    def observe_lag(self, consumer: Any) -> None:
        """cms_consumer_lag_records for each assigned partition: its end offset (one request for all) less the
        group's position, which is its committed offset once a batch is done. Partitions no longer assigned here
        are dropped, so a rebalance does not leave another member's lag behind."""
        try:
            parts = list(consumer.assignment())
            ends = consumer.end_offsets(parts) if parts else {}
            now = {(tp.topic, str(tp.partition)): ends[tp] - consumer.position(tp) for tp in ends}
        except Exception as exc:  # noqa: BLE001 - a metric; the poll loop notices a lost broker itself
            log.debug("could not measure consumer lag", group=self._sub.group_id, error=str(exc))
            return
        for topic, partition in self._lag_labels - now.keys():
            CONSUMER_LAG.remove(self._service, self._sub.group_id, topic, partition)
        for (topic, partition), lag in now.items():
            CONSUMER_LAG.labels(self._service, self._sub.group_id, topic, partition).set(
                max(lag, 0)
            )
        self._lag_labels = set(now)

    def observe_parked(self) -> int:
        """Set cms_events_parked for this group from its processed_events (an operator's retry or discard moves it
        at the next pass); returns the count."""
        try:
            with self._sessions() as s:
                count = s.scalar(
                    select(func.count())
                    .select_from(ProcessedEvent)
                    .where(
                        ProcessedEvent.consumer_group == self._sub.group_id,
                        ProcessedEvent.outcome == "parked",
                    )
                )
        except Exception as exc:  # noqa: BLE001 - the database away: the consumer waits for it elsewhere
            log.debug("could not count parked events", group=self._sub.group_id, error=str(exc))
            return -1
        EVENTS_PARKED.labels(self._service, self._sub.group_id).set(count or 0)
        return int(count or 0)

    def _reset(self, reason: str, why: str) -> None:
        CONSUMER_RESETS.labels(self._service, self._sub.group_id, reason).inc()
        log.warning("consumer rejoins its group", group=self._sub.group_id, reason=why)

    def _resume(self, consumer: Any, assigned: Any) -> None:
        """Where each assigned partition is read from: the group's own record when it is of this log, the start of a
        log it has not read (a broker that lost data), else the committed offset (or the earliest)."""
        # Every subscribed topic as it is at the join, assigned here or not: one that appears or is recreated
        # later needs a new join (the group would otherwise go on without it).
        self._joined = known = self._broker.describe(self._sub.topics)
        for topic, info in known.items():
            # The group's assignment was made from its leader's metadata: if that saw the topic with another partition
            # count (a broker's auto-created topic, since recreated), some partitions are read by nobody.
            basis = self._basis(topic, consumer)
            if basis != info.partitions:
                self._join_again = (
                    f"{topic} has {info.partitions} partitions; the group was formed on {basis}"
                )
        partitions = list(assigned)
        log.info(
            "consumer joined its group",
            group=self._sub.group_id,
            partitions=sorted(f"{tp.topic}[{tp.partition}]" for tp in partitions),
            topics={
                t: f"{i.partitions} partitions, id {i.topic_id[-8:]}" for t, i in known.items()
            },
            assigned_on=self._assignor.basis,
        )
        if not partitions:
            return
        topics = {tp.topic for tp in partitions}
        with self._sessions() as s:
            rows = {
                (r.topic, r.partition): r
                for r in s.scalars(
                    select(ConsumerPosition).where(
                        ConsumerPosition.consumer_group == self._sub.group_id,
                        ConsumerPosition.topic.in_(topics),
                    )
                )
            }

        # The topic's id says whether it is the log this group read (a broker may report a partition's end short of
        # the last batch, so offsets alone could not); a record or topic without an id falls back on the offsets.
        def by_id(row: ConsumerPosition) -> bool:
            return bool(row.topic_id and self._topic_id(row.topic))

        by_offset = [
            key
            for tp in partitions
            if (row := rows.get(key := (tp.topic, tp.partition))) is not None and not by_id(row)
        ]
        ends = self._broker.end_offsets(by_offset) if by_offset else {}
        for tp in partitions:
            row = rows.get((tp.topic, tp.partition))
            if row is None:
                continue  # never read by this group: its committed offset, else the earliest
            if by_id(row):
                same_log = row.topic_id == self._topic_id(tp.topic)
            else:
                same_log = row.next_offset <= ends.get((tp.topic, tp.partition), 0)
            if same_log:
                consumer.seek(tp, row.next_offset)
                continue
            CONSUMER_RESETS.labels(self._service, self._sub.group_id, "read again").inc()
            log.warning(
                "partition is not the log this group read (the broker lost its data); reading it from the start",
                group=self._sub.group_id,
                topic=tp.topic,
                partition=tp.partition,
                had=row.next_offset,
            )
            consumer.seek_to_beginning(tp)

    def _log_replaced(self) -> str | None:
        """Why the group must join again: a subscribed topic appeared, went or was recreated since the join (a
        broker that lost its data recreates them; one answering a fetch beyond a log's end with nothing would
        otherwise stall the consumer silently); None when nothing changed."""
        known = self._broker.describe(self._sub.topics)
        for topic in self._sub.topics:
            was, now = self._joined.get(topic), known.get(topic)
            if was is None and now is not None:
                return f"topic {topic} appeared"
            if was is not None and now is None:
                return f"topic {topic} is gone"
            if was is None or now is None:
                continue
            if was.topic_id and now.topic_id and now.topic_id != was.topic_id:
                return f"topic {topic} was recreated"
            if now.partitions != was.partitions:
                return f"topic {topic} has {now.partitions} partitions, not {was.partitions}"
            if (basis := self._assignor.basis.get(topic)) is not None and basis != now.partitions:
                return f"topic {topic} has {now.partitions} partitions; the group was formed on {basis}"
        return None

    def _basis(self, topic: str, consumer: Any) -> int:
        """The partition count the group's assignment of `topic` was made on: as its leader said, else (a leader
        without the basis) as this member's client sees it."""
        basis = self._assignor.basis.get(topic)
        return basis if basis is not None else len(consumer.partitions_for_topic(topic) or ())

    def _topic_id(self, topic: str) -> str:
        info = self._joined.get(topic)
        return info.topic_id if info is not None else ""

    def _note_positions(self, batch: Mapping[Any, list[Any]]) -> None:
        """Note where the batch's partitions now end, and write the positions noted at most every
        POSITIONS_INTERVAL_SECONDS (and when partitions are revoked, and as the consumer stops): a transaction after
        every batch was a busy consumer's every other commit. A position a little behind (a killed process's) costs
        nothing but a re-read: the events it re-reads are skipped by id."""
        for tp, records in batch.items():
            if records:
                # The topic's id as read now: a join before the write may find the topic recreated, and an offset of
                # the old log must not pass for one of the new.
                self._unrecorded[(tp.topic, tp.partition)] = (
                    max(r.offset for r in records) + 1,
                    self._topic_id(tp.topic),
                )
        if time.monotonic() - self._recorded_at >= POSITIONS_INTERVAL_SECONDS:
            self._record_positions()

    def _record_positions(self) -> None:
        """The positions noted, in one upsert (the ORM's merge read each row first). The database away: they wait
        for the next write (or, on the way out, are left behind; see _note_positions)."""
        if not self._unrecorded:
            return
        now = self._clock.now()
        positions = [
            {
                "consumer_group": self._sub.group_id,
                "topic": topic,
                "partition": partition,
                "next_offset": next_offset,
                "topic_id": topic_id,
                "updated_at": now,
            }
            for (topic, partition), (next_offset, topic_id) in self._unrecorded.items()
        ]
        try:
            with self._sessions.begin() as s:
                insert = postgresql.insert if db.is_postgres(s.get_bind()) else sqlite.insert
                statement = insert(ConsumerPosition).values(positions)
                s.execute(
                    statement.on_conflict_do_update(
                        index_elements=["consumer_group", "topic", "partition"],
                        set_={
                            column: statement.excluded[column]
                            for column in ("next_offset", "topic_id", "updated_at")
                        },
                    )
                )
        except Exception as exc:  # noqa: BLE001 - kept for the next write
            log.warning("could not record the consumer's positions", error=str(exc))
            return
        self._unrecorded.clear()
        self._recorded_at = time.monotonic()

    def _handle_records(self, records: list[Any]) -> None:
        """A partition's records of one poll, in order: in groups of GROUP_SIZE, each group in one transaction; a
        group that fails is applied again one event at a time (handle_record), so one bad event changes nothing for
        the others and its retries and parking are as they always were."""
        for start in range(0, len(records), GROUP_SIZE):
            group = records[start : start + GROUP_SIZE]
            if len(group) == 1 or not self._apply_group(group):
                for record in group:
                    self.handle_record(record.headers, record.key, record.value)
                    self._progress_at = time.monotonic()
            self._progress_at = time.monotonic()

    def _apply_group(self, records: list[Any]) -> bool:
        """Every record of `records` in one transaction, each in its own span; False, with nothing applied, when one
        of them is not a CloudEvent or its handler fails (the caller then goes one by one). Which of them the group
        has done before is read in one query up front, not one lookup an event (each of which flushed the writes
        of the events before it)."""
        applied: list[tuple[cloudevents.Envelope, bool, str]] = []
        try:
            envelopes = []
            for record in records:
                try:
                    env = cloudevents.from_kafka(record.headers, record.key, record.value)
                except cloudevents.NotACloudEvent:
                    raise _GroupFailed("not a CloudEvent") from None
                envelopes.append((env, self._sub.handler_for(env.type)))
            with self._sessions.begin() as s:
                done = self._done_of(s, [env.id for env, handler in envelopes if handler])
                for env, handler in envelopes:
                    with self._span(env):
                        if handler is None:
                            outcome = "ignored"
                        elif env.id in done:
                            outcome = "duplicate"
                        else:
                            done.add(env.id)
                            outcome = self._handle_in(s, env, handler)
                        applied.append((env, handler is None, outcome))
        except Exception as exc:  # noqa: BLE001 - rolled back: each event goes again on its own, with its retries
            log.debug("a group of events goes one by one", group=self._sub.group_id, error=str(exc))
            return False
        for env, unhandled, outcome in applied:
            if unhandled:
                self._unhandled(env)
            EVENTS_CONSUMED.labels(self._service, self._sub.group_id, outcome).inc()
        return True

    def _done_of(self, s: Session, event_ids: list[str]) -> set[str]:
        """Which of `event_ids` this group has recorded (handled before, or parked)."""
        if not event_ids:
            return set()
        return set(
            s.scalars(
                select(ProcessedEvent.event_id).where(
                    ProcessedEvent.consumer_group == self._sub.group_id,
                    ProcessedEvent.event_id.in_(event_ids),
                )
            )
        )

    def _span(self, env: cloudevents.Envelope) -> Any:
        """The CONSUMER span of one event, in the trace its headers carry."""
        return self._tracer.start_as_current_span(
            f"{env.type} process",
            context=propagate.extract(env.extra_headers),
            kind=trace.SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.message.id": env.id,
                "messaging.consumer.group.name": self._sub.group_id,
            },
        )

    def handle_record(
        self,
        headers: list[tuple[str, bytes]] | None,
        key: bytes | None,
        value: bytes,
        *,
        again: bool = False,
    ) -> str:
        """Handle one record; returns the outcome ("handled", "duplicate", "ignored", "parked"). `again`: an
        operator's retry of a parked event (cms_platform.parked): its parked record is replaced in the transaction
        that applies it, so a failure leaves it parked."""
        try:
            env = cloudevents.from_kafka(headers, key, value)
        except cloudevents.NotACloudEvent as exc:
            log.error("skipping a record that is not a CloudEvent", error=str(exc))
            EVENTS_CONSUMED.labels(self._service, self._sub.group_id, "malformed").inc()
            return "malformed"
        with self._span(env):
            outcome = self._handle_with_retries(env, again=again)
        EVENTS_CONSUMED.labels(self._service, self._sub.group_id, outcome).inc()
        return outcome

    def _handle_with_retries(self, env: cloudevents.Envelope, *, again: bool = False) -> str:
        handler = self._sub.handler_for(env.type)
        if handler is None:
            self._unhandled(env)
        delay, attempt = 0.2, 0
        while attempt < self._max_attempts:
            attempt += 1
            try:
                return self._apply(env, handler, again=again)
            except IntegrityError:
                # Another member recorded the same event concurrently (after a rebalance): it is done.
                return "duplicate"
            except Exception as exc:  # noqa: BLE001
                if db.outage(exc) is not None:
                    # The database is down, not the event bad: wait for it without using up the attempts, and
                    # never park (parking needs the database too) or commit past an event not applied.
                    attempt -= 1
                    log.warning("database unavailable; event waits", event_id=env.id)
                    if self._stop.wait(delay):
                        raise ConsumerStopping(env.id) from exc
                    delay = min(delay * 2, 5.0)
                    continue
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
                    self.observe_parked()
                    return "parked"
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
        return "parked"

    def _unhandled(self, env: cloudevents.Envelope) -> None:
        """A type on our topics that no handler takes: counted every time and logged once per type, so an operator
        can see it (a newly added handler is a visible change). Nothing is written for it: a group's record of an
        event is only there to stop a second effect, and such an event has none (casework's money contexts each
        read every casework event and handle a few types)."""
        EVENTS_UNHANDLED.labels(self._service, self._sub.group_id, env.type).inc()
        if env.type not in self._unhandled_logged:
            self._unhandled_logged.add(env.type)
            log.info(
                "event type has no handler; ignored", group=self._sub.group_id, event_type=env.type
            )

    def _apply(
        self,
        env: cloudevents.Envelope,
        handler: tuple[type[Message], Handler] | None,
        *,
        again: bool = False,
    ) -> str:
        with self._sessions.begin() as s:
            return self._apply_in(s, env, handler, again=again)

    def _apply_in(
        self,
        s: Session,
        env: cloudevents.Envelope,
        handler: tuple[type[Message], Handler] | None,
        *,
        again: bool = False,
    ) -> str:
        """The event's effect and its processed record, in the caller's transaction. A type without a handler has no
        effect, so nothing is written for it (it is counted and logged: _unhandled); an operator's retry of a parked
        one still clears its parked record."""
        if handler is None and not again:
            return "ignored"
        done = s.get(ProcessedEvent, (self._sub.group_id, env.id))
        if done is not None:
            if not (again and done.outcome == "parked"):
                return "duplicate"
            s.delete(done)
            s.flush()
        if handler is None:
            return "ignored"
        return self._handle_in(s, env, handler)

    def _handle_in(
        self, s: Session, env: cloudevents.Envelope, handler: tuple[type[Message], Handler]
    ) -> str:
        """The handler's effect and the event's processed record (an event not done before by the group)."""
        message_class, handle = handler
        handle(s, message_class.FromString(env.data), env)
        s.add(
            ProcessedEvent(
                consumer_group=self._sub.group_id,
                event_id=env.id,
                event_type=env.type,
                processed_at=self._clock.now(),
                outcome="handled",
            )
        )
        return "handled"

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
