"""A verified benefit change DWP's records do not show, through the real casework server (with the real calculation
service, gateways, databases and broker): the client record keeps it with its dates, and every later calculation
combines it with DWP's awards, so the next recalculation does not lose it.

Business clock: Monday 6 April 2026. Alex Turner pays Bethan Morgan for Amy and Ben, £96 a week on the historic HMRC
income of £598.36 a week; DWP holds no benefit award for him."""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.type import date_pb2

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms_platform.grpc_errors import violated_fields

from ..conftest import alex_and_bethan, person

T = pb.ChangeOfCircumstancesType
JSA = "JOBSEEKERS_ALLOWANCE_INCOME_BASED"


def _benefit(change: int, on: date_pb2.Date) -> pb.ChangeOfCircumstances:
    return pb.ChangeOfCircumstances(
        type=T.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_BENEFIT_DETAILS,
        effective_date=on,
        benefit_details_change=pb.BenefitDetailsChange(benefit=JSA, change=change),
    )


def _income(pence: int) -> pb.ChangeOfCircumstances:
    return pb.ChangeOfCircumstances(
        type=T.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_INCOME,
        income_change=pb.IncomeChange(
            current_gross_weekly_income_pence=pence, source=pb.INCOME_SOURCE_PAYSLIPS
        ),
    )


def _apply(stack, case: pb.Case, change: pb.ChangeOfCircumstances) -> pb.Case:
    stack.verify(stack.report(case, change))
    (applied,) = stack.apply(case).changes_of_circumstances
    assert applied.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_APPLIED
    return stack.call("GetCase", api.GetCaseRequest(name=case.name))


def test_a_verified_benefit_start_dwp_does_not_know_survives_the_next_recalculation(stack):
    case = stack.new_live_case()
    assert case.latest_calculation.rate == "BASIC" and not case.paying_parent.benefits

    on_jsa = _apply(
        stack, case, _benefit(pb.BENEFIT_CHANGE_STARTED, date_pb2.Date(year=2026, month=4, day=6))
    )
    assert on_jsa.latest_calculation.rate == "FLAT"
    (award,) = on_jsa.paying_parent.benefits
    assert award.benefit == JSA and award.verified_change  # a fact casework holds, not DWP's
    assert not award.period.end_date.year

    # An income change of 34% is applied and recalculates: the JSA casework verified still puts him on the flat rate
    # (before the fix, the recalculation saw only DWP's awards, none, and put him back on the basic rate).
    after_income = _apply(stack, case, _income(80000))
    assert after_income.latest_calculation.calculation != on_jsa.latest_calculation.calculation
    assert after_income.latest_calculation.rate == "FLAT"

    # A recalculation asked for directly keeps it too.
    again = stack.call(
        "CalculateCase", api.CalculateCaseRequest(request_id=str(uuid.uuid4()), name=case.name)
    )
    assert again.latest_calculation.rate == "FLAT"

    # Once the verified end takes effect, the paying parent is assessed on his income (current income now in use).
    ended = _apply(
        stack, case, _benefit(pb.BENEFIT_CHANGE_ENDED, date_pb2.Date(year=2026, month=4, day=6))
    )
    assert ended.latest_calculation.rate == "BASIC"
    assert ended.latest_calculation.gross_weekly_income_pence == 80000


def test_a_verified_end_overrules_an_award_dwp_still_shows_open_at_every_later_recalculation(stack):
    # DWP's record shows income-based JSA from 6 April and never shows it ending (a stale CIS record).
    stack.award_jsa(start=date_pb2.Date(year=2026, month=4, day=6))
    case = stack.new_live_case()
    assert case.latest_calculation.rate == "FLAT"

    # The paying parent shows it stopped on 6 April: from that day he is assessed on his income (before the fix the
    # award stayed in payment on its end date, the day the change takes effect).
    ended = _apply(
        stack, case, _benefit(pb.BENEFIT_CHANGE_ENDED, date_pb2.Date(year=2026, month=4, day=6))
    )
    assert ended.latest_calculation.rate == "BASIC"
    (award,) = ended.paying_parent.benefits
    assert award.verified_change and award.period.end_date == date_pb2.Date(
        year=2026, month=4, day=5
    )

    # The next recalculation still sees DWP's open award, and the verified end still overrules it.
    after_income = _apply(stack, case, _income(80000))
    assert after_income.latest_calculation.calculation != ended.latest_calculation.calculation
    assert after_income.latest_calculation.rate == "BASIC"
    assert after_income.latest_calculation.gross_weekly_income_pence == 80000


def test_universal_credit_verified_with_earnings_is_not_a_flat_rate_benefit(stack):
    case = stack.new_live_case()
    uc = pb.ChangeOfCircumstances(
        type=T.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_BENEFIT_DETAILS,
        effective_date=date_pb2.Date(year=2026, month=4, day=6),
        benefit_details_change=pb.BenefitDetailsChange(
            benefit="UNIVERSAL_CREDIT",
            change=pb.BENEFIT_CHANGE_STARTED,
            universal_credit_earned_income=True,
        ),
    )
    # Earned income is a Universal Credit fact only.
    jsa = pb.ChangeOfCircumstances()
    jsa.CopyFrom(uc)
    jsa.benefit_details_change.benefit = JSA
    with pytest.raises(grpc.RpcError) as refused:
        stack.report(case, jsa)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(refused.value) == [
        "change_of_circumstances.benefit_details_change.universal_credit_earned_income"
    ]

    # With earnings the paying parent stays assessed on his income (reg 44(2) names only UC on no earned income).
    with_earnings = _apply(stack, case, uc)
    (award,) = with_earnings.paying_parent.benefits
    assert award.universal_credit_earned_income and award.verified_change
    assert with_earnings.latest_calculation.rate == "BASIC"


def test_a_second_application_against_the_paying_parent_keeps_the_benefit_casework_verified(stack):
    case = stack.new_live_case()
    on_jsa = _apply(
        stack, case, _benefit(pb.BENEFIT_CHANGE_STARTED, date_pb2.Date(year=2026, month=4, day=6))
    )
    assert on_jsa.latest_calculation.rate == "FLAT"

    # Another receiving parent applies: the checks take DWP's awards afresh (none) and the verified JSA stays.
    second = alex_and_bethan()
    second.receiving_parent.identity.CopyFrom(
        person("AG765432A", "Siân", "Llewellyn-Price", (1983, 5, 17))
    )
    del second.qualifying_children[:]
    second.qualifying_children.add(
        name=common.PersonName(forenames="Osian", surname="Turner"),
        date_of_birth=date_pb2.Date(year=2014, month=11, day=11),
        child_reference_number="AK100005A",
    )
    other = stack.new_live_case(second)
    (award,) = other.paying_parent.benefits
    assert award.benefit == JSA and award.verified_change
    assert other.latest_calculation.rate == "FLAT"
