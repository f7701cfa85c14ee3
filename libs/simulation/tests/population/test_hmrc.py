"""The HMRC figure and the latest available tax year (cms_simulation.population.hmrc): Self Assessment over PAYE,
trading losses, pensions paid through PAYE, and which year HMRC can give on a date."""

from __future__ import annotations

import datetime as dt

from cms_simulation.population.hmrc import (
    PAYE,
    SELF_ASSESSMENT,
    hmrc_figure,
    latest_available_tax_year,
)
from cms_simulation.population.model import (
    Address,
    PayeIncome,
    Person,
    SelfAssessment,
    TaxYearIncome,
    UnearnedIncome,
)

D = dt.date


def person_with(*years: TaxYearIncome, **kw) -> Person:
    return Person(
        "JK123456C",
        "Ms",
        "Rhian",
        "Hughes",
        D(1980, 1, 1),
        Address(("1 High Street",), "LEEDS", "LS6 1AA"),
        tax_years=years,
        **kw,
    )


PAYE_30K = (PayeIncome("E1", "247/A1987CB", "P1", 3_000_000, taxable_benefits_pence=50_000),)


def test_self_assessment_wins_over_paye():
    sa = SelfAssessment(
        D(2025, 1, 20),
        employment_income_pence=3_000_000,
        self_employment_profit_pence=1_000_000,
        partnership_profit_pence=200_000,
        trade_loss_relief_pence=150_000,
    )
    figure = hmrc_figure(
        TaxYearIncome("2023-24", PAYE_30K, sa, UnearnedIncome(uk_property_profit_pence=900_000))
    )
    assert figure.source == SELF_ASSESSMENT
    assert figure.components == {
        "employment": 3_000_000,
        "pension": 0,
        "taxable_benefits": 0,
        "trading_profit": 1_050_000,
    }
    assert figure.gross_pence == 4_050_000  # unearned income is not part of it
    paye = hmrc_figure(TaxYearIncome("2023-24", PAYE_30K))
    assert (paye.source, paye.gross_pence, paye.components["taxable_benefits"]) == (
        PAYE,
        3_050_000,
        50_000,
    )


def test_trading_losses_floor_at_nil():
    sa = SelfAssessment(
        D(2025, 1, 20), self_employment_profit_pence=100_000, trade_loss_relief_pence=500_000
    )
    assert hmrc_figure(TaxYearIncome("2023-24", (), sa)).components["trading_profit"] == 0


def test_pensions_paid_through_paye_count_as_pension_when_the_employments_are_given(employment):
    pension = employment(occupational_pension=True)
    year = TaxYearIncome(
        "2024-25", (PayeIncome(pension.employment_id, "247/A1987CB", "P1", 1_200_000),)
    )
    assert hmrc_figure(year, [pension]).components["pension"] == 1_200_000
    assert (
        hmrc_figure(year).components["employment"] == 1_200_000
    )  # unflagged, it looks like employment


def test_the_latest_available_year_has_ended_is_held_and_is_at_most_six_years_old():
    on = D(2026, 11, 22)
    stale = person_with(TaxYearIncome("2019-20", PAYE_30K), TaxYearIncome("2020-21", PAYE_30K))
    assert latest_available_tax_year(stale, on).tax_year == "2020-21"
    assert latest_available_tax_year(stale, D(2027, 4, 6)) is None  # 2020-21 is now seven years old
    current = person_with(TaxYearIncome("2025-26", PAYE_30K), TaxYearIncome("2026-27", PAYE_30K))
    assert latest_available_tax_year(current, on).tax_year == "2025-26"  # 2026-27 has not ended
    assert latest_available_tax_year(current, D(2026, 4, 5)) is None
    sa = SelfAssessment(D(2027, 1, 30), self_employment_profit_pence=5_000_000)
    filer = person_with(
        TaxYearIncome("2024-25", (), SelfAssessment(D(2026, 1, 2), self_employment_profit_pence=1)),
        TaxYearIncome("2025-26", PAYE_30K, sa, UnearnedIncome(savings_interest_pence=1)),
    )
    before = latest_available_tax_year(filer, on)
    assert (before.tax_year, before.self_assessment, before.unearned) == (
        "2025-26",
        None,
        None,
    )  # PAYE until SA
    assert hmrc_figure(latest_available_tax_year(filer, D(2027, 2, 1))).gross_pence == 5_000_000
    sa_only = person_with(
        TaxYearIncome("2024-25", (), SelfAssessment(D(2026, 1, 2), self_employment_profit_pence=7)),
        TaxYearIncome("2025-26", (), sa),
    )
    assert (
        latest_available_tax_year(sa_only, on).tax_year == "2024-25"
    )  # the latest return is not in yet
