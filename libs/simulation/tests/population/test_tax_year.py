"""Tax years, months and weeks (cms_simulation.population.tax_year): 6 April to 5 April, the labels each layer
uses, and clear refusals of malformed years."""

from __future__ import annotations

import datetime as dt

import pytest

from cms_simulation.population.tax_year import (
    parse_tax_year,
    sa_tax_year,
    short_tax_year,
    tax_month,
    tax_week,
    tax_year_end,
    tax_year_of,
    tax_year_start,
    tax_years_between,
)

D = dt.date


def test_tax_years_turn_on_6_april():
    assert tax_year_of(D(2026, 4, 5)) == "2025-26" and tax_year_of(D(2026, 4, 6)) == "2026-27"
    assert tax_year_of(D(1999, 12, 31)) == "1999-00"
    assert parse_tax_year("2025-26") == 2025 and parse_tax_year(2025) == 2025
    assert tax_year_start("2025-26") == D(2025, 4, 6) and tax_year_end("2025-26") == D(2026, 4, 5)
    assert tax_years_between(D(2024, 4, 5), "2026-27") == [
        "2023-24",
        "2024-25",
        "2025-26",
        "2026-27",
    ]
    assert short_tax_year("2019-20") == "19-20" and sa_tax_year("2019-20") == "2020"


@pytest.mark.parametrize("bad", ["2025-27", "2025-25", "2025/26", "25-26", "2025-2026", ""])
def test_malformed_tax_years_are_refused_clearly(bad):
    with pytest.raises(ValueError, match="tax year"):
        parse_tax_year(bad)


def test_the_second_part_must_follow_the_first():
    with pytest.raises(ValueError, match="the second part must be the year after the first"):
        parse_tax_year("2025-27")


def test_tax_months_and_weeks():
    assert [
        tax_month(d)
        for d in (D(2025, 4, 6), D(2025, 5, 5), D(2025, 5, 6), D(2026, 1, 5), D(2026, 4, 5))
    ] == [1, 1, 2, 9, 12]
    assert [
        tax_week(d) for d in (D(2025, 4, 6), D(2025, 4, 12), D(2025, 4, 13), D(2026, 4, 5))
    ] == [1, 1, 2, 53]
