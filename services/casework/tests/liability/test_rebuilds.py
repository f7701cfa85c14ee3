"""Rebuilding the liability timeline from a date keeps what was decided for later dates, and closing one of a paying
parent's cases recalculates the others, through the real casework server (real calculation service, gateways,
databases and broker).

- A rebuild from date D supersedes every segment in force on or after D. A segment that starts later was started by
  something that still applies from its own date (an expected change of circumstances, say: s.17(4) of the Child
  Support Act 1991, reg 18 of SI 2012/2677), so an annual review or a caseworker's recalculation from D calculates it
  again from its own start, as applying changes does.
- One calculation covers all of a paying parent's live cases and apportions the amount between the receiving parents
  (Sch 1 para 6 to the 1991 Act). When one case closes, the others are calculated again from the closure date.

Alex Turner (historic income £598.36 a week) pays Bethan Morgan for Amy and Ben (case created and calculated on 6
April 2026, £96 a week: 16% of £598.36 = £95.74 -> £96). Where a test says so, he also pays Siân Llewellyn-Price for
Osian (a second case from the same date)."""

from __future__ import annotations

import datetime as dt
import uuid

from google.type import date_pb2

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import events_pb2 as ev
from cms.casework.v1 import resources_pb2 as pb
from cms_devkit.testing import wait_until

from ..conftest import alex_and_bethan, events_of, person
from .test_timeline import (
    D,
    at_decision_day,
    child_leaves,
    d,
    day,
    income,
    new_roc,
    report_all,
    timeline,
)

ANNUAL_REVIEW = pb.CALCULATION_REASON_ANNUAL_REVIEW
CHANGE = pb.CALCULATION_REASON_CHANGE_OF_CIRCUMSTANCES


def starts(tl: pb.LiabilityTimeline) -> list[D | None]:
    return [day(s.start_date) for s in tl.segments]


def test_an_annual_review_recalculates_an_expected_change_dated_after_the_review(stack, clock):
    """On 15 March 2027 Alex tells us a relevant other child will join his household on 19 April. The annual review
    from 6 April 2027 supersedes the segment from 19 April, but the child still counts from that date: the review's
    figure is in force from 6 to 19 April, and from 19 April the same figure less 11% for the relevant other child."""
    case = stack.new_live_case()
    clock.set(dt.datetime(2027, 3, 15, 9, 0, tzinfo=dt.UTC))
    (roc,) = report_all(stack, clock, case, new_roc("AK200001C", D(2027, 4, 19)))
    stack.apply(case)
    assert starts(timeline(stack, case)) == [D(2026, 4, 6), D(2027, 4, 19)]

    run = stack.run_scheduled(d(D(2027, 3, 15)), api.SCHEDULED_JOB_ANNUAL_REVIEW)
    [result] = run.results
    assert (result.items_processed, result.items_failed) == (1, 0)

    tl = timeline(stack, case)
    assert starts(tl) == [D(2026, 4, 6), D(2027, 4, 6), D(2027, 4, 19)]
    review, later = tl.segments[1:]
    assert review.reason == ANNUAL_REVIEW and not review.changes_of_circumstances
    assert later.reason == CHANGE and list(later.changes_of_circumstances) == [roc.name]
    assert review.calculation != later.calculation
    # The review's income with one relevant other child: 11% off before the 16% for two qualifying children.
    assert later.weekly_amount_pence < review.weekly_amount_pence
    assert (
        "a change of circumstances taking effect on 19 April 2027" in later.explanation.explanation
    )
    # The decision in force is the last one; its plan steps from the review's amount to the later one.
    after = stack.call("GetCase", api.GetCaseRequest(name=case.name))
    assert after.latest_calculation.calculation == later.calculation
    assert after.latest_calculation.reason == ANNUAL_REVIEW
    assert day(after.annual_review_date) == D(2028, 4, 6)


def test_a_caseworker_recalculation_keeps_a_later_expected_change(stack, clock):
    """On 1 June 2026 a relevant other child is reported, expected from 15 June, and applied. A caseworker then
    recalculates the case from today: £96 from 1 June, and from 15 June the child still counts:
    £598.36 x 89% = £532.54, x 16% = £85.21 -> £85."""
    case = at_decision_day(stack, clock)
    (roc,) = report_all(stack, clock, case, new_roc("AK200002D", D(2026, 6, 15)))
    stack.apply(case)
    assert starts(timeline(stack, case)) == [D(2026, 4, 6), D(2026, 6, 15)]

    stack.call(
        "CalculateCase",
        api.CalculateCaseRequest(
            request_id=str(uuid.uuid4()),
            name=case.name,
            reason=pb.CALCULATION_REASON_CASEWORKER_REQUEST,
        ),
    )
    tl = timeline(stack, case)
    assert starts(tl) == [D(2026, 4, 6), D(2026, 6, 1), D(2026, 6, 15)]
    assert [s.weekly_amount_pence for s in tl.segments] == [96_00, 96_00, 85_00]
    assert tl.segments[1].reason == pb.CALCULATION_REASON_CASEWORKER_REQUEST
    assert list(tl.segments[2].changes_of_circumstances) == [roc.name]
    after = stack.call("GetCase", api.GetCaseRequest(name=case.name))
    assert after.latest_calculation.calculation == tl.segments[2].calculation


def _second_case(stack, *, calculate: bool = True) -> pb.Case:
    """Alex also pays Siân for Osian, from 6 April 2026."""
    request = alex_and_bethan()
    request.receiving_parent.CopyFrom(
        pb.Client(identity=person("AG765432A", "Siân", "Llewellyn-Price", (1983, 5, 17)))
    )
    del request.qualifying_children[1:]
    osian = request.qualifying_children[0]
    osian.name.forenames, osian.name.surname = "Osian", "Okafor"
    osian.date_of_birth.CopyFrom(date_pb2.Date(year=2014, month=11, day=11))
    osian.child_reference_number = "AK100005A"
    if not calculate:
        return stack.call("CreateCase", request)
    return stack.new_live_case(request)


def test_closing_a_case_recalculates_the_paying_parents_other_case_from_the_closure(stack, clock):
    """Bethan's case closes from 18 May, decided on 1 June. Siân's case, which had a share of the calculation
    covering Amy, Ben and Osian, is calculated again from 18 May for Osian alone: £598.36 x 12% = £71.80 -> £72. The
    14 days from 18 May to the decision were charged at her share, so (£72 - share) x 14 / 7 more is due. Retrying
    the same request does it once."""
    first = stack.new_live_case()
    second = _second_case(stack)
    clock.set(dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC))
    share = timeline(stack, second).segments[0].weekly_amount_pence
    assert share < 72_00  # a third of the calculation for three children
    request = api.CloseCaseRequest(
        request_id=str(uuid.uuid4()),
        name=first.name,
        reason=pb.CASE_CLOSURE_REASON_PARENTS_RECONCILED,
        effective_date=d(D(2026, 5, 18)),
    )
    closed = stack.call("CloseCase", request, as_=stack.team_leader())
    assert closed.state == pb.CASE_STATE_CLOSED

    theirs = timeline(stack, second, history=True)
    assert starts(theirs) == [D(2026, 4, 6), D(2026, 5, 18)]
    assert [s.weekly_amount_pence for s in theirs.segments] == [share, 72_00]
    assert theirs.segments[1].amount_due_pence == (72_00 - share) * 14 // 7
    assert theirs.segments[1].reason == CHANGE
    assert theirs.segments[1].explanation.citation == "Child Support Act 1991 s.17 and Sch 1 para 6"
    assert "another of the paying parent's cases closed on 18 May 2026" in (
        theirs.segments[1].explanation.explanation
    )
    again = stack.call("GetCase", api.GetCaseRequest(name=second.name))
    assert again.latest_calculation.weekly_amount_pence == 72_00
    assert again.latest_calculation.calculation == theirs.segments[1].calculation
    assert again.current_payment_plan and again.current_payment_plan != second.current_payment_plan
    plan = stack.call("GetPaymentPlan", api.GetPaymentPlanRequest(name=again.current_payment_plan))
    assert plan.backdated_amount_due_pence == (72_00 - share) * 14 // 7

    # The same request again answers the same and recalculates nothing more.
    assert stack.call("CloseCase", request, as_=stack.team_leader()) == closed
    assert timeline(stack, second, history=True) == theirs

    def announced():
        found = [
            ev.LiabilityTimelineRebuilt.FromString(r.value)
            for r in events_of(stack, second.name, "case.liability_timeline_rebuilt")
        ]
        return found if any(day(f.from_date) == D(2026, 5, 18) for f in found) else None

    rebuilt = wait_until(announced, timeout=60, what="the other case's rebuild to be announced")
    assert sum(day(f.from_date) == D(2026, 5, 18) for f in rebuilt) == 1


def test_a_change_that_closes_a_case_recalculates_the_paying_parents_other_case(stack, clock):
    """Osian is adopted on 18 May, which closes Siân's case. Bethan's case is calculated again from 18 May for Amy
    and Ben alone: 16% of £598.36 = £95.74 -> £96."""
    first = stack.new_live_case()
    second = _second_case(stack)
    clock.set(dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC))
    share = timeline(stack, first).segments[0].weekly_amount_pence
    assert share < 96_00
    (osian,) = (c.child_id for c in second.qualifying_children)
    report_all(stack, clock, second, child_leaves("QC_ROC_ADOPTED", osian, D(2026, 5, 18)))
    response = stack.apply(second)
    assert response.updated_case.state == pb.CASE_STATE_CLOSED

    mine = timeline(stack, first)
    assert starts(mine) == [D(2026, 4, 6), D(2026, 5, 18)]
    assert [s.weekly_amount_pence for s in mine.segments] == [share, 96_00]
    assert mine.segments[1].amount_due_pence == (96_00 - share) * 14 // 7
    assert mine.segments[1].explanation.citation == "Child Support Act 1991 s.17 and Sch 1 para 6"
    after = stack.call("GetCase", api.GetCaseRequest(name=first.name))
    assert after.latest_calculation.weekly_amount_pence == 96_00


def test_a_backdated_change_does_not_count_a_child_expected_later(stack, clock):
    """A relevant other child expected from 15 June is applied on 1 June; then a fall in income from 11 May is.
    The rebuild from 11 May counts the child only from 15 June: 11 May - 15 June £418.85 x 16% = £67.02 -> £67; from
    15 June £418.85 x 89% = £372.78, x 16% = £59.64 -> £60."""
    case = at_decision_day(stack, clock)
    report_all(stack, clock, case, new_roc("AK200003E", D(2026, 6, 15)))
    stack.apply(case)
    report_all(stack, clock, case, income(418_85, D(2026, 5, 11)))
    stack.apply(case)
    tl = timeline(stack, case)
    assert starts(tl) == [D(2026, 4, 6), D(2026, 5, 11), D(2026, 6, 15)]
    assert [s.weekly_amount_pence for s in tl.segments] == [96_00, 67_00, 60_00]
    after = stack.call("GetCase", api.GetCaseRequest(name=case.name))
    (roc,) = after.relevant_other_children
    assert day(roc.start_date) == D(2026, 6, 15)


def test_closing_an_application_never_calculated_leaves_the_other_case_alone(stack, clock):
    """Siân's application was never calculated, so Bethan's calculation never counted Osian: closing it changes
    nothing on Bethan's case."""
    first = stack.new_live_case()
    second = _second_case(stack, calculate=False)
    clock.set(dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC))
    before = timeline(stack, first, history=True)
    stack.call(
        "CloseCase",
        api.CloseCaseRequest(
            request_id=str(uuid.uuid4()),
            name=second.name,
            reason=pb.CASE_CLOSURE_REASON_PARENTS_RECONCILED,
        ),
        as_=stack.team_leader(),
    )
    assert timeline(stack, first, history=True) == before
