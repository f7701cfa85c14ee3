"""Tax years and the RTI window (cms_hmrc_gateway.income.rules): the labels HMRC answers for, which years it can be
asked about on a date, and the 13 weeks current income is averaged over."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cms_hmrc_gateway.income.rules import (
    FIRST_TAX_YEAR,
    RTI_WINDOW_DAYS,
    is_tax_year,
    rti_window,
    tax_year_of,
    tax_year_problem,
)

TODAY = dt.date(2026, 4, 6)
days = st.dates(dt.date(1900, 1, 1), dt.date(9998, 12, 31))


@pytest.mark.parametrize(
    ("tax_year", "ok"),
    [
        ("2024-25", True),
        ("2099-00", True),
        ("2024-26", False),
        ("2024/25", False),
        ("24-25", False),
        ("2024-2025", False),
        ("", False),
        ("2024-25 ", False),
    ],
)
def test_is_tax_year(tax_year, ok):
    assert is_tax_year(tax_year) is ok


@pytest.mark.parametrize(
    ("day", "tax_year"),
    [
        (dt.date(2026, 4, 5), "2025-26"),
        (dt.date(2026, 4, 6), "2026-27"),
        (dt.date(2026, 1, 1), "2025-26"),
        (dt.date(1999, 12, 31), "1999-00"),
    ],
)
def test_tax_year_of(day, tax_year):
    assert tax_year_of(day) == tax_year


@given(days)
def test_every_day_is_in_a_well_formed_tax_year_that_starts_on_6_april_by_then(day):
    label = tax_year_of(day)
    assert is_tax_year(label)
    start = dt.date(int(label[:4]), 4, 6)
    assert start <= day < dt.date(start.year + 1, 4, 6)


@pytest.mark.parametrize(
    ("tax_year", "problem"),
    [
        ("2024-25", None),
        ("2026-27", None),  # the current year
        (FIRST_TAX_YEAR, None),
        ("2024-26", 'is not a tax year like "2024-25"'),
        ("2012-13", "2012-13 is before 2013-14, the first year of RTI data"),
        ("2027-28", "2027-28 has not started yet"),
    ],
)
def test_which_tax_years_hmrc_can_be_asked_about(tax_year, problem):
    assert tax_year_problem(tax_year, TODAY) == problem


@given(days)
def test_the_current_tax_year_can_always_be_asked_about_from_rti_onwards(day):
    problem = tax_year_problem(tax_year_of(day), day)
    assert (problem is None) == (tax_year_of(day) >= FIRST_TAX_YEAR)


@given(days)
def test_the_rti_window_is_13_weeks_to_the_day(day):
    start, end = rti_window(day)
    assert end == day and (end - start).days + 1 == RTI_WINDOW_DAYS == 13 * 7
