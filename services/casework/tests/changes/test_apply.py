"""What applying verified changes does (changes.apply), on copies and without I/O: the table covers every type in
the contract, and a few types' effects, the tolerance, closure and the one recalculation they add up to."""

from __future__ import annotations

import datetime as dt

from google.type import date_pb2

from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms_casework.changes import apply

T = pb.ChangeOfCircumstancesType
PAYER, RECEIVER = "clients/payer", "clients/receiver"
REPORTED = dt.datetime(2026, 4, 6, 9, 0, tzinfo=dt.UTC)


def d(y: int, m: int, day: int) -> date_pb2.Date:
    return date_pb2.Date(year=y, month=m, day=day)


def a_case(*children: str) -> pb.Case:
    case = pb.Case(
        name="cases/c1",
        state=pb.CASE_STATE_LIVE,
        paying_parent=pb.Client(name=PAYER),
        receiving_parent=pb.Client(name=RECEIVER),
        payment_frequency=common.PAYMENT_FREQUENCY_MONTHLY,
    )
    for child_id in children or ("amy",):
        case.qualifying_children.add(child_id=child_id, date_of_birth=d(2015, 7, 1))
    case.latest_calculation.gross_weekly_income_pence = 60_000
    case.latest_calculation.effective_date.CopyFrom(d(2026, 4, 6))
    return case


def parties(case: pb.Case) -> dict[str, pb.Client]:
    return {PAYER: case.paying_parent, RECEIVER: case.receiving_parent}


def change(n: int, type_: int, **details: object) -> pb.ChangeOfCircumstances:
    out = pb.ChangeOfCircumstances(
        name=f"cases/c1/changesOfCircumstances/{n}",
        type=type_,
        state=pb.CHANGE_OF_CIRCUMSTANCES_STATE_VERIFIED,
        effective_date=d(2026, 5, n),
        **details,
    )
    out.report_time.FromDatetime(REPORTED)
    return out


def test_every_type_in_the_contract_has_an_effect():
    contract = set(pb.ChangeOfCircumstancesType.values()) - {
        T.CHANGE_OF_CIRCUMSTANCES_TYPE_UNSPECIFIED
    }
    assert set(apply.EFFECTS) == contract


def test_an_address_change_moves_the_clients_address_and_nothing_is_recalculated():
    case = a_case()
    new = common.Address(lines=["1 New Street"], postcode="LS1 1AA")
    out = apply.plan_application(
        case,
        parties(case),
        [
            change(
                1,
                T.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_ADDRESS_DETAILS,
                address_change=pb.AddressChange(client=RECEIVER, new_address=new),
            )
        ],
    )
    assert out.clients[RECEIVER].address == new
    assert case.receiving_parent.address != new  # copies: the case given is untouched
    assert [c.state for c in out.changes] == [pb.CHANGE_OF_CIRCUMSTANCES_STATE_APPLIED]
    assert not out.needs_calculation and out.closure is None


def test_an_income_change_within_the_tolerance_is_recorded_not_applied():
    case = a_case()
    out = apply.plan_application(
        case,
        parties(case),
        [
            change(
                1,
                T.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_INCOME,
                income_change=pb.IncomeChange(current_gross_weekly_income_pence=66_000),
            )
        ],
    )
    (applied,) = out.changes
    assert applied.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_TOLERANCE_NOT_BREACHED
    assert applied.income_change.change_basis_points == 1000
    assert not applied.income_change.tolerance_breached
    assert not out.needs_calculation
    assert not out.clients[PAYER].employment_and_income.current_income_source


def test_changes_that_move_the_liability_ask_for_one_recalculation_from_the_earliest_date():
    case = a_case()
    out = apply.plan_application(
        case,
        parties(case),
        [
            change(
                9,
                T.CHANGE_OF_CIRCUMSTANCES_TYPE_SHARED_CARE,
                shared_care_change=pb.SharedCareChange(
                    child_id="amy", paying_parent_nights_per_year=104
                ),
            ),
            change(
                3,
                T.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_INCOME,
                income_change=pb.IncomeChange(current_gross_weekly_income_pence=90_000),
            ),
        ],
    )
    assert out.needs_calculation and out.effective == dt.date(2026, 5, 3)
    assert out.case.qualifying_children[0].paying_parent_nights_per_year == 104
    assert out.clients[PAYER].employment_and_income.current_gross_weekly_income_pence == 90_000


def test_a_new_payment_frequency_needs_a_new_schedule_without_moving_the_effective_date():
    case = a_case()
    out = apply.plan_application(
        case,
        parties(case),
        [
            change(
                1,
                T.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_PAYMENT_FREQUENCY,
                payment_arrangement_change=pb.PaymentArrangementChange(
                    payment_frequency=common.PAYMENT_FREQUENCY_WEEKLY
                ),
            )
        ],
    )
    assert out.case.payment_frequency == common.PAYMENT_FREQUENCY_WEEKLY
    assert out.needs_calculation and out.effective is None


def test_a_correction_changes_nothing_but_makes_the_recalculation_a_correction():
    case = a_case()
    out = apply.plan_application(
        case,
        parties(case),
        [
            change(
                1,
                T.CHANGE_OF_CIRCUMSTANCES_TYPE_CORRECTION_REVISION,
                correction_revision=pb.CorrectionRevision(reason="typo"),
            )
        ],
    )
    assert out.case == case
    assert out.calculation_reason == pb.CALCULATION_REASON_CORRECTION_REVISION
    assert out.needs_calculation


def test_the_last_qualifying_child_leaving_closes_the_case_and_supersedes_what_follows():
    case = a_case("amy")
    out = apply.plan_application(
        case,
        parties(case),
        [
            change(
                1,
                T.CHANGE_OF_CIRCUMSTANCES_TYPE_DEATH_OF_QC,
                child_change=pb.ChildChange(child_id="amy"),
            ),
            change(
                2,
                T.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_PAYMENT_FREQUENCY,
                payment_arrangement_change=pb.PaymentArrangementChange(
                    payment_frequency=common.PAYMENT_FREQUENCY_WEEKLY
                ),
            ),
        ],
    )
    closing = "cases/c1/changesOfCircumstances/1"
    assert out.closure == (pb.CASE_CLOSURE_REASON_NO_QUALIFYING_CHILD, dt.date(2026, 5, 1), closing)
    assert out.case.qualifying_children[0].end_reason == pb.CHILD_END_REASON_DIED
    assert [(c.state, c.superseded_by) for c in out.changes] == [
        (pb.CHANGE_OF_CIRCUMSTANCES_STATE_APPLIED, ""),
        (pb.CHANGE_OF_CIRCUMSTANCES_STATE_SUPERSEDED, closing),
    ]
    assert not out.needs_calculation  # the liability ends with the case


def test_a_child_leaving_with_others_left_keeps_the_case_open():
    case = a_case("amy", "ben")
    out = apply.plan_application(
        case,
        parties(case),
        [
            change(
                1,
                T.CHANGE_OF_CIRCUMSTANCES_TYPE_QC_NOT_IN_FULL_TIME_EDUCATION,
                child_change=pb.ChildChange(child_id="amy"),
            )
        ],
    )
    assert out.closure is None and out.needs_calculation
    assert [c.end_reason for c in out.case.qualifying_children] == [
        pb.CHILD_END_REASON_NOT_IN_FULL_TIME_EDUCATION,
        pb.CHILD_END_REASON_UNSPECIFIED,
    ]


def test_a_verified_benefit_start_is_kept_once_as_a_fact_and_its_end_is_the_day_before_it_stopped():
    awards: list[pb.BenefitAward] = []
    started = pb.BenefitDetailsChange(benefit="INCOME_SUPPORT", change=pb.BENEFIT_CHANGE_STARTED)
    apply.change_benefits(awards, started, dt.date(2026, 5, 1), verified_change="cases/1/c/1")
    apply.change_benefits(awards, started, dt.date(2026, 5, 2), verified_change="cases/1/c/2")
    assert [(a.benefit, a.period.start_date, a.verified_change) for a in awards] == [
        ("INCOME_SUPPORT", d(2026, 5, 1), "cases/1/c/1")
    ]
    ended = pb.BenefitDetailsChange(benefit="INCOME_SUPPORT", change=pb.BENEFIT_CHANGE_ENDED)
    apply.change_benefits(awards, ended, dt.date(2026, 6, 1), verified_change="cases/1/c/3")
    # Stopped on 1 June: last paid on 31 May, so a calculation from 1 June no longer counts it.
    assert awards[0].period.end_date == d(2026, 5, 31)
    assert awards[0].verified_change == "cases/1/c/3"


def test_a_verified_start_after_dwps_copy_and_an_end_with_nothing_open_are_both_kept():
    # The copy of DWP's awards taken at the application is not a fact casework verified: a start is still recorded.
    awards = [
        pb.BenefitAward(benefit="INCOME_SUPPORT", period=common.DateRange(start_date=d(2025, 1, 1)))
    ]
    started = pb.BenefitDetailsChange(benefit="INCOME_SUPPORT", change=pb.BENEFIT_CHANGE_STARTED)
    apply.change_benefits(awards, started, dt.date(2026, 5, 1), verified_change="cases/1/c/1")
    assert [a.verified_change for a in awards] == ["", "cases/1/c/1"]
    # An end DWP never reported a start for is kept alone (from the beginning, up to the day before).
    ended = pb.BenefitDetailsChange(
        benefit="CARERS_ALLOWANCE", change=pb.BENEFIT_CHANGE_ENDED, partner_award=True
    )
    apply.change_benefits(awards, ended, dt.date(2026, 6, 1), verified_change="cases/1/c/2")
    assert awards[-1] == pb.BenefitAward(
        benefit="CARERS_ALLOWANCE",
        partner_award=True,
        period=common.DateRange(end_date=d(2026, 5, 31)),
        verified_change="cases/1/c/2",
    )
