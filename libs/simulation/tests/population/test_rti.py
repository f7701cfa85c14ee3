"""RTI payments and PAYE year totals (cms_simulation.population.rti): pay dates, amounts that sum to the annual
figures, year-to-date totals, pay changes, the TWO_PAYS_ONE_MONTH and LATE_RTI_SUBMISSION quirks, and year totals
that are the sums of the payments (the fast path included)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cms_simulation.population import Population
from cms_simulation.population.model import DataQuirk, Employment, PayFrequency
from cms_simulation.population.rti import (
    pay_day,
    paye_income_by_year,
    paye_income_for_year,
    person_paye_income,
    rti_payments,
)
from cms_simulation.population.tax_year import parse_tax_year, tax_week

D = dt.date
SMALL = Population(size=3_000, seed=99)


@pytest.mark.parametrize(
    "frequency",
    [PayFrequency.MONTHLY, PayFrequency.WEEKLY, PayFrequency.FORTNIGHTLY, PayFrequency.FOUR_WEEKLY],
)
def test_rti_payments_over_a_whole_tax_year_sum_to_the_annual_pay(frequency, employment):
    e = employment(
        frequency,
        annual=3_123_457,
        annual_employee_pension_contributions_pence=150_001,
        annual_benefits_in_kind_pence=90_000,
    )
    paid = rti_payments(e, D(2025, 4, 6), D(2026, 4, 5))
    periods = {
        PayFrequency.MONTHLY: 12,
        PayFrequency.WEEKLY: 52,
        PayFrequency.FORTNIGHTLY: 26,
        PayFrequency.FOUR_WEEKLY: 13,
    }[frequency]
    total = sum(p.taxable_pay_pence for p in paid)
    assert total * periods == pytest.approx(
        3_123_457 * len(paid), abs=periods * len(paid)
    )  # within rounding
    if frequency is PayFrequency.MONTHLY:
        assert len(paid) == 12 and total == 3_123_457  # the March payment carries the odd pence
        assert sum(p.employee_pension_contributions_pence for p in paid) == 150_001
        assert [p.month_number for p in paid] == list(range(1, 13)) and all(
            p.week_number == 0 for p in paid
        )
    else:
        christmas = {
            (12, 24),
            (12, 25),
            (12, 26),
            (12, 31),
        }  # a holiday Friday is paid the working day before
        assert all(
            p.payment_date.weekday() == 4 or (p.payment_date.month, p.payment_date.day) in christmas
            for p in paid
        )
        assert all(p.month_number == 0 for p in paid)
        assert [p.week_number for p in paid] == [tax_week(p.payment_date) for p in paid]
    assert paid[-1].taxable_pay_to_date_pence == total and all(
        p.tax_year == "2025-26" for p in paid
    )
    assert paye_income_for_year(e, "2025-26").taxable_pay_pence == total


def test_year_to_date_restarts_each_tax_year_and_payments_stay_within_the_employment(employment):
    e = employment(start=D(2024, 11, 20), end=D(2025, 7, 10))
    paid = rti_payments(e, D(2024, 1, 1), D(2026, 1, 1))
    assert e.start_date <= paid[0].payment_date and paid[-1].payment_date <= e.end_date
    first_of_year = next(p for p in paid if p.tax_year == "2025-26")
    assert first_of_year.taxable_pay_to_date_pence == first_of_year.taxable_pay_pence
    # A window inside a year keeps the year-to-date totals from the start of the year.
    later = rti_payments(e, D(2025, 6, 1), D(2025, 6, 30))
    assert later[0].taxable_pay_to_date_pence == sum(
        p.taxable_pay_pence for p in paid if D(2025, 4, 6) <= p.payment_date <= D(2025, 6, 30)
    )


def test_monthly_pay_moves_back_from_weekends(employment):
    paid = rti_payments(employment(), D(2025, 1, 1), D(2026, 12, 31))
    assert all(p.payment_date.weekday() < 5 for p in paid)
    assert len({(p.payment_date.year, p.payment_date.month) for p in paid}) == len(paid)


def test_pay_changes_apply_from_their_date(employment):
    e = employment(pay_changes=((D(2025, 9, 6), 3_600_000),))
    paid = rti_payments(e, D(2025, 4, 6), D(2026, 4, 5))
    assert {p.taxable_pay_pence for p in paid if p.payment_date < D(2025, 9, 6)} == {250_000}
    assert {p.taxable_pay_pence for p in paid if p.payment_date >= D(2025, 9, 6)} >= {300_000}
    assert paye_income_for_year(e, 2025).taxable_pay_pence == sum(p.taxable_pay_pence for p in paid)


def test_two_pays_one_month_puts_the_january_pay_into_december(employment):
    # An employment whose pay day is the 5th (pay days come from the employment id).
    e = next(
        e
        for i in range(1000)
        if pay_day(e := dataclasses.replace(employment(), employment_id=f"X-{i}")) == 5
    )
    normal = rti_payments(e, D(2025, 12, 1), D(2025, 12, 31))
    quirky = rti_payments(
        e, D(2025, 12, 1), D(2025, 12, 31), quirks=frozenset({DataQuirk.TWO_PAYS_ONE_MONTH})
    )
    assert len(normal) == 1 and len(quirky) == 2 and quirky[1].payment_date <= D(2025, 12, 18)
    whole = rti_payments(
        e, D(2025, 4, 6), D(2026, 4, 5), quirks=frozenset({DataQuirk.TWO_PAYS_ONE_MONTH})
    )
    assert sum(p.taxable_pay_pence for p in whole) == e.annual_taxable_pay_pence


def test_late_rti_submissions_arrive_after_the_payment(employment):
    paid = rti_payments(
        employment(PayFrequency.WEEKLY),
        D(2024, 4, 6),
        D(2026, 4, 5),
        quirks=frozenset({DataQuirk.LATE_RTI_SUBMISSION}),
    )
    late = [p for p in paid if p.submission_date > p.payment_date]
    assert 0.1 < len(late) / len(paid) < 0.4 and all(
        (p.submission_date - p.payment_date).days <= 45 for p in late
    )
    on_time = rti_payments(employment(PayFrequency.WEEKLY), D(2024, 4, 6), D(2026, 4, 5))
    assert all(p.submission_date == p.payment_date for p in on_time)


def test_generated_paye_years_are_the_sums_of_their_rti_payments():
    checked = 0
    for p in SMALL.iter_people(0, 400):
        for ty in p.tax_years:
            start = parse_tax_year(ty.tax_year)
            for entry in ty.paye:
                e = next(e for e in p.employments if e.employment_id == entry.employment_id)
                paid = rti_payments(e, D(start, 4, 6), D(start + 1, 4, 5), quirks=p.quirks)
                assert entry.taxable_pay_pence == sum(x.taxable_pay_pence for x in paid)
                assert entry.tax_deducted_pence == sum(x.tax_deducted_pence for x in paid)
                checked += 1
        assert person_paye_income(p, "2024-25") == next(
            (ty.paye for ty in p.tax_years if ty.tax_year == "2024-25"), ()
        )
    assert checked > 1_000


@settings(max_examples=150, deadline=None)
@given(
    frequency=st.sampled_from(
        [
            PayFrequency.MONTHLY,
            PayFrequency.WEEKLY,
            PayFrequency.FORTNIGHTLY,
            PayFrequency.FOUR_WEEKLY,
        ]
    ),
    start=st.dates(D(2010, 1, 1), D(2026, 1, 1)),
    length=st.none() | st.integers(0, 4000),
    changes=st.lists(
        st.tuples(st.integers(2012, 2027), st.integers(1, 12), st.integers(100_000, 9_000_000)),
        max_size=4,
    ),
    two_pays=st.booleans(),
    n=st.integers(0, 99),
)
def test_the_fast_year_totals_agree_with_the_payments(
    frequency, start, length, changes, two_pays, n, acme
):
    e = Employment(
        f"E-{n}",
        acme,
        "P",
        start,
        None if length is None else start + dt.timedelta(days=length),
        frequency,
        2_345_678,
        100_000,
        12_000,
        pay_changes=tuple(sorted((D(y, m, 6), pay) for y, m, pay in changes)),
    )
    quirks = frozenset({DataQuirk.TWO_PAYS_ONE_MONTH}) if two_pays else frozenset()
    fast = paye_income_by_year(e, 2013, 2026, quirks=quirks)
    for year in range(2013, 2027):
        paid = rti_payments(e, D(year, 4, 6), D(year + 1, 4, 5), quirks=quirks)
        assert fast.get(year) == paye_income_for_year(e, year, quirks=quirks)
        assert (fast[year].taxable_pay_pence if year in fast else 0) == sum(
            p.taxable_pay_pence for p in paid
        )
