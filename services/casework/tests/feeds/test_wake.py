"""The feed applier starts when a feed event that raised a change commits, not at its next tick. The stack here ticks
once an hour (feed_apply_interval_seconds), so within these tests only the wake can apply anything."""

from __future__ import annotations

import threading
import uuid

import pytest

from cms.casework.v1 import resources_pb2 as pb
from cms.dwp.v1 import events_pb2 as dwp_ev
from cms.dwp.v1 import resources_pb2 as dwp_pb
from cms_casework.changes import service as changes
from cms_casework.feeds import handlers as feeds
from cms_platform import cloudevents, events
from cms_platform.consumer import IdempotentConsumer, Subscription

from ..conftest import d

HOUR = 3600.0


@pytest.fixture
def feed_apply_interval_seconds() -> float:
    return HOUR


def test_a_cis_broadcast_is_applied_when_its_event_commits_not_at_the_next_tick(stack):
    case = stack.new_live_case()
    stack.award_jsa()
    # Far below the hour-long tick: only the wake can have applied it.
    held = stack.recalculated(case)
    assert held.latest_calculation.reason == pb.CALCULATION_REASON_CHANGE_OF_CIRCUMSTANCES
    assert held.latest_calculation.rate == "FLAT"


def _broadcast(stack, case: pb.Case, clock, role=dwp_pb.CASE_ROLE_PAYING_PARENT) -> list:
    """A CIS AWARD_STARTED broadcast for the case's paying parent, as Kafka headers and value."""
    message = dwp_ev.BenefitInformationChanged(
        interest_id=str(uuid.uuid4()),
        case_id=case.name.removeprefix("cases/"),
        role=role,
        nino=case.paying_parent.identity.nino,
        change_kind=dwp_ev.BENEFIT_CHANGE_KIND_AWARD_STARTED,
        effective_date=d(2026, 4, 6),
        award=dwp_pb.BenefitAward(
            nino=case.paying_parent.identity.nino,
            benefit_type=dwp_pb.BENEFIT_TYPE_JOBSEEKERS_ALLOWANCE_INCOME_BASED,
        ),
    )
    env = cloudevents.Envelope(
        id=str(uuid.uuid4()),
        type=events.event_type(dwp_ev.BenefitInformationChanged),
        source="/cms/dwp-gateway",
        subject=case.name,
        time=clock.now(),
        dataschema=dwp_ev.BenefitInformationChanged.DESCRIPTOR.full_name,
        partitionkey=message.interest_id,
        data=message.SerializeToString(),
    )
    return [cloudevents.to_kafka_headers(env), message.interest_id.encode(), env.data]


def _consumer(stack, clock, subscription: Subscription) -> IdempotentConsumer:
    return IdempotentConsumer(
        service="casework",
        subscription=subscription,
        bootstrap_servers="unused",  # records are handed to it (handle_record), not polled
        sessions=stack.casework.sessions,
        clock=clock,
        max_attempts=1,
    )


def test_the_wake_comes_after_the_commit_and_only_for_a_change_to_apply(stack, clock):
    case = stack.new_live_case()
    seen: list[list[str]] = []

    def wake() -> None:
        # What a fresh transaction sees at the wake: the change must already be committed.
        with stack.casework.sessions() as s:
            seen.append(sorted(changes.feed_work(s)))

    consumer = _consumer(stack, clock, feeds.subscription(clock=clock, group="wake-1", wake=wake))
    receiving = _broadcast(stack, case, clock, role=dwp_pb.CASE_ROLE_RECEIVING_PARENT)
    assert consumer.handle_record(*receiving) == "handled"
    assert seen == []  # nothing raised for the receiving parent's award: no pass
    assert consumer.handle_record(*_broadcast(stack, case, clock)) == "handled"
    assert seen == [[case.name.removeprefix("cases/")]]


def test_a_consumer_transaction_that_rolls_back_wakes_nothing(stack, clock):
    case = stack.new_live_case()
    woken = threading.Event()
    real = feeds.subscription(clock=clock, group="wake-2", wake=woken.set)
    cls = dwp_ev.BenefitInformationChanged
    _, handle = real.handler_for(events.event_type(cls))

    def then_fails(db, event, env) -> None:
        handle(db, event, env)  # the change is raised (and the wake registered) ...
        raise RuntimeError("a later step of the transaction fails")  # ... then it all rolls back

    consumer = _consumer(stack, clock, Subscription("wake-2", {cls: then_fails}))
    assert consumer.handle_record(*_broadcast(stack, case, clock)) == "parked"
    with stack.casework.sessions() as s:
        assert sorted(changes.feed_work(s)) == []
    assert not woken.is_set()
