"""What casework gives the calculation (cms_casework.calculations.rules): Universal Credit with earnings, and current
income from HMRC RTI."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from cms.calculation.v1 import resources_pb2 as calc_pb
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms.hmrc.v1 import hmrc_service_pb2 as hmrc_api
from cms.hmrc.v1 import resources_pb2 as hmrc_pb
from cms_casework.calculations import rules
from cms_platform.convert import pb_date

ON = dt.date(2026, 4, 6)


def _input(*awards: pb.BenefitAward) -> calc_pb.CalculationInput:
    case = pb.Case(
        name="cases/1",
        qualifying_children=[
            pb.QualifyingChild(child_id="c1", date_of_birth=pb_date(dt.date(2015, 1, 1)))
        ],
    )
    income = rules.Income(
        hmrc_api.GetSummaryOfEarnedIncomeResponse(
            gross_income_pence=31_200_00, income_data_held=True
        ),
        list(awards),
    )
    return rules.calculation_input(
        cases=[case], payer=pb.Client(name="clients/p"), income=income, effective=ON, this_case=case
    )


def _uc(earnings: bool) -> pb.BenefitAward:
    return pb.BenefitAward(
        benefit="UNIVERSAL_CREDIT",
        period=common.DateRange(start_date=pb_date(dt.date(2026, 1, 6))),
        universal_credit_earned_income=earnings,
    )


def test_universal_credit_with_no_earned_income_is_sent_as_the_prescribed_benefit():
    (receipt,) = _input(_uc(False)).benefits
    assert receipt.benefit == calc_pb.BENEFIT_UNIVERSAL_CREDIT_NO_EARNED_INCOME


def test_universal_credit_with_earned_income_is_not_a_prescribed_benefit():
    # reg 44(2) of SI 2012/2677 prescribes only UC calculated on the basis of no earned income.
    assert not _input(_uc(True)).benefits


def _employment(frequency, pays, ended: dt.date | None = None) -> hmrc_pb.RtiEmploymentIncome:
    employment = hmrc_pb.Employment(pay_frequency=frequency)
    if ended:
        employment.end_date.CopyFrom(pb_date(ended))
    return hmrc_pb.RtiEmploymentIncome(
        employment=employment,
        payments=[hmrc_pb.RtiPayment(taxable_pay_pence=p) for p in pays],
    )


def test_monthly_pay_is_a_twelfth_of_a_year_whether_the_window_holds_three_payments_or_four():
    three = rules.rti_weekly_income(
        [_employment(hmrc_pb.PAY_FREQUENCY_MONTHLY, [2600_00] * 3)], on=ON, days_asked=91
    )
    four = rules.rti_weekly_income(
        [_employment(hmrc_pb.PAY_FREQUENCY_MONTHLY, [2600_00] * 4)], on=ON, days_asked=91
    )
    assert three == four == 31_200_00 * 7 // 365


def test_an_ended_employment_is_not_current_income_and_no_pay_is_none():
    assert (
        rules.rti_weekly_income(
            [_employment(hmrc_pb.PAY_FREQUENCY_WEEKLY, [500_00] * 13, ended=dt.date(2026, 3, 1))],
            on=ON,
            days_asked=91,
        )
        is None
    )
    assert rules.rti_weekly_income([], on=ON, days_asked=91) is None


def test_irregular_pay_is_averaged_over_the_days_asked():
    assert (
        rules.rti_weekly_income(
            [_employment(hmrc_pb.PAY_FREQUENCY_IRREGULAR, [910_00])], on=ON, days_asked=91
        )
        == 70_00
    )


@given(
    st.sampled_from(
        [
            (hmrc_pb.PAY_FREQUENCY_WEEKLY, 52),
            (hmrc_pb.PAY_FREQUENCY_FORTNIGHTLY, 26),
            (hmrc_pb.PAY_FREQUENCY_FOUR_WEEKLY, 13),
            (hmrc_pb.PAY_FREQUENCY_MONTHLY, 12),
        ]
    ),
    st.integers(min_value=0, max_value=100_000_00),
    st.integers(min_value=1, max_value=14),
)
def test_steady_pay_gives_its_yearly_amount_a_week(frequency_and_periods, pay, count):
    frequency, periods = frequency_and_periods
    weekly = rules.rti_weekly_income([_employment(frequency, [pay] * count)], on=ON, days_asked=91)
    assert weekly == pay * periods * 7 // 365


@given(
    st.lists(st.integers(min_value=0, max_value=10_000_00), min_size=1, max_size=6),
    st.integers(0, 5),
)
def test_two_jobs_add_up(first, extra):
    one = _employment(hmrc_pb.PAY_FREQUENCY_MONTHLY, first)
    two = _employment(hmrc_pb.PAY_FREQUENCY_WEEKLY, [extra * 100_00] * 13)
    both = rules.rti_weekly_income([one, two], on=ON, days_asked=91)
    alone = rules.rti_weekly_income([one], on=ON, days_asked=91)
    other = rules.rti_weekly_income([two], on=ON, days_asked=91)
    assert both is not None and alone is not None and other is not None
    assert both == alone + other
