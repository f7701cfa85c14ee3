"""A stored bulk batch, written a table at a time, on the suite's database (PostgreSQL, or SQLite with
CMS_TEST_DATABASE=sqlite): the rows are those a decision made on its own writes — the Calculation as returned, its
CalculationCreated event in item order under the case's key, its remembered request id — and a re-sent batch stores
nothing new."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from google.type import date_pb2
from sqlalchemy import select

from cms.calculation.v1 import calculation_service_pb2 as api
from cms.calculation.v1 import events_pb2
from cms.calculation.v1 import resources_pb2 as pb
from cms_calculation.calculations import convert, service
from cms_calculation.calculations.bulk import BulkRunner
from cms_calculation.calculations.models import StoredCalculation
from cms_calculation.engine.rules import RuleBook
from cms_calculation.servicer import bulk_response
from cms_platform.clock import ManualClock
from cms_platform.db import Base, make_engine, make_sessionmaker
from cms_platform.idempotency import request_hash
from cms_platform.identity import bind_caller, reset_caller, service_caller
from cms_platform.models import PLATFORM_TABLES, IdempotentRequest, OutboxEvent

BOOK = RuleBook()


@pytest.fixture
def sessions(database_url):
    engine = make_engine(database_url("calculation"))
    Base.metadata.create_all(engine, tables=[StoredCalculation.__table__, *PLATFORM_TABLES])
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def casework():
    token = bind_caller(service_caller("casework"))
    yield
    reset_caller(token)


def item(n: int, *, nights: int = 0, children: int = 1, rps: int = 1) -> api.BulkCalculateItem:
    return api.BulkCalculateItem(
        request_id=str(uuid.uuid4()),
        case_reference=f"review-{n}",
        reason=pb.CALCULATION_REASON_ANNUAL_REVIEW,
        view=pb.CALCULATION_VIEW_FULL,
        input=pb.CalculationInput(
            effective_date=date_pb2.Date(year=2026, month=5, day=1),
            service_type=pb.SERVICE_TYPE_COLLECT_AND_PAY if n % 2 else pb.SERVICE_TYPE_DIRECT_PAY,
            paying_parent_reference=f"pp-{n}",
            paying_parent_income=pb.PayingParentIncome(
                hmrc_gross_annual_income_pence=5_000_00 + n * 7_919_00
            ),
            qualifying_children=[
                pb.QualifyingChild(
                    child_reference=f"c{k}",
                    receiving_parent_reference=f"rp{k % rps}",
                    shared_care_nights=nights,
                )
                for k in range(children)
            ],
        ),
    )


def run(sessions, items, clock):
    return service.bulk_batch(sessions=sessions, items=items, rule_book=BOOK, clock=clock)


def test_a_stored_batch_writes_each_decision_its_event_and_its_request_id(sessions, casework):
    clock = ManualClock(dt.datetime(2026, 5, 1, 9, tzinfo=dt.UTC))
    items = [
        item(n, nights=(0, 60, 175)[n % 3], children=1 + n % 3, rps=1 + n % 2) for n in range(12)
    ]
    items[4].input.qualifying_children[0].shared_care_nights = 999  # refused: the others are stored
    again = api.BulkCalculateItem()
    again.CopyFrom(items[2])  # the same item twice in one batch: one decision
    clash = api.BulkCalculateItem()
    clash.CopyFrom(items[3])
    clash.case_reference = "someone-else"  # the same id for a different item: refused
    outcomes = run(sessions, [*items, again, clash], clock)

    assert [o.error is None for o in outcomes] == [n != 4 for n in range(12)] + [True, False]
    assert outcomes[12].calculation == outcomes[2].calculation
    assert_stored(
        sessions, [(items[n], outcomes[n].calculation) for n in range(12) if n != 4], clock.now()
    )


def assert_stored(sessions, decided, created: dt.datetime) -> None:
    """Each (item, Calculation) is stored as returned, announced in item order and remembered; nothing else is."""
    with sessions() as s:
        rows = {r.id: r for r in s.scalars(select(StoredCalculation))}
        events = s.scalars(select(OutboxEvent).order_by(OutboxEvent.id)).all()
        remembered = {
            r.request_id: r
            for r in s.scalars(
                select(IdempotentRequest).where(IdempotentRequest.method == service.BULK_METHOD)
            )
        }
    assert len(rows) == len(events) == len(remembered) == len(decided)
    for (sent, calc), event in zip(decided, events, strict=True):
        assert calc is not None and calc.steps and calc.name.startswith("calculations/")
        row = rows[calc.name.removeprefix("calculations/")]
        assert pb.Calculation.FromString(row.calculation) == calc
        assert (row.case_reference, row.effective_date, row.rate) == (
            sent.case_reference,
            dt.date(2026, 5, 1),
            pb.Rate.Name(calc.rate).removeprefix("RATE_"),
        )
        assert row.created_at == created
        # In item order, keyed by the case, announcing this decision.
        assert (event.subject, event.partition_key) == (calc.name, f"cases/{sent.case_reference}")
        published = events_pb2.CalculationCreated.FromString(event.payload)
        assert (published.calculation, published.weekly_amount_pence) == (
            calc.name,
            calc.weekly_amount_pence,
        )
        assert published.paying_parent_reference == sent.input.paying_parent_reference
        request = remembered[sent.request_id]
        assert (request.request_hash, request.caller) == (request_hash(sent), "service:casework")
        assert pb.Calculation.FromString(request.response) == calc


@pytest.mark.parametrize("workers", [0, 1])
def test_stored_batches_decided_in_a_worker_are_written_as_in_the_service_process(
    sessions, casework, workers
):
    clock = ManualClock(dt.datetime(2026, 5, 1, 9, tzinfo=dt.UTC))
    items = [
        item(n, nights=(0, 60, 175)[n % 3], children=1 + n % 3, rps=1 + n % 2) for n in range(9)
    ]
    items[4].input.qualifying_children[0].shared_care_nights = 999  # refused in its slot
    items[7].rule_set_version = "reform-2025"  # only for what-ifs: refused
    mixed = item(20)
    mixed.what_if = True
    batches = [
        api.BulkCalculateRequest(items=items[:5]),
        api.BulkCalculateRequest(items=items[5:]),
        api.BulkCalculateRequest(items=[items[0], items[2]]),  # re-sent: answered from the database
        api.BulkCalculateRequest(items=[mixed, item(21)]),  # mixed: in the service process
    ]

    def write(batch, decided=None):
        return service.bulk_batch(
            sessions=sessions, items=batch, rule_book=BOOK, clock=clock, decided=decided
        )

    runner = BulkRunner(workers=workers, reform_start=None, clock=clock, respond=bulk_response)
    try:
        answers = list(runner.run(iter(batches), write, write))
    finally:
        runner.close()
    results = [r for answer in answers for r in answer.results]
    assert [r.WhichOneof("result") for r in results] == [
        "error" if n in (4, 7) else "calculation" for n in range(9)
    ] + ["calculation"] * 4
    assert "shared_care_nights" in results[4].error.message
    assert "rule_set_version" in results[7].error.message
    assert [r.calculation for r in results[9:11]] == [
        results[0].calculation,
        results[2].calculation,
    ]
    assert not results[11].calculation.name  # the what-if is not stored
    decided = [(items[n], results[n].calculation) for n in range(9) if n not in (4, 7)]
    assert_stored(sessions, [*decided, (batches[3].items[1], results[12].calculation)], clock.now())


def test_a_resent_batch_answers_the_same_decisions_and_stores_nothing_new(sessions, casework):
    clock = ManualClock(dt.datetime(2026, 5, 1, 9, tzinfo=dt.UTC))
    items = [item(n) for n in range(5)]
    first = run(sessions, items, clock)
    clock.advance(dt.timedelta(hours=1))
    second = run(sessions, [*items[2:], item(9)], clock)
    assert [o.calculation for o in second[:3]] == [o.calculation for o in first[2:]]
    with sessions() as s:
        assert len(s.scalars(select(StoredCalculation.id)).all()) == 6
        assert len(s.scalars(select(OutboxEvent.id)).all()) == 6
    token = bind_caller(service_caller("someone"))
    try:
        refused = run(sessions, items[:1], clock)
    finally:
        reset_caller(token)
    assert refused[0].error is not None and "another caller" in str(refused[0].error)


def test_an_item_a_concurrent_run_stored_first_is_answered_with_that_decision(
    sessions, casework, monkeypatch
):
    clock = ManualClock(dt.datetime(2026, 5, 1, 9, tzinfo=dt.UTC))
    items = [item(n) for n in range(4)]
    decide, raced = service._decide, {}

    def racing(**kwargs):
        # While this batch is deciding, another run stores item 2 and commits first.
        if not raced:
            raced["calc"] = None
            raced["calc"] = run(sessions, [items[2]], clock)[0].calculation
        return decide(**kwargs)

    monkeypatch.setattr(service, "_decide", racing)
    outcomes = run(sessions, items, clock)
    assert [o.error for o in outcomes] == [None] * 4
    assert outcomes[2].calculation == raced["calc"]
    monkeypatch.undo()
    # The concurrent run's event first; then the rest, each settled on its own, in item order.
    order = [2, 0, 1, 3]
    assert_stored(sessions, [(items[n], outcomes[n].calculation) for n in order], clock.now())


def test_a_basic_view_item_decided_in_a_worker_is_answered_with_the_basic_view_of_what_is_stored(
    sessions, casework
):
    clock = ManualClock(dt.datetime(2026, 5, 1, 9, tzinfo=dt.UTC))
    items = [item(n, nights=(0, 175)[n % 2], children=1 + n % 2) for n in range(4)]
    for sent in items[:3]:
        sent.view = pb.CALCULATION_VIEW_BASIC
    items.append(api.BulkCalculateItem())
    items[4].CopyFrom(items[0])  # the same item again in the batch: answered as the first

    def write(batch, decided=None):
        return service.bulk_batch(
            sessions=sessions, items=batch, rule_book=BOOK, clock=clock, decided=decided
        )

    runner = BulkRunner(workers=1, reform_start=None, clock=clock, respond=bulk_response)
    try:
        (answer,) = runner.run(iter([api.BulkCalculateRequest(items=items)]), write, write)
    finally:
        runner.close()
    results = [r.calculation for r in answer.results]
    with sessions() as s:
        stored = {
            f"calculations/{r.id}": pb.Calculation.FromString(r.calculation)
            for r in s.scalars(select(StoredCalculation))
        }
    assert len(stored) == 4
    for calc in results[:3]:
        assert not calc.steps and not calc.HasField("input")
        assert calc == convert.basic_view(stored[calc.name])
    assert results[3] == stored[results[3].name] and results[3].steps
    assert results[4] == results[0]
