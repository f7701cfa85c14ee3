"""The common-case integer path (engine/fast.py) against the general pipeline: on every generated case it either
declines (None) or gives exactly the general path's result, and it never answers facts the general path refuses.

Cases are drawn around the edges that decide the answer: the nil, flat, reduced, basic and basic-plus income bands
and the cap (reg 35 weekly figures turned back into HMRC annual amounts), each shared-care threshold, one to five
children, relevant other children, fees for Collect & Pay and Direct Pay, every rule set in the book (the reform
included) and the other whole-pound rounding points; some are pushed just outside the common shape or made
invalid so the fall-through is exercised too.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cms_calculation.engine.calculate import calculate, calculate_general
from cms_calculation.engine.fast import calculate_common
from cms_calculation.engine.model import (
    AdditionalIncome,
    AdditionalIncomeKind,
    Benefit,
    BenefitReceipt,
    BenefitRecipient,
    CalculationFacts,
    ComplianceStatus,
    CurrentIncome,
    NilRateCondition,
    PayingParentIncome,
    QualifyingChild,
    Rate,
    ServiceType,
    SpecialExpense,
    SpecialExpenseKind,
)
from cms_calculation.engine.money import MAX_AMOUNT_PENCE
from cms_calculation.engine.rules import RuleBook, RuleSet, WholePoundRounding
from cms_platform.errors import DomainError

BOOK = RuleBook(reform_start=dt.date(2026, 4, 6))
RULE_SETS = [
    *BOOK.rule_sets,
    *(
        dataclasses.replace(r, whole_pound_rounding=w)
        for r in BOOK.rule_sets[-2:]
        for w in (WholePoundRounding.AFTER_SHARED_CARE, WholePoundRounding.NONE)
    ),
]
PROPERTY = settings(max_examples=1500, deadline=None)

# Weekly incomes at and either side of every band edge of the default rule set (£7, £100, £200, £800, £3,000).
EDGES = [
    0,
    1,
    699,
    700,
    701,
    9_999,
    10_000,
    10_001,
    19_999,
    20_000,
    20_001,
    79_999,
    80_000,
    80_001,
    89_888,
]
EDGES += [89_889, 89_890, 299_999, 300_000, 300_001]
NIGHTS = [0, 1, 51, 52, 53, 103, 104, 155, 156, 174, 175, 176, 364, 365]


def annual_for_weekly(weekly: int) -> int:
    """An HMRC annual figure near this weekly income (reg 35: ÷ 365 × 7)."""
    return weekly * 365 // 7


annual_income = st.one_of(
    st.integers(0, 400_000_00),
    st.sampled_from(EDGES).flatmap(
        lambda w: st.integers(max(0, annual_for_weekly(w) - 60), annual_for_weekly(w) + 60)
    ),
    st.just(MAX_AMOUNT_PENCE),
)


@st.composite
def common_facts(draw) -> CalculationFacts:
    """Facts of the common shape: historic income, one receiving parent, no benefit or variation."""
    count = draw(st.integers(1, 5))
    children = tuple(
        QualifyingChild(
            child_reference=f"child-{i}",
            receiving_parent_reference="rp",
            shared_care_nights=draw(st.one_of(st.sampled_from(NIGHTS), st.integers(0, 365))),
            forename=draw(st.sampled_from(["", "Amy"])),
        )
        for i in range(count)
    )
    return CalculationFacts(
        effective_date=draw(st.dates(dt.date(2012, 12, 10), dt.date(2030, 12, 31))),
        qualifying_children=children,
        paying_parent_income=PayingParentIncome(
            draw(annual_income),
            draw(st.sampled_from(["", "2024-25"])),
            pension_contributions_annual_pence=draw(
                st.one_of(st.just(0), st.integers(0, 20_000_00))
            ),
        ),
        relevant_other_child_count=draw(st.integers(0, 4)),
        service_type=draw(st.sampled_from(ServiceType)),
        compliance_status=draw(st.sampled_from(ComplianceStatus)),
        partner_is_paying_parent=draw(st.booleans()),
    )


def _child(facts: CalculationFacts, **changes) -> CalculationFacts:
    if not facts.qualifying_children:
        return facts
    first = dataclasses.replace(facts.qualifying_children[0], **changes)
    return dataclasses.replace(facts, qualifying_children=(first, *facts.qualifying_children[1:]))


# One change each that takes common facts outside the fast path's shape, or makes them invalid.
DEPARTURES = [
    lambda f: _child(f, receiving_parent_reference="rp-2"),
    lambda f: _child(f, receiving_parent_reference=" "),
    lambda f: _child(f, child_reference=""),
    lambda f: _child(f, equal_day_to_day_care=True),
    lambda f: _child(f, shared_care_period_nights=180, shared_care_nights=90),
    lambda f: _child(f, shared_care_nights=366),
    lambda f: _child(f, shared_care_nights=-1),
    lambda f: dataclasses.replace(
        f, qualifying_children=f.qualifying_children + f.qualifying_children[:1]
    ),
    lambda f: dataclasses.replace(f, qualifying_children=()),
    lambda f: dataclasses.replace(f, relevant_other_child_count=-1),
    lambda f: dataclasses.replace(f, other_arrangement_child_count=1),
    lambda f: dataclasses.replace(f, default_maintenance_decision=True),
    lambda f: dataclasses.replace(f, effective_date=dt.date(2012, 12, 9)),
    lambda f: dataclasses.replace(
        f, benefits=(BenefitReceipt(Benefit.STATE_PENSION, BenefitRecipient.PAYING_PARENT),)
    ),
    lambda f: dataclasses.replace(f, nil_rate_conditions=(NilRateCondition.PRISONER,)),
    lambda f: dataclasses.replace(
        f, special_expenses=(SpecialExpense(SpecialExpenseKind.CONTACT_COSTS, 20_00),)
    ),
    lambda f: dataclasses.replace(
        f,
        additional_incomes=(
            AdditionalIncome(AdditionalIncomeKind.DIVERTED_INCOME, weekly_amount_pence=50_00),
        ),
    ),
    lambda f: dataclasses.replace(f, paying_parent_income=None),
    lambda f: dataclasses.replace(
        f,
        paying_parent_income=dataclasses.replace(
            f.paying_parent_income or PayingParentIncome(), current_income=CurrentIncome(500_00)
        ),
    ),
    lambda f: dataclasses.replace(
        f,
        paying_parent_income=PayingParentIncome(
            hmrc_income_unavailable=True, current_income=CurrentIncome(500_00)
        ),
    ),
    lambda f: dataclasses.replace(f, paying_parent_income=PayingParentIncome(MAX_AMOUNT_PENCE + 1)),
    lambda f: dataclasses.replace(
        f, paying_parent_income=PayingParentIncome(50_000_00, pension_contributions_annual_pence=-1)
    ),
]


def general_or_error(facts: CalculationFacts, rules: RuleSet):
    try:
        return calculate_general(facts, rules, explain=False)
    except DomainError as exc:
        return type(exc)


@PROPERTY
@given(common_facts(), st.sampled_from(RULE_SETS))
def test_the_common_path_answers_every_common_case_exactly_as_the_general_path(facts, rules):
    fast = calculate_common(facts, rules)
    if facts.effective_date < rules.scheme_start:
        assert fast is None
        return
    assert fast is not None
    assert fast == calculate_general(facts, rules, explain=False)
    assert calculate(facts, rules, explain=False) == fast


@PROPERTY
@given(common_facts(), st.sampled_from(RULE_SETS))
def test_the_common_path_explains_every_common_case_with_the_general_paths_steps(facts, rules):
    # The same result and the same steps, text for text, in the same order (a preview, a stored decision).
    fast = calculate_common(facts, rules, explain=True)
    if facts.effective_date < rules.scheme_start:
        assert fast is None
        return
    assert fast is not None and fast.steps
    assert fast == calculate_general(facts, rules, explain=True)
    assert calculate(facts, rules, explain=True) == fast


@PROPERTY
@given(
    common_facts(),
    st.sampled_from(RULE_SETS),
    st.lists(st.sampled_from(DEPARTURES), min_size=1, max_size=3),
)
def test_outside_the_common_shape_or_invalid_the_general_path_explains(facts, rules, departures):
    for departure in departures:
        facts = departure(facts)
    fast = calculate_common(facts, rules, explain=True)
    try:
        general = calculate_general(facts, rules, explain=True)
    except DomainError as exc:
        assert fast is None
        with pytest.raises(type(exc)):
            calculate(facts, rules, explain=True)
        return
    if fast is not None:
        assert fast == general
    assert calculate(facts, rules, explain=True) == general


@PROPERTY
@given(
    common_facts(),
    st.sampled_from(RULE_SETS),
    st.lists(st.sampled_from(DEPARTURES), min_size=1, max_size=3),
)
def test_outside_the_common_shape_or_invalid_the_general_path_decides(facts, rules, departures):
    for departure in departures:
        facts = departure(facts)
    fast = calculate_common(facts, rules)
    general = general_or_error(facts, rules)
    if fast is not None:
        assert fast == general
    if isinstance(
        general, type
    ):  # refused: the same refusal through calculate(), never a fast answer
        with pytest.raises(general):
            calculate(facts, rules, explain=False)
    else:
        assert calculate(facts, rules, explain=False) == general


@PROPERTY
@given(common_facts(), st.sampled_from(RULE_SETS))
def test_explaining_changes_only_the_steps(facts, rules):
    if facts.effective_date < rules.scheme_start:
        return
    explained = calculate(facts, rules, explain=True)
    assert explained.steps
    assert dataclasses.replace(explained, steps=()) == calculate(facts, rules, explain=False)


@pytest.mark.parametrize(
    ("weekly", "nights", "rate", "amount"),
    [
        (600, 0, Rate.NIL, 0),
        (10_000, 0, Rate.FLAT, 700),
        (15_000, 0, Rate.REDUCED, 16_00),  # £7 + 17% of £50 = £15.50, to the pound
        (50_000, 0, Rate.BASIC, 60_00),  # 12% of £500
        (50_000, 175, Rate.BASIC, 23_00),  # half off £60, less £7
        (100_000, 0, Rate.BASIC_PLUS, 114_00),  # 12% of £800 + 9% of £200
        (400_000, 0, Rate.BASIC_PLUS, 294_00),  # capped at £3,000
    ],
)
def test_the_common_path_takes_each_rate_of_the_common_shape(weekly, nights, rate, amount):
    rules = BOOK.in_force(dt.date(2026, 1, 5))
    assert rules is not None
    facts = CalculationFacts(
        effective_date=dt.date(2026, 1, 5),
        qualifying_children=(QualifyingChild("c", "rp", shared_care_nights=nights),),
        paying_parent_income=PayingParentIncome(weekly * 365 // 7 + 1),
    )
    result = calculate_common(facts, rules)
    assert result is not None
    assert (result.rate, result.weekly_amount_pence) == (rate, amount)
    assert result == calculate_general(facts, rules, explain=False)
    assert calculate_common(facts, rules, explain=True) == calculate_general(facts, rules)
