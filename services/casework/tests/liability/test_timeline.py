"""The liability timeline through the real casework server (real calculation service, gateways, databases and
broker): each change from its own effective date (s.17(4) of the Child Support Act 1991, reg 18 of SI 2012/2677), one
calculation per date, backdated segments with what they make due or overpaid, closures, the reg 23(4) and reg 34
income rules, and who may read a timeline.

Alex Turner (£31,200 a year PAYE: historic income 3,120,000 x 7 / 365 = £598.36 a week) pays Bethan Morgan for Amy
and Ben. The case is created and calculated on Monday 6 April 2026 (its initial effective date); the changes are
applied on Monday 1 June 2026 unless a test says otherwise. Weekly amounts are worked by hand from the basic rate
(Sch 1 para 2 to the 1991 Act: 12% / 16% of gross weekly income for one / two qualifying children, after 11% / 14% off
for one / two relevant other children, rounded to the whole pound)."""

from __future__ import annotations

import datetime as dt
import uuid

import grpc
from google.type import date_pb2

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import events_pb2 as ev
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms_devkit.testing import wait_until

from ..conftest import alex_and_bethan, error, events_of, person

T = pb.ChangeOfCircumstancesType
APPLIED = pb.CHANGE_OF_CIRCUMSTANCES_STATE_APPLIED
D = dt.date
DECISION_DAY = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


def d(day: D) -> date_pb2.Date:
    return date_pb2.Date(year=day.year, month=day.month, day=day.day)


def t(name: str) -> int:
    return T.Value(f"CHANGE_OF_CIRCUMSTANCES_TYPE_{name}")


def dated(change: pb.ChangeOfCircumstances, on: D | None) -> pb.ChangeOfCircumstances:
    if on is not None:
        change.effective_date.CopyFrom(d(on))
    return change


def income(pence: int, on: D | None = None) -> pb.ChangeOfCircumstances:
    return dated(
        pb.ChangeOfCircumstances(
            type=t("CHANGE_INCOME"),
            income_change=pb.IncomeChange(
                current_gross_weekly_income_pence=pence, source=pb.INCOME_SOURCE_PAYSLIPS
            ),
        ),
        on,
    )


def child_leaves(type_name: str, child_id: str, on: D) -> pb.ChangeOfCircumstances:
    return dated(
        pb.ChangeOfCircumstances(type=t(type_name), child_change=pb.ChildChange(child_id=child_id)),
        on,
    )


def new_roc(reference: str, on: D | None = None) -> pb.ChangeOfCircumstances:
    return dated(
        pb.ChangeOfCircumstances(
            type=t("NEW_ROC_IN_NRP_HOUSEHOLD"),
            new_child=pb.NewChild(
                name=common.PersonName(forenames="Cai", surname="Turner"),
                date_of_birth=date_pb2.Date(year=2024, month=1, day=5),
                child_reference_number=reference,
            ),
        ),
        on,
    )


def benefit_started(benefit: str, on: D) -> pb.ChangeOfCircumstances:
    return dated(
        pb.ChangeOfCircumstances(
            type=t("CHANGE_BENEFIT_DETAILS"),
            benefit_details_change=pb.BenefitDetailsChange(
                benefit=benefit, change=pb.BENEFIT_CHANGE_STARTED
            ),
        ),
        on,
    )


def report_all(stack, clock, case, *changes) -> list[pb.ChangeOfCircumstances]:
    out = []
    for change in changes:
        clock.advance(dt.timedelta(minutes=1))
        out.append(stack.verify(stack.report(case, change)))
    return out


def timeline(stack, case, *, history: bool = False, as_=None) -> pb.LiabilityTimeline:
    return stack.call(
        "GetLiabilityTimeline",
        api.GetLiabilityTimelineRequest(
            name=f"{case.name}/liabilityTimeline", include_superseded=history
        ),
        as_=as_,
    )


def day(date: date_pb2.Date) -> D | None:
    return D(date.year, date.month, date.day) if date.year else None


def shape(tl: pb.LiabilityTimeline) -> list[tuple]:
    """(start, end, weekly pence, amount due, amount overpaid) of each segment in force."""
    return [
        (
            day(s.start_date),
            day(s.end_date),
            s.weekly_amount_pence,
            s.amount_due_pence,
            s.amount_overpaid_pence,
        )
        for s in tl.segments
    ]


def at_decision_day(stack, clock) -> pb.Case:
    case = stack.new_live_case()
    assert case.latest_calculation.weekly_amount_pence == 96_00  # 16% of £598.36 = £95.74 -> £96
    clock.set(DECISION_DAY)
    return case


def test_five_changes_on_four_dates_one_backdated_match_the_hand_worked_segments(stack, clock):
    case = at_decision_day(stack, clock)
    amy, ben = (c.child_id for c in case.qualifying_children)
    income_fall, ben_leaves, first_roc, second_roc, income_rise = report_all(
        stack,
        clock,
        case,
        income(418_85, D(2026, 5, 11)),  # backdated: -30% of £598.36, reported three weeks late
        child_leaves("QC_NOT_IN_FULL_TIME_EDUCATION", ben, D(2026, 6, 1)),
        new_roc("AK200001C"),  # from the date of notification: today
        new_roc("AK200002D", D(2026, 6, 15)),  # expected
        income(650_00, D(2026, 6, 29)),  # expected: +55% of the current £418.85
    )
    response = stack.apply(case)
    assert {c.state for c in response.changes_of_circumstances} == {APPLIED}

    tl = timeline(stack, case, history=True)
    # By hand:
    # 6 Apr - 11 May: the first calculation, £96 (carried on unchanged, nothing new due).
    # 11 May - 1 Jun: £418.85 x 16% = £67.02 -> £67. 21 days before the decision at £29 a week less than the £96
    #   in force: 2,900 x 21 / 7 = 8,700 pence overpaid.
    # 1 Jun - 15 Jun: Ben left, one relevant other child: £418.85 x 89% = £372.78, x 12% = £44.73 -> £45.
    # 15 Jun - 29 Jun: two relevant other children: £418.85 x 86% = £360.21, x 12% = £43.23 -> £43.
    # 29 Jun on: current income already in place moves to £650 (reg 23(4)): £650 x 86% = £559, x 12% = £67.08 -> £67.
    assert shape(tl) == [
        (D(2026, 4, 6), D(2026, 5, 11), 96_00, 0, 0),
        (D(2026, 5, 11), D(2026, 6, 1), 67_00, 0, 87_00),
        (D(2026, 6, 1), D(2026, 6, 15), 45_00, 0, 0),
        (D(2026, 6, 15), D(2026, 6, 29), 43_00, 0, 0),
        (D(2026, 6, 29), None, 67_00, 0, 0),
    ]
    assert [sorted(s.changes_of_circumstances) for s in tl.segments] == [
        [],
        [income_fall.name],
        sorted([ben_leaves.name, first_roc.name]),
        [second_roc.name],
        [income_rise.name],
    ]
    assert tl.segments[1].backdated_days == 21 and tl.segments[2].backdated_days == 0
    assert all(s.rule_set_version for s in tl.segments)
    assert [s.rate for s in tl.segments] == ["BASIC"] * 5
    # The first calculation's open segment is kept as history, superseded by this rebuild; the first segment in force
    # is carried from it.
    (original,) = tl.superseded_segments
    assert original.state == pb.LIABILITY_SEGMENT_STATE_SUPERSEDED and not original.end_date.year
    assert tl.segments[0].carried_from == original.name
    assert original.superseded_by_rebuild == tl.segments[1].rebuild
    assert (tl.amount_due_pence, tl.amount_overpaid_pence) == (0, 87_00)
    # Each segment says in plain English what its decision did, with the rule: the carried one keeps the first
    # calculation's words; the backdated one says what its days before the decision make overpaid.
    assert tl.segments[0].explanation == original.explanation
    assert tl.segments[0].explanation.citation == "Child Support Act 1991 s.11 and Sch 1"
    backdated = tl.segments[1].explanation
    assert backdated.citation == "Child Support Act 1991 s.17(4); SI 2012/2677 reg 18"
    assert "from 11 May 2026 goes down from £96.00 to £67.00" in backdated.explanation
    assert (
        "The 21 days before the decision make £87.00 less due (overpaid)." in backdated.explanation
    )
    assert "2 changes of circumstances" in tl.segments[2].explanation.explanation
    # One calculation per date, each change answered by the calculation in force from its own date.
    by_name = {c.name: c for c in response.changes_of_circumstances}
    assert len({s.calculation for s in tl.segments[1:]}) == 4
    assert by_name[income_fall.name].calculation == tl.segments[1].calculation
    assert by_name[second_roc.name].calculation == tl.segments[3].calculation
    after = stack.call("GetCase", api.GetCaseRequest(name=case.name))
    assert after.latest_calculation.calculation == tl.segments[4].calculation
    assert after.latest_calculation.income_basis == "CURRENT_IN_PLACE"
    # The plan starts today, shows the backdated overpayment and the liability's start, and steps through the
    # amounts already decided for later dates.
    plan = stack.call("GetPaymentPlan", api.GetPaymentPlanRequest(name=response.payment_plan))
    assert day(plan.period.start_date) == D(2026, 6, 1)
    assert day(plan.liability_start_date) == D(2026, 5, 11)
    assert (plan.backdated_amount_due_pence, plan.backdated_amount_overpaid_pence) == (0, 87_00)
    # Monthly from 1 June: 14 days at £45, 14 at £43 and 2 at £67 = (630 + 602 + 134) x 100 / 7 ... each part rounded:
    # 4500 x 14 / 7 = 9,000; 4300 x 14 / 7 = 8,600; 6700 x 2 / 7 = 1,914.3 -> 1,914.
    assert plan.payments[0].maintenance_pence == 9_000 + 8_600 + 1_914
    # July on: £67 a week monthly = 6,700 x 52 / 12 = 29,033.3 -> 29,033.
    assert plan.payments[1].maintenance_pence == 29_033

    # Each rebuild is announced: the first calculation's, then this one from 11 May with its four segments.
    def announced():
        found = [
            ev.LiabilityTimelineRebuilt.FromString(r.value)
            for r in events_of(stack, case.name, "case.liability_timeline_rebuilt")
        ]
        return found if len(found) >= 2 else None

    first, rebuilt = wait_until(announced, timeout=60, what="the rebuilds to be announced")
    assert day(first.from_date) == D(2026, 4, 6) and len(first.segments) == 1
    assert day(rebuilt.from_date) == D(2026, 5, 11)
    assert [s.name for s in rebuilt.segments] == [s.name for s in tl.segments[1:]]
    assert (rebuilt.amount_due_pence, rebuilt.amount_overpaid_pence) == (0, 87_00)


def test_a_jsa_award_starting_after_an_income_change_reaches_the_liability(stack, clock):
    """Two changes on two dates: the income change from 11 May, income-based JSA from 25 May. The flat rate (Sch 1
    para 4(1)(b)) applies from the JSA start; before, a single calculation from 11 May left the parent on the basic
    rate."""
    case = at_decision_day(stack, clock)
    report_all(
        stack,
        clock,
        case,
        income(418_85, D(2026, 5, 11)),
        benefit_started("JOBSEEKERS_ALLOWANCE_INCOME_BASED", D(2026, 5, 25)),
    )
    stack.apply(case)
    after = stack.call("GetCase", api.GetCaseRequest(name=case.name))
    assert after.latest_calculation.rate == "FLAT"
    tl = timeline(stack, case)
    # 11 - 25 May: £67 instead of £96 for 14 days = 2,900 x 2 = 5,800 overpaid; 25 May - 1 Jun: £7 instead of £96
    # for 7 days = 8,900 overpaid.
    assert shape(tl) == [
        (D(2026, 4, 6), D(2026, 5, 11), 96_00, 0, 0),
        (D(2026, 5, 11), D(2026, 5, 25), 67_00, 0, 58_00),
        (D(2026, 5, 25), None, 7_00, 0, 89_00),
    ]
    assert [s.rate for s in tl.segments] == ["BASIC", "BASIC", "FLAT"]


def test_a_change_dated_between_the_initial_effective_date_and_the_decision_in_force_keeps_its_own_date(
    stack, clock
):
    """An income change from 4 May is applied on 4 May; on 1 June Ben's leaving education is reported from 20 April.
    It takes effect on 20 April (backdated), not on the decision in force's 4 May, and the 4 May segment is worked
    again with Ben gone."""
    case = stack.new_live_case()
    clock.set(dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC))
    report_all(stack, clock, case, income(418_85))
    stack.apply(case)
    assert day(
        stack.call("GetCase", api.GetCaseRequest(name=case.name)).latest_calculation.effective_date
    ) == D(2026, 5, 4)
    clock.set(DECISION_DAY)
    ben = case.qualifying_children[1].child_id
    report_all(
        stack, clock, case, child_leaves("QC_NOT_IN_FULL_TIME_EDUCATION", ben, D(2026, 4, 20))
    )
    (applied,) = stack.apply(case).changes_of_circumstances
    after = stack.call("GetCase", api.GetCaseRequest(name=case.name))
    # Answered by a calculation from its own date, not the decision in force's.
    assert applied.calculation and applied.calculation != after.latest_calculation.calculation
    tl = timeline(stack, case)
    assert tl.segments[1].calculation == applied.calculation
    # 20 Apr - 4 May: Amy alone on £598.36: 12% = £71.80 -> £72, against £96: 2,400 x 14 / 7 = 4,800 overpaid.
    # 4 May on: Amy alone on £418.85: 12% = £50.26 -> £50, against the £67 in force: 1,700 x 28 / 7 = 6,800 overpaid.
    assert shape(tl) == [
        (D(2026, 4, 6), D(2026, 4, 20), 96_00, 0, 0),
        (D(2026, 4, 20), D(2026, 5, 4), 72_00, 0, 48_00),
        (D(2026, 5, 4), None, 50_00, 0, 68_00),
    ]


def test_a_closing_change_after_another_recalculates_up_to_the_closure_and_ends_the_timeline(
    stack, clock
):
    """Ben dies on 4 May; Amy, now the last qualifying child, is adopted on 18 May, which closes the case. The liability between the two dates is recalculated (Amy alone) and the timeline ends on 18 May; the days
    from then to the decision that were charged at £96 are overpaid."""
    case = at_decision_day(stack, clock)
    amy, ben = (c.child_id for c in case.qualifying_children)
    report_all(
        stack,
        clock,
        case,
        child_leaves("DEATH_OF_QC", ben, D(2026, 5, 4)),
        child_leaves("QC_ROC_ADOPTED", amy, D(2026, 5, 18)),
    )
    response = stack.apply(case)
    assert response.updated_case.state == pb.CASE_STATE_CLOSED
    # Recalculated for the time between: Amy alone.
    assert response.updated_case.latest_calculation.weekly_amount_pence == 72_00
    tl = timeline(stack, case)
    # 4 - 18 May: Amy alone, £598.36 x 12% = £71.80 -> £72: 2,400 x 14 / 7 = 4,800 overpaid.
    # 18 May - 1 Jun: nothing owed; £96 was: 9,600 x 14 / 7 = 19,200 overpaid.
    assert shape(tl) == [
        (D(2026, 4, 6), D(2026, 5, 4), 96_00, 0, 0),
        (D(2026, 5, 4), D(2026, 5, 18), 72_00, 0, 48_00),
        (D(2026, 5, 18), D(2026, 6, 1), 0, 0, 192_00),
    ]
    assert not tl.segments[-1].calculation
    assert day(tl.end_date) == D(2026, 5, 18)


def test_a_later_income_change_is_measured_against_current_income_in_place(stack, clock):
    """Reg 23(4): £418.85 (-30%) is put in place; £560 is +33.7% of it, so it is applied and used, though it is within
    25% of historic income (£598.36): 16% of £560 = £89.60 -> £90, not the historic £96."""
    case = stack.new_live_case()
    report_all(stack, clock, case, income(418_85))
    stack.apply(case)
    clock.advance(dt.timedelta(days=1))
    (change,) = report_all(stack, clock, case, income(560_00))
    (applied,) = stack.apply(case).changes_of_circumstances
    assert applied.state == APPLIED and applied.income_change.change_basis_points == 3369
    after = stack.call("GetCase", api.GetCaseRequest(name=case.name))
    assert after.latest_calculation.gross_weekly_income_pence == 560_00
    assert after.latest_calculation.income_basis == "CURRENT_IN_PLACE"
    assert after.latest_calculation.weekly_amount_pence == 90_00


def test_only_staff_and_the_cases_own_parents_read_its_timeline(stack, clock):
    case = stack.new_live_case()
    tl = timeline(stack, case)
    assert shape(tl) == [(D(2026, 4, 6), None, 96_00, 0, 0)]
    assert tl.segments[0].reason == pb.CALCULATION_REASON_INITIAL
    alex = stack.creds.client(case.paying_parent.name.removeprefix("clients/"))
    assert timeline(stack, case, as_=alex) == tl
    stranger = stack.creds.client(str(uuid.uuid4()))
    err = error(lambda: timeline(stack, case, as_=stranger))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    err = error(
        lambda: stack.call("GetLiabilityTimeline", api.GetLiabilityTimelineRequest(name=case.name))
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT


def _earns_a_year(stack, nino: str, pence: int) -> None:
    """The simulated HMRC record of `nino` earns `pence` a year in each tax year it holds and in its current pay (a
    scenario admin's edit)."""
    from cms.hmrc.v1 import hmrc_scenario_service_pb2 as hmrc_sc
    from cms.hmrc.v1 import hmrc_scenario_service_pb2_grpc as hmrc_sc_grpc

    admin = stack.creds.staff("scenario-admin", "scenario_admin")
    with grpc.insecure_channel(f"127.0.0.1:{stack.services['hmrc'].server.port}") as channel:
        scenario = hmrc_sc_grpc.HmrcScenarioServiceStub(channel)
        held = scenario.GetPerson(hmrc_sc.GetPersonRequest(nino=nino), metadata=admin, timeout=10)
        for year in held.tax_years:
            for i, paid in enumerate(year.paye_income):
                paid.taxable_pay_pence = pence if i == 0 else 0
                paid.taxable_benefits_pence = paid.employee_pension_contributions_pence = 0
            year.ClearField("self_assessment")
        # RTI's current pay agrees, so the application keeps historic income (reg 34 of SI 2012/2677).
        live = next(e for e in held.employments if not e.employment.end_date.year)
        live.ClearField("pay_changes")
        live.pay_changes.add(
            effective_date=date_pb2.Date(year=2024, month=4, day=6), annual_taxable_pay_pence=pence
        )
        scenario.UpsertPerson(
            hmrc_sc.UpsertPersonRequest(request_id=str(uuid.uuid4()), person=held),
            metadata=admin,
            timeout=10,
        )


def test_the_income_tolerance_is_measured_against_historic_income_before_the_cap(stack, clock):
    """Reg 34 of SI 2012/2677: £208,571.43 a year is £4,000 a week (20,857,143 x 7 / 365), capped at £3,000 for the
    calculation. A fall to £2,900 is 27.5% of the £4,000 historic income, so it is applied; measured against the capped
    £3,000 it would be 3.3% and ignored."""
    _earns_a_year(stack, "AA123456A", 20_857_143)
    case = stack.new_live_case()
    assert case.latest_calculation.gross_weekly_income_pence == 3_000_00
    assert case.latest_calculation.historic_weekly_income_pence == 4_000_00
    report_all(stack, clock, case, income(2_900_00))
    (applied,) = stack.apply(case).changes_of_circumstances
    assert applied.state == APPLIED
    assert applied.income_change.change_basis_points == -2750
    after = stack.call("GetCase", api.GetCaseRequest(name=case.name))
    assert after.latest_calculation.gross_weekly_income_pence == 2_900_00


def test_closing_a_case_from_an_earlier_date_ends_its_timeline_there(stack, clock):
    """CloseCase from 18 May, decided on 1 June: the £96 segment is carried on to 18 May and the 14 days after it,
    charged at £96, are overpaid: 9,600 x 14 / 7 = 19,200."""
    case = at_decision_day(stack, clock)
    stack.call(
        "CloseCase",
        api.CloseCaseRequest(
            request_id=str(uuid.uuid4()),
            name=case.name,
            reason=pb.CASE_CLOSURE_REASON_PARENTS_RECONCILED,
            effective_date=d(D(2026, 5, 18)),
        ),
        as_=stack.team_leader(),
    )
    tl = timeline(stack, case)
    assert shape(tl) == [
        (D(2026, 4, 6), D(2026, 5, 18), 96_00, 0, 0),
        (D(2026, 5, 18), D(2026, 6, 1), 0, 0, 192_00),
    ]
    assert day(tl.end_date) == D(2026, 5, 18)


def test_applying_again_under_the_same_request_id_rebuilds_nothing_more(stack, clock):
    case = at_decision_day(stack, clock)
    report_all(stack, clock, case, income(418_85, D(2026, 5, 11)))
    request = api.ApplyChangesOfCircumstancesRequest(request_id=str(uuid.uuid4()), parent=case.name)
    first = stack.call("ApplyChangesOfCircumstances", request, timeout=30)
    before = timeline(stack, case, history=True)
    assert stack.call("ApplyChangesOfCircumstances", request, timeout=30) == first
    assert timeline(stack, case, history=True) == before
    assert len(before.segments) == 2 and len(before.superseded_segments) == 1


def test_a_backdated_change_rebuilds_the_paying_parents_other_case_from_the_same_date(stack, clock):
    """Alex also pays Siân for Osian (a second case, calculated on 6 April: one calculation covers both). Bethan's
    case's income change from 11 May and JSA from 25 May, applied on 1 June, recalculate both cases from each date."""
    first = stack.new_live_case()
    second_request = alex_and_bethan()
    second_request.receiving_parent.CopyFrom(
        pb.Client(identity=person("AG765432A", "Siân", "Llewellyn-Price", (1983, 5, 17)))
    )
    del second_request.qualifying_children[1:]
    osian = second_request.qualifying_children[0]
    osian.name.forenames, osian.name.surname = "Osian", "Okafor"
    osian.date_of_birth.CopyFrom(date_pb2.Date(year=2014, month=11, day=11))
    osian.child_reference_number = "AK100005A"
    second = stack.new_live_case(second_request)
    clock.set(DECISION_DAY)
    report_all(
        stack,
        clock,
        first,
        income(418_85, D(2026, 5, 11)),
        benefit_started("JOBSEEKERS_ALLOWANCE_INCOME_BASED", D(2026, 5, 25)),
    )
    stack.apply(first)
    mine, theirs = timeline(stack, first), timeline(stack, second)
    dates = [D(2026, 4, 6), D(2026, 5, 11), D(2026, 5, 25)]
    assert [day(s.start_date) for s in mine.segments] == dates
    assert [day(s.start_date) for s in theirs.segments] == dates
    assert [s.calculation for s in mine.segments[1:]] == [
        s.calculation for s in theirs.segments[1:]
    ]
    assert not theirs.segments[1].changes_of_circumstances  # the changes are the other case's
    assert theirs.segments[1].weekly_amount_pence < theirs.segments[0].weekly_amount_pence
    assert theirs.segments[1].amount_overpaid_pence > 0
