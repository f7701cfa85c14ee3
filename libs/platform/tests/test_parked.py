"""Parked events for the engineer on call (cms_platform.parked), on a real database and a real broker: an event
published through the outbox is parked by a consumer whose handler fails; it is listed and inspected without the
personal data it carries, retried once the handler is fixed (its effect made once, its history kept with the
operator's name), parked again when the retry fails too, and discarded with a reason, after which a redelivery is
skipped."""

from __future__ import annotations

import argparse
import io
import json
import uuid

import pytest
from sqlalchemy import select

from cms.hmrc.v1 import events_pb2 as hmrc_events
from cms_devkit.testing import outbox_relay
from cms_platform import outbox
from cms_platform.consumer import IdempotentConsumer, Subscription
from cms_platform.models import ProcessedEvent
from cms_platform.parked import ParkedError, ParkedEvents, _parser, find_record, run
from cms_platform.service import ensure_topics

NINO = "AA123456A"
UPDATED = hmrc_events.AnnualIncomeUpdated


class _World:
    """A topic of the test's own with one event on it (carrying a NINO), a group whose handler fails until fixed,
    and the group's parked events."""

    def __init__(self, sessions, clock, kafka_bootstrap: str):
        tag = uuid.uuid4().hex[:8]
        self.sessions, self.clock, self.bootstrap = sessions, clock, kafka_bootstrap
        self.topic, self.group = f"test.parked.{tag}", f"parked-{tag}"
        ensure_topics(kafka_bootstrap, [self.topic], partitions=2)
        with sessions.begin() as s:
            self.event_id = outbox.publish(
                s,
                clock=clock,
                topic=self.topic,
                key="interests/i-1",
                subject="interests/i-1",
                message=UPDATED(
                    interest_id="i-1", case_id="c-1", nino=NINO, gross_income_pence=3_120_000
                ),
            ).event_id
        relay = outbox_relay(sessions, clock, kafka_bootstrap)
        assert relay.relay_once() == 1
        relay.stop()
        self.fixed = False
        self.applied: list[str] = []

        def handle(s, event, envelope) -> None:
            if not self.fixed:
                raise LookupError(f"no interest for {event.nino}")
            # The effect, in the transaction that records the event.
            s.add(
                ProcessedEvent(
                    consumer_group=f"{self.group}-effect",
                    event_id=envelope.id,
                    event_type="effect",
                    processed_at=clock.now(),
                )
            )
            self.applied.append(envelope.id)

        # The test's topic besides the message's declared one, which the event is not on.
        self.subscription = Subscription(self.group, {UPDATED: handle}, extra_topics=(self.topic,))
        self.consumer = IdempotentConsumer(
            service="test",
            subscription=self.subscription,
            bootstrap_servers=kafka_bootstrap,
            sessions=sessions,
            clock=clock,
            max_attempts=2,
        )
        self.record = find_record(kafka_bootstrap, [self.topic], self.event_id, since=None)
        assert self.record is not None
        self.parked = ParkedEvents(
            service="test",
            sessions=sessions,
            clock=clock,
            subscriptions=[self.subscription],
            bootstrap_servers=kafka_bootstrap,
        )

    def deliver(self) -> str:
        return self.consumer.handle_record(self.record.headers, self.record.key, self.record.value)

    def row(self) -> ProcessedEvent:
        with self.sessions() as s:
            return s.scalars(
                select(ProcessedEvent).where(
                    ProcessedEvent.consumer_group == self.group,
                    ProcessedEvent.event_id == self.event_id,
                )
            ).one()


@pytest.fixture
def world(sessions, clock, kafka_bootstrap) -> _World:
    w = _World(sessions, clock, kafka_bootstrap)
    assert w.deliver() == "parked"
    return w


def test_a_parked_event_is_listed_and_inspected_without_its_personal_data(world):
    (listed,) = world.parked.list()
    assert (listed.group, listed.event_id, listed.event_type, listed.outcome) == (
        world.group,
        world.event_id,
        "uk.gov.cms.hmrc.interest.annual_income_updated.v1",
        "parked",
    )
    assert "LookupError" in listed.error and NINO not in listed.error
    assert world.consumer.observe_parked() == 1

    shown = world.parked.inspect(world.event_id)
    text = json.dumps(shown)
    assert NINO not in text
    assert shown["event"]["topic"] == world.topic
    assert shown["event"]["data"]["nino"] == "[redacted]"
    assert shown["event"]["data"]["gross_income_pence"] == "3120000"  # the rest as it is
    assert shown["error"].startswith("LookupError") and shown["history"] == []


def test_a_retry_after_the_fix_applies_the_event_once_and_keeps_who_retried_it(world):
    world.fixed = True
    assert world.parked.retry(world.event_id, operator="oncall-7") == "handled"
    assert world.applied == [world.event_id]
    row = world.row()
    assert row.outcome == "handled"
    assert "retried" in row.error and "by oncall-7: handled" in row.error
    assert world.parked.list() == [] and world.consumer.observe_parked() == 0
    assert world.deliver() == "duplicate"  # the broker delivering it again has no second effect
    assert world.applied == [world.event_id]
    with pytest.raises(ParkedError):
        world.parked.retry(world.event_id, operator="oncall-7")


def test_a_retry_that_fails_again_leaves_it_parked_with_the_new_error_and_the_history(world):
    assert world.parked.retry(world.event_id, operator="oncall-7") == "parked"
    row = world.row()
    assert row.outcome == "parked" and world.applied == []
    shown = world.parked.inspect(world.event_id, broker=False)
    assert shown["error"].startswith("LookupError")
    assert len(shown["history"]) == 1 and shown["history"][0].endswith("by oncall-7: parked")


def test_a_discarded_event_is_never_applied_and_the_reason_is_kept_masked(world):
    with pytest.raises(ParkedError):
        world.parked.discard(world.event_id, operator="oncall-7", reason=" ")
    with pytest.raises(ParkedError):
        world.parked.discard(world.event_id, operator=" ", reason="no one said who")
    world.parked.discard(world.event_id, operator="oncall-7", reason=f"made by hand for {NINO}")
    row = world.row()
    assert row.outcome == "discarded"
    # The error is stored as the consumer recorded it (shown masked); the operator's reason is stored masked.
    history = row.error.split("\n--- ")[1:]
    assert len(history) == 1 and history[0].endswith("by oncall-7: made by hand for [redacted]")
    assert world.parked.list() == []
    assert [p.outcome for p in world.parked.list(include_discarded=True)] == ["discarded"]
    world.fixed = True
    assert world.deliver() == "duplicate" and world.applied == []
    with pytest.raises(ParkedError):
        world.parked.retry(world.event_id, operator="oncall-7")


def test_the_command_line_lists_retries_and_refuses_an_unknown_event(world):
    def cli(*argv: str) -> tuple[int, str]:
        out = io.StringIO()
        args: argparse.Namespace = _parser("cms-test parked").parse_args(list(argv))
        return run(world.parked, args, out), out.getvalue()

    code, out = cli("list")
    assert code == 0 and world.event_id in out and "1 event(s)" in out and NINO not in out
    code, out = cli("inspect", world.event_id)
    assert code == 0 and json.loads(out)["event_id"] == world.event_id and NINO not in out
    assert cli("retry", str(uuid.uuid4()), "--operator", "oncall-7")[0] == 1
    assert (
        cli("retry", world.event_id, "--operator", "oncall-7")[0] == 1
    )  # still failing: parked again
    world.fixed = True
    code, out = cli("retry", world.event_id, "--operator", "oncall-7", "--lookback-hours", "0")
    assert (code, out.strip()) == (0, f"{world.event_id}: handled")
    with pytest.raises(SystemExit):
        _parser("cms-test parked").parse_args(
            ["discard", world.event_id, "--operator", "x"]
        )  # no reason
