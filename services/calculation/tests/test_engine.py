"""The skeleton engine against the rulebook's worked examples (rules.md §2.5), plus money properties."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cms_calculation.engine.calculate import calculate, periodic_amounts
from cms_calculation.engine.model import CalculationFacts, Frequency, QualifyingChild, Rate, ServiceType
from cms_calculation.engine.money import div_half_up, split_balanced
from cms_platform.errors import FailedPrecondition, InvalidArgument


def facts(weekly_pence: int, qcs: int, rocs: int = 0, **kw) -> CalculationFacts:
    # The annual HMRC figure that gives this weekly income (reg 35: ÷ 365 × 7).
    annual = div_half_up(weekly_pence * 365, 7)
    assert div_half_up(annual * 7, 365) == weekly_pence
    return CalculationFacts(effective_date=dt.date(2026, 5, 1), hmrc_gross_annual_income_pence=annual,
                            qualifying_children=tuple(QualifyingChild(f"c{i}", "rp-1") for i in range(qcs)),
                            relevant_other_child_count=rocs, **kw)


@pytest.mark.parametrize(("weekly", "qcs", "rocs", "rate", "amount"), [
    (600_00, 2, 0, Rate.BASIC, 96_00),        # 600 × 16%
    (500_00, 2, 1, Rate.BASIC, 71_00),        # 500 × 0.89 = 445 × 16% = 71.20 → £71
    (1000_00, 2, 0, Rate.BASIC_PLUS, 152_00),  # 800 × 16% + 200 × 12%
    (1600_00, 1, 0, Rate.BASIC_PLUS, 168_00),  # 96 + 800 × 9%
    (4000_00, 1, 0, Rate.BASIC_PLUS, 294_00),  # capped at £3,000: 96 + 2,200 × 9%
])
def test_rulebook_worked_examples(weekly, qcs, rocs, rate, amount):
    result = calculate(facts(weekly, qcs, rocs))
    assert (result.rate, result.weekly_amount_pence) == (rate, amount)
    assert result.capped is (weekly > 3000_00)
    assert all(step.citation for step in result.steps)


def test_collect_and_pay_fees_are_20_and_4_percent():
    result = calculate(facts(600_00, 2, service_type=ServiceType.COLLECT_AND_PAY))
    [rp] = result.receiving_parent_amounts
    assert (rp.paying_parent_fee_weekly_pence, rp.receiving_parent_fee_weekly_pence) == (19_20, 3_84)


def test_several_receiving_parents_add_up_to_the_penny():
    f = facts(700_00, 3)
    f = CalculationFacts(**{**f.__dict__, "qualifying_children": (
        QualifyingChild("a", "rp-1"), QualifyingChild("b", "rp-2"), QualifyingChild("c", "rp-2"))})
    result = calculate(f)
    assert sum(a.weekly_amount_pence for a in result.receiving_parent_amounts) == result.weekly_amount_pence
    assert sum(c.weekly_amount_pence for c in result.child_amounts) == result.weekly_amount_pence


def test_out_of_scope_facts_are_refused_not_miscalculated():
    with pytest.raises(FailedPrecondition):
        calculate(facts(150_00, 1))  # reduced rate: the full engine's job
    with pytest.raises(InvalidArgument):
        calculate(CalculationFacts(effective_date=dt.date(2012, 12, 9), hmrc_gross_annual_income_pence=1,
                                   qualifying_children=(QualifyingChild("c", "r"),)))


@given(st.integers(0, 10**9), st.lists(st.integers(1, 20), min_size=1, max_size=8))
def test_split_balanced_is_exact_and_fair(total, weights):
    parts = split_balanced(total, weights)
    assert sum(parts) == total
    whole = sum(weights)
    for part, w in zip(parts, weights, strict=True):
        assert abs(part * whole - total * w) < whole  # within one penny of the exact share


@given(st.integers(0, 10**8))
def test_periodic_amounts_are_whole_pence_and_consistent(weekly):
    p = periodic_amounts(weekly)
    assert p[Frequency.FORTNIGHTLY] == 2 * weekly and p[Frequency.FOUR_WEEKLY] == 4 * weekly
    assert abs(p[Frequency.MONTHLY] * 12 - weekly * 52) <= 6
