"""Deduction orders and deductions from benefit as arithmetic (docs/domain/money.md §9): worked examples and
property tests."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cms.common.v1 import types_pb2 as common
from cms_casework.methods_of_payment.rules import (
    DEFAULTS,
    BenefitChange,
    Parameters,
    benefit_change,
    employer_admin_charge,
    employer_notice_late,
    expected_deduction,
    late_remittance_months,
    normal_deduction_rate,
    protected_earnings,
    remittance_due_date,
    shortfall_carried,
)
from cms_casework.payment_plans.rules import period_amount

WEEKLY = common.PAYMENT_FREQUENCY_WEEKLY
FORTNIGHTLY = common.PAYMENT_FREQUENCY_FORTNIGHTLY
FOUR_WEEKLY = common.PAYMENT_FREQUENCY_FOUR_WEEKLY
MONTHLY = common.PAYMENT_FREQUENCY_MONTHLY
FREQUENCIES = [WEEKLY, FORTNIGHTLY, FOUR_WEEKLY, MONTHLY]

pence = st.integers(min_value=0, max_value=10_000_000)
days = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31))


# -- worked examples -----------------------------------------------------------------------------------------------


def test_monthly_net_1200_ndr_150_is_deducted_in_full():
    assert protected_earnings(120_000) == 72_000
    assert (
        expected_deduction(
            normal_deduction_rate_pence=15_000,
            shortfall_carried_in_pence=0,
            net_earnings_pence=120_000,
        )
        == 15_000
    )
    assert (
        shortfall_carried(
            normal_deduction_rate_pence=15_000, shortfall_carried_in_pence=0, deducted_pence=15_000
        )
        == 0
    )


def test_weekly_net_300_ndr_150_deducts_120_and_carries_30():
    deducted = expected_deduction(
        normal_deduction_rate_pence=15_000, shortfall_carried_in_pence=0, net_earnings_pence=30_000
    )
    assert deducted == 12_000
    assert (
        shortfall_carried(
            normal_deduction_rate_pence=15_000,
            shortfall_carried_in_pence=0,
            deducted_pence=deducted,
        )
        == 3_000
    )


def test_a_carried_shortfall_is_collected_when_earnings_allow():
    assert (
        expected_deduction(
            normal_deduction_rate_pence=15_000,
            shortfall_carried_in_pence=3_000,
            net_earnings_pence=60_000,
        )
        == 18_000
    )


def test_protected_earnings_round_up_in_the_employees_favour():
    assert protected_earnings(1) == 1  # 0.6p protected: the penny stays with the employee
    assert protected_earnings(10) == 6


def test_the_ndr_is_maintenance_fee_and_arrears_at_the_pay_frequency():
    weekly = normal_deduction_rate(
        weekly_maintenance_pence=9_600,
        weekly_paying_parent_fee_pence=1_920,
        arrears_per_pay_day_pence=500,
        pay_frequency=WEEKLY,
    )
    assert (weekly.maintenance_pence, weekly.collection_fee_pence, weekly.total_pence) == (
        9_600,
        1_920,
        12_020,
    )
    monthly = normal_deduction_rate(
        weekly_maintenance_pence=9_600,
        weekly_paying_parent_fee_pence=1_920,
        arrears_per_pay_day_pence=0,
        pay_frequency=MONTHLY,
    )
    assert monthly.maintenance_pence == 41_600  # 96 x 52 / 12
    assert monthly.collection_fee_pence == 8_320


def test_the_ndr_needs_a_weekly_to_monthly_pay_frequency():
    with pytest.raises(ValueError):
        normal_deduction_rate(
            weekly_maintenance_pence=100,
            weekly_paying_parent_fee_pence=20,
            arrears_per_pay_day_pence=0,
            pay_frequency=common.PAYMENT_FREQUENCY_UNSPECIFIED,
        )


def test_the_admin_charge_is_a_pound():
    assert employer_admin_charge() == 100
    assert employer_admin_charge(params=Parameters(employer_admin_charge_pence=0)) == 0


def test_remittance_is_due_on_the_19th_of_the_next_month():
    assert remittance_due_date(dt.date(2026, 4, 30)) == dt.date(2026, 5, 19)
    assert remittance_due_date(dt.date(2026, 12, 1)) == dt.date(2027, 1, 19)


def test_the_employers_notice_is_late_after_10_days():
    assert not employer_notice_late(
        leaving_date=dt.date(2026, 5, 1), reported_date=dt.date(2026, 5, 11)
    )
    assert employer_notice_late(
        leaving_date=dt.date(2026, 5, 1), reported_date=dt.date(2026, 5, 12)
    )


def test_late_months_start_the_month_after_issue_and_wait_for_the_due_date():
    issued = dt.date(2026, 4, 6)
    assert (
        late_remittance_months(issue_date=issued, remitted_months=set(), as_of=dt.date(2026, 6, 19))
        == []
    )
    assert late_remittance_months(
        issue_date=issued, remitted_months=set(), as_of=dt.date(2026, 6, 20)
    ) == [dt.date(2026, 5, 1)]
    assert (
        late_remittance_months(
            issue_date=issued, remitted_months={dt.date(2026, 5, 1)}, as_of=dt.date(2026, 6, 20)
        )
        == []
    )


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError):
        Parameters(protected_earnings_basis_points=10_001)
    with pytest.raises(ValueError):
        Parameters(remittance_due_day=31)
    with pytest.raises(ValueError):
        Parameters(employer_admin_charge_pence=-1)


def test_money_must_be_integer_pence():
    with pytest.raises(TypeError):
        protected_earnings(100.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        shortfall_carried(
            normal_deduction_rate_pence=-1, shortfall_carried_in_pence=0, deducted_pence=0
        )


@pytest.mark.parametrize(
    ("deduction_type", "weekly", "rate", "new", "want"),
    [
        ("STANDARD_FLAT_RATE", 0, "FLAT", 700, BenefitChange.NONE),
        ("STANDARD_FLAT_RATE", 0, "FLAT", 350, BenefitChange.TO_NON_STANDARD),
        ("NON_STANDARD_FLAT_RATE", 350, "FLAT", 700, BenefitChange.TO_STANDARD),
        ("NON_STANDARD_FLAT_RATE", 350, "FLAT", 233, BenefitChange.CHANGE_AMOUNT),
        ("NON_STANDARD_FLAT_RATE", 350, "FLAT", 350, BenefitChange.NONE),
        ("STANDARD_FLAT_RATE", 0, "BASIC", 4_500, BenefitChange.CANCEL),
        ("STANDARD_FLAT_RATE", 0, "NIL", 0, BenefitChange.CANCEL),
        ("ARREARS", 0, "BASIC", 4_500, BenefitChange.NONE),
    ],
)
def test_a_deduction_from_benefit_follows_the_flat_rate(deduction_type, weekly, rate, new, want):
    assert (
        benefit_change(
            deduction_type=deduction_type,
            weekly_liability_pence=weekly,
            rate=rate,
            new_weekly_pence=new,
        )
        == want
    )


# -- properties ----------------------------------------------------------------------------------------------------


@given(ndr=pence, carried=pence, net=pence, bp=st.integers(min_value=0, max_value=10_000))
def test_the_protected_earnings_are_never_deducted_from(ndr, carried, net, bp):
    params = Parameters(protected_earnings_basis_points=bp)
    deducted = expected_deduction(
        normal_deduction_rate_pence=ndr,
        shortfall_carried_in_pence=carried,
        net_earnings_pence=net,
        params=params,
    )
    assert 0 <= deducted <= ndr + carried
    assert (net - deducted) * 10_000 >= net * bp
    # Either everything due was deducted, or the deduction stopped exactly at the protected earnings.
    assert deducted == ndr + carried or deducted == net - protected_earnings(net, params=params)


@given(ndr=pence, carried=pence, net=pence)
def test_what_is_due_is_either_deducted_or_carried(ndr, carried, net):
    deducted = expected_deduction(
        normal_deduction_rate_pence=ndr, shortfall_carried_in_pence=carried, net_earnings_pence=net
    )
    carried_out = shortfall_carried(
        normal_deduction_rate_pence=ndr, shortfall_carried_in_pence=carried, deducted_pence=deducted
    )
    assert deducted + carried_out == ndr + carried


@given(ndr=pence, carried=pence, deducted=pence)
def test_the_shortfall_is_never_negative(ndr, carried, deducted):
    out = shortfall_carried(
        normal_deduction_rate_pence=ndr, shortfall_carried_in_pence=carried, deducted_pence=deducted
    )
    assert out >= 0 and out >= ndr + carried - deducted


@given(
    maintenance=pence,
    fee=pence,
    arrears=pence,
    frequency=st.sampled_from(FREQUENCIES),
)
def test_the_ndr_converts_each_part_as_a_payment_plan_does(maintenance, fee, arrears, frequency):
    rate = normal_deduction_rate(
        weekly_maintenance_pence=maintenance,
        weekly_paying_parent_fee_pence=fee,
        arrears_per_pay_day_pence=arrears,
        pay_frequency=frequency,
    )
    assert rate.maintenance_pence == period_amount(maintenance, frequency)
    assert rate.collection_fee_pence == period_amount(fee, frequency)
    assert rate.total_pence == rate.maintenance_pence + rate.collection_fee_pence + arrears


@given(pay_date=days)
def test_the_due_date_is_the_19th_of_the_following_month(pay_date):
    due = remittance_due_date(pay_date)
    assert due.day == DEFAULTS.remittance_due_day
    assert (due.year * 12 + due.month) - (pay_date.year * 12 + pay_date.month) == 1


@given(leaving=days, gap=st.integers(min_value=0, max_value=400))
def test_notice_is_late_exactly_past_the_time_allowed(leaving, gap):
    reported = leaving + dt.timedelta(days=gap)
    assert employer_notice_late(leaving_date=leaving, reported_date=reported) == (gap > 10)


@given(issued=days, ahead=st.integers(min_value=0, max_value=800), data=st.data())
def test_each_late_month_is_unremitted_and_past_its_due_date(issued, ahead, data):
    as_of = issued + dt.timedelta(days=ahead)
    all_late = late_remittance_months(issue_date=issued, remitted_months=set(), as_of=as_of)
    remitted = (
        set(data.draw(st.lists(st.sampled_from(all_late), unique=True))) if all_late else set()
    )
    late = late_remittance_months(issue_date=issued, remitted_months=remitted, as_of=as_of)
    assert late == [m for m in all_late if m not in remitted]
    for month in late:
        assert month.day == 1 and month > issued and remittance_due_date(month) < as_of
