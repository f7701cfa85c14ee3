"""The "HMRC figure" (reg 36 CSMC Regs 2012) and which tax year HMRC can give on a date
(docs/domain/external-systems.md §1.6).

- Latest available tax year: the latest tax year that ended before the date, is at most six years old (its start
  year is no more than six before the current tax year's), and for which HMRC holds data on that date: PAYE
  end-of-year figures (held once the year has ended) or a Self Assessment return received by then. A return not yet
  received is left out of the year returned (and its unearned income with it), so PAYE answers until it arrives.
- HMRC figure: if the year has a Self Assessment return, SA wins over PAYE: employment income + pension income +
  taxable benefits + trading profit (self-employment + partnership - trade loss relief, floored at 0). Otherwise
  PAYE: taxable pay (after net-pay pension contributions) + benefits taxed via payroll over all employments; pay
  from an employment flagged as an occupational pension counts as pension income when the employments are given.
  Unearned income is not part of the figure (it is the additional-income variation's).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from typing import NamedTuple

from .model import Employment, Person, SelfAssessment, TaxYearIncome
from .tax_year import parse_tax_year, tax_year_start_year

MAX_AGE_YEARS = 6
SELF_ASSESSMENT = "SELF_ASSESSMENT"
PAYE = "PAYE"


class HmrcFigure(NamedTuple):
    gross_pence: int
    source: str  # "SELF_ASSESSMENT" | "PAYE"
    components: dict[str, int]  # employment, pension, taxable_benefits, trading_profit


def held_on(year: TaxYearIncome, on: dt.date) -> TaxYearIncome | None:
    """The tax year as HMRC holds it on a date: None before the year has ended or when nothing is held yet."""
    start = parse_tax_year(year.tax_year)
    if on <= dt.date(start + 1, 4, 5):
        return None
    sa = year.self_assessment
    if sa is not None and sa.return_received_date > on:
        if not year.paye:
            return None
        return dataclasses.replace(year, self_assessment=None, unearned=None)
    if not year.paye and sa is None:
        return None
    return year


def latest_available_tax_year(person: Person, on: dt.date) -> TaxYearIncome | None:
    """The latest tax year HMRC can give for the person on a date (at most six years old), as held then."""
    oldest = tax_year_start_year(on) - MAX_AGE_YEARS
    for year in reversed(person.tax_years):
        if parse_tax_year(year.tax_year) < oldest:
            return None
        held = held_on(year, on)
        if held is not None:
            return held
    return None


def trading_profit_pence(sa: SelfAssessment) -> int:
    return max(
        0,
        sa.self_employment_profit_pence + sa.partnership_profit_pence - sa.trade_loss_relief_pence,
    )


def hmrc_figure(year: TaxYearIncome, employments: Iterable[Employment] = ()) -> HmrcFigure:
    """Gross annual income for a tax year by reg 36: Self Assessment when held, else PAYE."""
    sa = year.self_assessment
    if sa is not None:
        c = {
            "employment": sa.employment_income_pence,
            "pension": sa.pension_income_pence,
            "taxable_benefits": sa.taxable_benefits_pence,
            "trading_profit": trading_profit_pence(sa),
        }
        return HmrcFigure(sum(c.values()), SELF_ASSESSMENT, c)
    pensions = {e.employment_id for e in employments if e.occupational_pension}
    c = {"employment": 0, "pension": 0, "taxable_benefits": 0, "trading_profit": 0}
    for p in year.paye:
        c["pension" if p.employment_id in pensions else "employment"] += p.taxable_pay_pence
        c["taxable_benefits"] += p.taxable_benefits_pence
    return HmrcFigure(sum(c.values()), PAYE, c)
