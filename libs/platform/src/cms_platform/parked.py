"""Parked events, for the engineer on call: list, inspect, retry and discard them (docs/runbook.md, "Parked events").

A consumer parks an event whose handler failed on every attempt (cms_platform.consumer): its processed_events row has
outcome `parked` and the error, and the partition moves on. The event itself is on the broker (and in the publisher's
outbox). Here, in the service's own database and with its own subscriptions:

- `inspect` shows the row and the event as read from the broker, personal data masked as in the logs
  (cms_platform.redaction);
- `retry` reads the event from the broker and runs it through the group's handler, as the consumer does: handled,
  or parked again with the new error (its parked row is replaced in the transaction that applies it);
- `discard` marks it `discarded` with a reason: never applied, a redelivery skipped.

Every retry and discard is recorded with the operator's name: appended to the row's history (below its error, shown
by `inspect`) and logged at warning level. Run as `cms-<service> parked ...` (cms_platform.service.main).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog
from google.protobuf.json_format import MessageToDict
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from . import cloudevents
from .clock import Clock
from .consumer import IdempotentConsumer, Subscription
from .models import ProcessedEvent
from .redaction import redact, redact_text

if TYPE_CHECKING:
    from .service import CmsService

log = structlog.get_logger("cms.parked")

PARKED, DISCARDED = "parked", "discarded"
# What the operator did, one line each below the error: "--- retried <when> by <operator>: <outcome>".
HISTORY = "\n--- "


class ParkedError(Exception):
    """Why an action cannot be taken (no such parked event, several groups, not on the broker)."""


@dataclass(frozen=True)
class Parked:
    group: str
    event_id: str
    event_type: str
    parked_at: dt.datetime
    outcome: str
    # The error's last line, masked: the exception, not the stack.
    error: str


def _operator(operator: str) -> None:
    if not operator.strip():
        raise ParkedError("say who you are: --operator <your staff id>")


def _error_and_history(text: str | None) -> tuple[str, list[str]]:
    error, *history = (text or "").split(HISTORY)
    return error, history


def _with_history(error: str, history: Sequence[str]) -> str:
    return HISTORY.join([error, *history])


def _append(row: ProcessedEvent, line: str, *, history: Sequence[str] | None = None) -> None:
    """Add `line` to the row's history (`history`: the one to keep instead of the row's own, e.g. from before a
    retry replaced the row)."""
    error, kept = _error_and_history(row.error)
    row.error = _with_history(error, [*(kept if history is None else history), line])


def find_record(
    bootstrap: str,
    topics: Iterable[str],
    event_id: str,
    *,
    since: dt.datetime | None,
    timeout: float = 120.0,
) -> Any | None:
    """The Kafka record whose CloudEvents id is `event_id` on `topics`, read from `since` (the partitions' start
    when None or when the broker cannot look up by time) to their ends; None when it is not there."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        client_id="cms-parked",
        bootstrap_timeout_ms=10_000,
    )
    try:
        parts = [
            TopicPartition(t, p)
            for t in sorted(set(topics))
            for p in sorted(consumer.partitions_for_topic(t) or ())
        ]
        if not parts:
            return None
        consumer.assign(parts)
        ends = consumer.end_offsets(parts)
        starts: dict[Any, Any] = {}
        if since is not None:
            try:
                starts = consumer.offsets_for_times(
                    {tp: int(since.timestamp() * 1000) for tp in parts}
                )
            except Exception:  # noqa: BLE001 - a broker without time lookups: read from the start
                starts = {}
        remaining = set()
        for tp in parts:
            if tp in starts and starts[tp] is None:
                continue  # nothing on it since then
            if starts.get(tp) is not None:
                consumer.seek(tp, starts[tp].offset)
            else:
                consumer.seek_to_beginning(tp)
            remaining.add(tp)
        wanted = event_id.encode()
        deadline = time.monotonic() + timeout
        while remaining and time.monotonic() < deadline:
            remaining = {tp for tp in remaining if consumer.position(tp) < ends[tp]}
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    if dict(record.headers or ()).get("ce_id") == wanted:
                        return record
        return None
    finally:
        consumer.close()


class ParkedEvents:
    """The parked events of a service's consumer groups, in its database; the broker for inspect and retry."""

    def __init__(
        self,
        *,
        service: str,
        sessions: sessionmaker,
        clock: Clock,
        subscriptions: Sequence[Subscription],
        bootstrap_servers: str,
        lookback: dt.timedelta | None = dt.timedelta(days=1),
    ):
        self._service, self._sessions, self._clock = service, sessions, clock
        self._subs = {sub.group_id: sub for sub in subscriptions}
        self._bootstrap = bootstrap_servers
        # How far before an event was parked the broker is read for it (None: from the partitions' start).
        self.lookback = lookback

    def list(self, *, include_discarded: bool = False, group: str | None = None) -> list[Parked]:
        outcomes = (PARKED, DISCARDED) if include_discarded else (PARKED,)
        q = select(ProcessedEvent).where(
            ProcessedEvent.consumer_group.in_(self._subs), ProcessedEvent.outcome.in_(outcomes)
        )
        if group:
            q = q.where(ProcessedEvent.consumer_group == group)
        with self._sessions() as s:
            rows = s.scalars(q.order_by(ProcessedEvent.processed_at)).all()
        return [self._parked(r) for r in rows]

    def _parked(self, row: ProcessedEvent) -> Parked:
        error, _ = _error_and_history(row.error)
        last = error.strip().splitlines()[-1] if error.strip() else ""
        return Parked(
            group=row.consumer_group,
            event_id=row.event_id,
            event_type=row.event_type,
            parked_at=row.processed_at,
            outcome=row.outcome,
            error=redact_text(last)[:300],
        )

    def _row(self, event_id: str, group: str | None, outcomes: Iterable[str]) -> ProcessedEvent:
        with self._sessions() as s:
            q = select(ProcessedEvent).where(
                ProcessedEvent.event_id == event_id,
                ProcessedEvent.consumer_group.in_([group] if group else list(self._subs)),
                ProcessedEvent.outcome.in_(list(outcomes)),
            )
            rows = s.scalars(q).all()
        if not rows:
            raise ParkedError(f"no {'/'.join(outcomes)} event {event_id} in {self._service}")
        if len(rows) > 1:
            groups = ", ".join(sorted(r.consumer_group for r in rows))
            raise ParkedError(
                f"event {event_id} is parked by several groups ({groups}): give --group"
            )
        return rows[0]

    def _record(self, row: ProcessedEvent) -> Any | None:
        since = row.processed_at - self.lookback if self.lookback is not None else None
        return find_record(
            self._bootstrap, self._subs[row.consumer_group].topics, row.event_id, since=since
        )

    def inspect(self, event_id: str, *, group: str | None = None, broker: bool = True) -> dict:
        """The parked row and, when `broker`, the event as the broker has it; personal data masked."""
        row = self._row(event_id, group, (PARKED, DISCARDED))
        error, history = _error_and_history(row.error)
        out: dict[str, Any] = {
            "service": self._service,
            "group": row.consumer_group,
            "event_id": row.event_id,
            "type": row.event_type,
            "outcome": row.outcome,
            "parked_at": row.processed_at.isoformat(),
            "error": redact_text(error),
            "history": [redact_text(h) for h in history],
        }
        if not broker:
            return out
        record = self._record(row)
        if record is None:
            out["event"] = None
            return out
        env = cloudevents.from_kafka(record.headers, record.key, record.value)
        known = self._subs[row.consumer_group].handler_for(env.type)
        payload: Any
        if known is None:
            payload = f"({len(env.data)} bytes; no handler of the group takes this type)"
        else:
            payload = redact(
                MessageToDict(known[0].FromString(env.data), preserving_proto_field_name=True)
            )
        out["event"] = {
            "topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "key": redact_text((record.key or b"").decode(errors="replace")),
            "source": env.source,
            "subject": redact_text(env.subject),
            "time": env.time.isoformat(),
            "dataschema": env.dataschema,
            "data": payload,
        }
        return out

    def retry(self, event_id: str, *, operator: str, group: str | None = None) -> str:
        """Run the parked event through its group's handler now; returns the outcome ("handled", "ignored", or
        "parked" again)."""
        _operator(operator)
        row = self._row(event_id, group, (PARKED,))
        _, history = _error_and_history(row.error)
        record = self._record(row)
        if record is None:
            raise ParkedError(
                f"event {event_id} is not on the broker's topics since {row.processed_at - self.lookback}"
                if self.lookback is not None
                else f"event {event_id} is not on the broker's topics"
            )
        consumer = IdempotentConsumer(
            service=self._service,
            subscription=self._subs[row.consumer_group],
            bootstrap_servers=self._bootstrap,
            sessions=self._sessions,
            clock=self._clock,
        )
        outcome = consumer.handle_record(record.headers, record.key, record.value, again=True)
        self._note(
            row, history, f"retried {self._clock.now().isoformat()} by {operator}: {outcome}"
        )
        log.warning(
            "parked event retried",
            operator=operator,
            group=row.consumer_group,
            event_id=event_id,
            outcome=outcome,
        )
        return outcome

    def discard(
        self, event_id: str, *, operator: str, reason: str, group: str | None = None
    ) -> None:
        """Mark the parked event discarded: never applied, a redelivery skipped."""
        _operator(operator)
        if not reason.strip():
            raise ParkedError("a discard needs a reason")
        reason = redact_text(reason.strip())
        row = self._row(event_id, group, (PARKED,))
        with self._sessions.begin() as s:
            current = s.get(ProcessedEvent, (row.consumer_group, event_id), with_for_update=True)
            if current is None or current.outcome != PARKED:
                raise ParkedError(f"event {event_id} is no longer parked")
            current.outcome = DISCARDED
            _append(current, f"discarded {self._clock.now().isoformat()} by {operator}: {reason}")
        log.warning(
            "parked event discarded",
            operator=operator,
            group=row.consumer_group,
            event_id=event_id,
            reason=reason,
        )

    def _note(self, row: ProcessedEvent, history: Sequence[str], line: str) -> None:
        """Keep the history on the row the retry left (handled, or parked with a new error)."""
        with self._sessions.begin() as s:
            current = s.get(
                ProcessedEvent, (row.consumer_group, row.event_id), with_for_update=True
            )
            if current is not None:
                _append(current, line, history=history)


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="Parked events of this service's consumer groups (docs/runbook.md)."
    )
    sub = parser.add_subparsers(dest="action", required=True)
    listing = sub.add_parser("list", help="the parked events, oldest first")
    listing.add_argument("--all", action="store_true", help="discarded ones too")
    listing.add_argument("--group")
    inspect = sub.add_parser(
        "inspect", help="one event: its row and the event from the broker, masked"
    )
    inspect.add_argument("event_id")
    inspect.add_argument("--group")
    inspect.add_argument("--no-broker", action="store_true", help="the row only")
    retry = sub.add_parser("retry", help="run the event through its group's handler now")
    retry.add_argument("event_id")
    retry.add_argument("--group")
    retry.add_argument("--operator", required=True, help="your staff id, recorded with the action")
    discard = sub.add_parser("discard", help="never apply the event")
    discard.add_argument("event_id")
    discard.add_argument("--group")
    discard.add_argument(
        "--operator", required=True, help="your staff id, recorded with the action"
    )
    discard.add_argument("--reason", required=True, help="why it needs no effect")
    for p in (inspect, retry):
        p.add_argument(
            "--lookback-hours",
            type=float,
            default=24.0,
            help="read the broker from this long before the event was parked (0: from the start)",
        )
    return parser


def run(events_: ParkedEvents, args: argparse.Namespace, out: Any = None) -> int:
    """Carry out a parsed command, printing to `out` (stdout); returns the exit code (1 when the event could not
    be retried or found)."""
    out = out or sys.stdout
    if getattr(args, "lookback_hours", None) is not None:
        hours = args.lookback_hours
        events_.lookback = dt.timedelta(hours=hours) if hours > 0 else None
    try:
        if args.action == "list":
            rows = events_.list(include_discarded=args.all, group=args.group)
            for p in rows:
                print(
                    f"{p.event_id}  {p.group}  {p.event_type}  {p.parked_at.isoformat()}  {p.outcome}  {p.error}",
                    file=out,
                )
            print(f"{len(rows)} event(s)", file=out)
        elif args.action == "inspect":
            shown = events_.inspect(args.event_id, group=args.group, broker=not args.no_broker)
            print(json.dumps(shown, indent=2, default=str), file=out)
        elif args.action == "retry":
            outcome = events_.retry(args.event_id, operator=args.operator, group=args.group)
            print(f"{args.event_id}: {outcome}", file=out)
            return 0 if outcome != PARKED else 1
        elif args.action == "discard":
            events_.discard(
                args.event_id, operator=args.operator, reason=args.reason, group=args.group
            )
            print(f"{args.event_id}: discarded", file=out)
    except ParkedError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return 0


def main(service: CmsService, argv: Sequence[str]) -> int:
    """`cms-<service> parked ...` for a service built with its settings (not started)."""
    args = _parser(f"cms-{service.name} parked").parse_args(list(argv))
    events_ = ParkedEvents(
        service=service.name,
        sessions=service.sessions,
        clock=service.clock,
        subscriptions=service.subscriptions(),
        bootstrap_servers=service.settings.kafka_bootstrap_servers or "",
    )
    return run(events_, args)


__all__ = ["Parked", "ParkedError", "ParkedEvents", "find_record", "main", "run"]
