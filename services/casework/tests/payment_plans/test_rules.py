"""Payment plan schedules (docs/domain/money.md §8): worked examples and property tests over generated liabilities and dates."""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms_casework.payment_plans.rules import (
    DEFAULTS,
    ScheduleParameters,
    Step,
    build_plan,
    build_schedule,
    build_stepped_schedule,
    period_amount,
    plan_period,
    total_due,
)

WEEKLY = common.PAYMENT_FREQUENCY_WEEKLY
FORTNIGHTLY = common.PAYMENT_FREQUENCY_FORTNIGHTLY
FOUR_WEEKLY = common.PAYMENT_FREQUENCY_FOUR_WEEKLY
MONTHLY = common.PAYMENT_FREQUENCY_MONTHLY
FREQUENCIES = (WEEKLY, FORTNIGHTLY, FOUR_WEEKLY, MONTHLY)
DAYS = {WEEKLY: 7, FORTNIGHTLY: 14, FOUR_WEEKLY: 28}
PROPERTY = settings(max_examples=300, deadline=None)


def half_up(value: Fraction) -> int:
    """Round an exact fraction half-up to whole pence, independently of the code under test."""
    whole, remainder = divmod(value.numerator, value.denominator)
    assert half_up_decimal(value) == whole + (2 * remainder >= value.denominator)
    return whole + (2 * remainder >= value.denominator)


def half_up_decimal(value: Fraction) -> int:
    """The same rounding through Decimal, as a cross-check on half_up itself."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_date(value) -> dt.date:
    return dt.date(value.year, value.month, value.day)


def covers(payment: pb.ScheduledPayment) -> tuple[dt.date, dt.date]:
    return to_date(payment.covers.start_date), to_date(payment.covers.end_date)


def schedule(
    weekly: int = 10000,
    pp_fee: int = 0,
    rp_fee: int = 0,
    *,
    frequency: int,
    start: dt.date,
    end: dt.date,
    params: ScheduleParameters = DEFAULTS,
) -> list[pb.ScheduledPayment]:
    return build_schedule(
        weekly_maintenance_pence=weekly,
        weekly_paying_parent_fee_pence=pp_fee,
        weekly_receiving_parent_fee_pence=rp_fee,
        frequency=frequency,
        start=start,
        end=end,
        params=params,
    )


# ---------------------------------------------------------------------------------------------------------------
# period_amount
# ---------------------------------------------------------------------------------------------------------------


def test_hundred_pounds_a_week_is_433_33_a_month():
    assert period_amount(10000, MONTHLY) == 43333
    assert period_amount(10000, MONTHLY) == half_up(Fraction(10000 * 52, 12))


def test_monthly_conversion_rounds_half_up_not_down():
    # £20 a week: 2000 x 52 / 12 = 8666.67 -> 8667; 2p a week: 8.67 -> 9; 1p: 4.33 -> 4.
    assert period_amount(2000, MONTHLY) == 8667
    assert period_amount(2, MONTHLY) == 9
    assert period_amount(1, MONTHLY) == 4


def test_weekly_fortnightly_and_four_weekly_are_whole_multiples():
    assert period_amount(5700, WEEKLY) == 5700
    assert period_amount(5700, FORTNIGHTLY) == 11400
    assert period_amount(5700, FOUR_WEEKLY) == 22800


def test_monthly_conversion_follows_the_weeks_per_year_parameter():
    assert (
        period_amount(10000, MONTHLY, params=ScheduleParameters(monthly_weeks_per_year=53)) == 44167
    )


@given(weekly=st.integers(0, 10**8))
def test_monthly_amount_is_the_exact_half_up_conversion(weekly):
    assert period_amount(weekly, MONTHLY) == half_up(Fraction(weekly * 52, 12))


@pytest.mark.parametrize("bad", [-1, -10000])
def test_period_amount_rejects_a_negative_amount(bad):
    with pytest.raises(ValueError):
        period_amount(bad, WEEKLY)


def test_period_amount_rejects_an_unspecified_frequency():
    with pytest.raises(ValueError, match="UNSPECIFIED"):
        period_amount(10000, common.PAYMENT_FREQUENCY_UNSPECIFIED)


def test_period_amount_rejects_floats():
    with pytest.raises(TypeError):
        period_amount(100.0, WEEKLY)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------------------
# build_schedule: worked examples
# ---------------------------------------------------------------------------------------------------------------


def test_monthly_from_31_january_in_a_leap_year():
    payments = schedule(frequency=MONTHLY, start=dt.date(2024, 1, 31), end=dt.date(2024, 5, 30))
    assert [covers(p) for p in payments] == [
        (dt.date(2024, 1, 31), dt.date(2024, 2, 28)),
        (dt.date(2024, 2, 29), dt.date(2024, 3, 30)),
        (dt.date(2024, 3, 31), dt.date(2024, 4, 29)),
        (dt.date(2024, 4, 30), dt.date(2024, 5, 30)),
    ]
    assert [to_date(p.due_date) for p in payments] == [
        dt.date(2024, 1, 31),
        dt.date(2024, 2, 29),
        dt.date(2024, 3, 31),
        dt.date(2024, 4, 30),
    ]
    assert [p.maintenance_pence for p in payments] == [43333] * 4


def test_monthly_from_31_january_in_a_non_leap_year():
    payments = schedule(frequency=MONTHLY, start=dt.date(2025, 1, 31), end=dt.date(2025, 4, 29))
    assert [covers(p) for p in payments] == [
        (dt.date(2025, 1, 31), dt.date(2025, 2, 27)),
        (dt.date(2025, 2, 28), dt.date(2025, 3, 30)),  # back to the 31st, not the 28th
        (dt.date(2025, 3, 31), dt.date(2025, 4, 29)),
    ]
    assert [p.maintenance_pence for p in payments] == [
        43333
    ] * 3  # a short February is still a full month


def test_weekly_schedule():
    payments = schedule(5700, frequency=WEEKLY, start=dt.date(2026, 1, 5), end=dt.date(2026, 2, 1))
    assert [covers(p) for p in payments] == [
        (dt.date(2026, 1, 5), dt.date(2026, 1, 11)),
        (dt.date(2026, 1, 12), dt.date(2026, 1, 18)),
        (dt.date(2026, 1, 19), dt.date(2026, 1, 25)),
        (dt.date(2026, 1, 26), dt.date(2026, 2, 1)),
    ]
    assert [p.maintenance_pence for p in payments] == [5700] * 4


def test_fortnightly_schedule():
    payments = schedule(
        5700, frequency=FORTNIGHTLY, start=dt.date(2026, 1, 5), end=dt.date(2026, 2, 1)
    )
    assert [covers(p) for p in payments] == [
        (dt.date(2026, 1, 5), dt.date(2026, 1, 18)),
        (dt.date(2026, 1, 19), dt.date(2026, 2, 1)),
    ]
    assert [p.maintenance_pence for p in payments] == [11400, 11400]


def test_four_weekly_schedule():
    payments = schedule(
        5700, frequency=FOUR_WEEKLY, start=dt.date(2026, 1, 5), end=dt.date(2026, 3, 1)
    )
    assert [covers(p) for p in payments] == [
        (dt.date(2026, 1, 5), dt.date(2026, 2, 1)),
        (dt.date(2026, 2, 2), dt.date(2026, 3, 1)),
    ]
    assert [p.maintenance_pence for p in payments] == [22800, 22800]


def test_collect_and_pay_fees_monthly():
    # £100 a week with the 20% paying-parent fee (£20) and the 4% receiving-parent fee (£4) as weekly figures.
    payments = schedule(
        10000, 2000, 400, frequency=MONTHLY, start=dt.date(2026, 3, 1), end=dt.date(2026, 4, 30)
    )
    assert len(payments) == 2
    for payment in payments:
        assert (
            payment.maintenance_pence,
            payment.paying_parent_fee_pence,
            payment.receiving_parent_fee_pence,
        ) == (43333, 8667, 1733)
        assert payment.amount_due_pence == 52000
        assert payment.receiving_parent_amount_pence == 41600
    assert total_due(payments) == 104000


def test_collect_and_pay_fees_weekly_smart_answers_example():
    # docs/domain/money.md §8: £57 -> paying parent pays £68.40, receiving parent gets £54.72.
    [payment] = schedule(
        5700, 1140, 228, frequency=WEEKLY, start=dt.date(2026, 1, 5), end=dt.date(2026, 1, 11)
    )
    assert payment.amount_due_pence == 6840
    assert payment.receiving_parent_amount_pence == 5472


def test_a_short_last_period_is_charged_pro_rata_by_days():
    payments = schedule(
        10000, 2000, 400, frequency=MONTHLY, start=dt.date(2026, 1, 1), end=dt.date(2026, 2, 15)
    )
    assert [covers(p) for p in payments] == [
        (dt.date(2026, 1, 1), dt.date(2026, 1, 31)),
        (dt.date(2026, 2, 1), dt.date(2026, 2, 15)),
    ]
    first, last = payments
    assert first.maintenance_pence == 43333
    # 15 days: 10000 x 15 / 7 = 21428.57 -> 21429; 2000 x 15 / 7 = 4285.71 -> 4286; 400 x 15 / 7 = 857.14 -> 857.
    assert (
        last.maintenance_pence,
        last.paying_parent_fee_pence,
        last.receiving_parent_fee_pence,
    ) == (21429, 4286, 857)
    assert last.amount_due_pence == 21429 + 4286
    assert last.receiving_parent_amount_pence == 21429 - 857
    assert last.maintenance_pence == half_up(Fraction(10000 * 15, 7))


def test_a_short_last_weekly_period():
    payments = schedule(5700, frequency=WEEKLY, start=dt.date(2026, 1, 5), end=dt.date(2026, 1, 14))
    assert [covers(p) for p in payments] == [
        (dt.date(2026, 1, 5), dt.date(2026, 1, 11)),
        (dt.date(2026, 1, 12), dt.date(2026, 1, 14)),
    ]
    assert [p.maintenance_pence for p in payments] == [5700, 2443]  # 5700 x 3 / 7 = 2442.86


def test_a_one_day_schedule():
    [payment] = schedule(frequency=MONTHLY, start=dt.date(2026, 6, 30), end=dt.date(2026, 6, 30))
    assert covers(payment) == (dt.date(2026, 6, 30), dt.date(2026, 6, 30))
    assert payment.maintenance_pence == 1429  # 10000 / 7 = 1428.57


def test_a_zero_liability_still_lists_the_periods():
    payments = schedule(0, frequency=MONTHLY, start=dt.date(2026, 1, 15), end=dt.date(2026, 4, 14))
    assert len(payments) == 3
    assert [to_date(p.due_date) for p in payments] == [
        dt.date(2026, 1, 15),
        dt.date(2026, 2, 15),
        dt.date(2026, 3, 15),
    ]
    assert all(
        p.maintenance_pence == p.amount_due_pence == p.receiving_parent_amount_pence == 0
        for p in payments
    )
    assert total_due(payments) == 0


@pytest.mark.parametrize("amounts", [(-1, 0, 0), (10000, -1, 0), (10000, 2000, -1)])
def test_schedule_rejects_a_negative_amount(amounts):
    with pytest.raises(ValueError):
        schedule(*amounts, frequency=WEEKLY, start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 31))


def test_schedule_rejects_an_end_before_the_start():
    with pytest.raises(ValueError):
        schedule(frequency=WEEKLY, start=dt.date(2026, 1, 2), end=dt.date(2026, 1, 1))


def test_schedule_rejects_an_unspecified_or_unknown_frequency():
    with pytest.raises(ValueError, match="UNSPECIFIED"):
        schedule(
            frequency=common.PAYMENT_FREQUENCY_UNSPECIFIED,
            start=dt.date(2026, 1, 1),
            end=dt.date(2026, 1, 31),
        )
    with pytest.raises(ValueError):
        schedule(frequency=99, start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 31))


def test_schedule_rejects_a_receiving_parent_fee_above_the_maintenance():
    with pytest.raises(ValueError):
        schedule(
            100, 20, 101, frequency=WEEKLY, start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 31)
        )


def test_schedule_rejects_floats():
    with pytest.raises(TypeError):
        schedule(100.5, frequency=WEEKLY, start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 31))  # type: ignore[arg-type]


def test_total_due_sums_what_the_paying_parent_pays():
    payments = [
        pb.ScheduledPayment(maintenance_pence=100, amount_due_pence=120),
        pb.ScheduledPayment(maintenance_pence=50, amount_due_pence=60),
    ]
    assert total_due(payments) == 180
    assert total_due(iter(payments)) == 180
    assert total_due([]) == 0


# ---------------------------------------------------------------------------------------------------------------
# plan_period and build_plan
# ---------------------------------------------------------------------------------------------------------------


def test_plan_runs_to_the_day_before_an_annual_review_five_months_away():
    assert plan_period(dt.date(2026, 1, 10), dt.date(2026, 6, 10)) == (
        dt.date(2026, 1, 10),
        dt.date(2026, 6, 9),
    )


def test_plan_without_a_review_date_runs_twelve_months():
    assert plan_period(dt.date(2026, 1, 10), None) == (dt.date(2026, 1, 10), dt.date(2027, 1, 9))


def test_plan_with_a_review_exactly_twelve_months_away():
    assert plan_period(dt.date(2026, 1, 10), dt.date(2027, 1, 10)) == (
        dt.date(2026, 1, 10),
        dt.date(2027, 1, 9),
    )


def test_plan_with_a_review_beyond_twelve_months_is_capped():
    assert plan_period(dt.date(2026, 1, 10), dt.date(2027, 3, 1)) == (
        dt.date(2026, 1, 10),
        dt.date(2027, 1, 9),
    )


@pytest.mark.parametrize("review", [dt.date(2026, 1, 10), dt.date(2025, 12, 1)])
def test_plan_with_a_review_on_or_before_the_start_runs_twelve_months(review):
    assert plan_period(dt.date(2026, 1, 10), review) == (dt.date(2026, 1, 10), dt.date(2027, 1, 9))


def test_plan_length_clamps_to_the_end_of_a_short_month():
    one_month = ScheduleParameters(max_plan_months=1)
    assert plan_period(dt.date(2026, 1, 31), None, params=one_month) == (
        dt.date(2026, 1, 31),
        dt.date(2026, 2, 27),
    )
    assert plan_period(dt.date(2024, 2, 29), None) == (dt.date(2024, 2, 29), dt.date(2025, 2, 27))


def test_build_plan():
    plan = build_plan(
        weekly_maintenance_pence=10000,
        weekly_paying_parent_fee_pence=2000,
        weekly_receiving_parent_fee_pence=400,
        frequency=MONTHLY,
        start=dt.date(2026, 1, 10),
        annual_review_date=dt.date(2026, 6, 10),
        service_type=pb.SERVICE_TYPE_COLLECT_AND_PAY,
        method_of_payment_from=pb.METHOD_OF_PAYMENT_FROM_DIRECT_DEBIT,
        calculation="calculations/c-1",
    )
    assert plan.state == pb.PAYMENT_PLAN_STATE_CURRENT
    assert plan.name == ""
    assert not plan.HasField("issue_time")
    assert plan.calculation == "calculations/c-1"
    assert plan.service_type == pb.SERVICE_TYPE_COLLECT_AND_PAY
    assert plan.method_of_payment_from == pb.METHOD_OF_PAYMENT_FROM_DIRECT_DEBIT
    assert plan.payment_frequency == MONTHLY
    assert plan.weekly_amount_pence == 10000
    assert (to_date(plan.period.start_date), to_date(plan.period.end_date)) == (
        dt.date(2026, 1, 10),
        dt.date(2026, 6, 9),
    )
    assert [to_date(p.due_date) for p in plan.payments] == [
        dt.date(2026, m, 10) for m in range(1, 6)
    ]
    assert [p.amount_due_pence for p in plan.payments] == [52000] * 5
    assert plan.total_due_pence == 5 * 52000


def test_build_plan_rejects_an_unspecified_frequency():
    with pytest.raises(ValueError):
        build_plan(
            weekly_maintenance_pence=10000,
            weekly_paying_parent_fee_pence=0,
            weekly_receiving_parent_fee_pence=0,
            frequency=common.PAYMENT_FREQUENCY_UNSPECIFIED,
            start=dt.date(2026, 1, 10),
            annual_review_date=None,
            service_type=pb.SERVICE_TYPE_COLLECT_AND_PAY,
            method_of_payment_from=0,
            calculation="calculations/c-1",
        )


@pytest.mark.parametrize("field", ["monthly_weeks_per_year", "max_plan_months"])
def test_parameters_must_be_positive(field):
    with pytest.raises(ValueError):
        ScheduleParameters(**{field: 0})


# ---------------------------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------------------------

dates = st.dates(dt.date(2000, 1, 1), dt.date(2040, 12, 31))
frequencies = st.sampled_from(FREQUENCIES)


@st.composite
def liabilities(draw) -> tuple[int, int, int]:
    weekly = draw(st.integers(0, 5_000_00))
    return weekly, draw(st.integers(0, 5_000_00)), draw(st.integers(0, weekly))


@st.composite
def spans(draw) -> tuple[dt.date, dt.date]:
    start = draw(dates)
    return start, start + dt.timedelta(days=draw(st.integers(0, 800)))


@PROPERTY
@given(liability=liabilities(), frequency=frequencies, span=spans())
def test_periods_exactly_cover_the_schedule_without_gaps_or_overlaps(liability, frequency, span):
    start, end = span
    payments = schedule(*liability, frequency=frequency, start=start, end=end)
    assert payments
    assert covers(payments[0])[0] == start
    assert covers(payments[-1])[1] == end
    for payment in payments:
        first, last = covers(payment)
        assert first <= last
    for before, after in zip(payments, payments[1:], strict=False):
        assert covers(after)[0] == covers(before)[1] + dt.timedelta(days=1)
    assert sum((covers(p)[1] - covers(p)[0]).days + 1 for p in payments) == (end - start).days + 1


@PROPERTY
@given(liability=liabilities(), frequency=frequencies, span=spans())
def test_payments_are_due_in_advance_in_strictly_increasing_order(liability, frequency, span):
    payments = schedule(*liability, frequency=frequency, start=span[0], end=span[1])
    due = [to_date(p.due_date) for p in payments]
    assert due == [covers(p)[0] for p in payments]
    assert all(a < b for a, b in zip(due, due[1:], strict=False))


@PROPERTY
@given(liability=liabilities(), frequency=frequencies, span=spans())
def test_every_line_adds_up_and_nothing_is_negative(liability, frequency, span):
    for p in schedule(*liability, frequency=frequency, start=span[0], end=span[1]):
        assert (
            min(
                p.maintenance_pence,
                p.paying_parent_fee_pence,
                p.amount_due_pence,
                p.receiving_parent_fee_pence,
                p.receiving_parent_amount_pence,
            )
            >= 0
        )
        assert p.amount_due_pence == p.maintenance_pence + p.paying_parent_fee_pence
        assert p.receiving_parent_amount_pence == p.maintenance_pence - p.receiving_parent_fee_pence


@PROPERTY
@given(liability=liabilities(), frequency=frequencies, span=spans())
def test_full_periods_have_the_period_amount_and_a_short_last_one_is_pro_rata(
    liability, frequency, span
):
    weekly, pp_fee, rp_fee = liability
    payments = schedule(weekly, pp_fee, rp_fee, frequency=frequency, start=span[0], end=span[1])
    for index, payment in enumerate(payments):
        first, last = covers(payment)
        days = (last - first).days + 1
        if frequency == MONTHLY:
            month_start = first
            next_month = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
            next_start = next_month.replace(
                day=min(span[0].day, calendar.monthrange(next_month.year, next_month.month)[1])
            )
            assert month_start.day == min(
                span[0].day, calendar.monthrange(first.year, first.month)[1]
            )
            full = last == next_start - dt.timedelta(days=1)
        else:
            full = days == DAYS[frequency]
        assert full or index == len(payments) - 1  # only the last period can be short
        for weekly_pence, actual in (
            (weekly, payment.maintenance_pence),
            (pp_fee, payment.paying_parent_fee_pence),
            (rp_fee, payment.receiving_parent_fee_pence),
        ):
            if full:
                assert actual == period_amount(weekly_pence, frequency)
            else:
                assert actual == half_up(Fraction(weekly_pence * days, 7))
                assert actual <= period_amount(weekly_pence, frequency)


@PROPERTY
@given(
    liability=liabilities(),
    start=dates,
    weeks=st.integers(1, 104),
    frequency=st.sampled_from(tuple(DAYS)),
)
def test_whole_weeks_total_weekly_times_weeks(liability, start, weeks, frequency):
    weekly, pp_fee, rp_fee = liability
    end = start + dt.timedelta(weeks=weeks, days=-1)
    payments = schedule(weekly, pp_fee, rp_fee, frequency=frequency, start=start, end=end)
    if frequency == WEEKLY:
        assert len(payments) == weeks
    assert sum(p.maintenance_pence for p in payments) == weekly * weeks
    assert sum(p.paying_parent_fee_pence for p in payments) == pp_fee * weeks
    assert sum(p.receiving_parent_fee_pence for p in payments) == rp_fee * weeks
    assert total_due(payments) == (weekly + pp_fee) * weeks


@PROPERTY
@given(start=dates, review=st.none() | dates)
def test_plan_period_ends_before_the_review_and_within_twelve_months(start, review):
    first, last = plan_period(start, review)
    assert first == start
    assert start <= last
    limit = dt.date(
        start.year + 1,
        start.month,
        min(start.day, calendar.monthrange(start.year + 1, start.month)[1]),
    )
    assert last < limit
    if review is not None and start < review <= limit:
        assert last == review - dt.timedelta(days=1)
    else:
        assert last == limit - dt.timedelta(days=1)


@PROPERTY
@given(liability=liabilities(), frequency=frequencies, start=dates, review=st.none() | dates)
def test_a_plan_is_its_schedule_over_its_period(liability, frequency, start, review):
    weekly, pp_fee, rp_fee = liability
    plan = build_plan(
        weekly_maintenance_pence=weekly,
        weekly_paying_parent_fee_pence=pp_fee,
        weekly_receiving_parent_fee_pence=rp_fee,
        frequency=frequency,
        start=start,
        annual_review_date=review,
        service_type=pb.SERVICE_TYPE_COLLECT_AND_PAY,
        method_of_payment_from=0,
        calculation="calculations/c",
    )
    first, last = plan_period(start, review)
    assert (to_date(plan.period.start_date), to_date(plan.period.end_date)) == (first, last)
    assert list(plan.payments) == schedule(
        weekly, pp_fee, rp_fee, frequency=frequency, start=first, end=last
    )
    assert plan.total_due_pence == sum(p.amount_due_pence for p in plan.payments)
    assert plan.weekly_amount_pence == weekly


# -- amounts already decided for later dates (liability timeline) ---------------------------------------------------


def test_a_weekly_period_across_a_step_is_charged_by_day_for_each_part():
    """£45 a week to Sunday 14 June, £43 from Monday 15 June, weekly from Thursday 11 June: the first week has 4 days
    at £45 (4500 x 4 / 7 = 2571.4 -> 2571) and 3 at £43 (4300 x 3 / 7 = 1842.9 -> 1843); the next is a full £43."""
    payments = build_stepped_schedule(
        steps=[
            Step(dt.date(2026, 6, 1), 4500, 900, 180),
            Step(dt.date(2026, 6, 15), 4300, 860, 172),
        ],
        frequency=WEEKLY,
        start=dt.date(2026, 6, 11),
        end=dt.date(2026, 6, 24),
    )
    assert [p.maintenance_pence for p in payments] == [2571 + 1843, 4300]
    assert [p.paying_parent_fee_pence for p in payments] == [514 + 369, 860]


@given(
    weekly=st.integers(min_value=0, max_value=1_000_000),
    start=st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 1, 1)),
    days=st.integers(min_value=0, max_value=400),
    frequency=st.sampled_from([WEEKLY, common.PAYMENT_FREQUENCY_FORTNIGHTLY, MONTHLY]),
)
def test_one_step_is_the_plain_schedule_whatever_else_is_set(weekly, start, days, frequency):
    end = start + dt.timedelta(days=days)
    plain = build_schedule(
        weekly_maintenance_pence=weekly,
        weekly_paying_parent_fee_pence=weekly // 5,
        weekly_receiving_parent_fee_pence=weekly // 25,
        frequency=frequency,
        start=start,
        end=end,
    )
    stepped = build_stepped_schedule(
        steps=[Step(start - dt.timedelta(days=30), weekly, weekly // 5, weekly // 25)],
        frequency=frequency,
        start=start,
        end=end,
    )
    assert stepped == plain
