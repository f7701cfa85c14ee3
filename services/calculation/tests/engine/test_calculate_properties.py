"""Property tests for the 2012-scheme calculation engine (docs/domain/calculation.md §2, §3, §8), over generated
valid facts.

Every test draws whole CalculationFacts (income, children across receiving parents, shared care, relevant other
children, other arrangements, benefits, nil-rate conditions, variations, service type, compliance, default
decisions) and checks a property the law or the engine's contract guarantees for every input, plus a few worked
examples from docs/domain/calculation.md.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cms_calculation.engine.calculate import calculate
from cms_calculation.engine.model import (
    AdditionalIncome,
    AdditionalIncomeKind,
    Benefit,
    BenefitReceipt,
    BenefitRecipient,
    CalculationFacts,
    CalculationResult,
    ComplianceStatus,
    CurrentIncome,
    IncomeDetermination,
    NilRateCondition,
    PayingParentIncome,
    QualifyingChild,
    Rate,
    ServiceType,
    SharedCareBand,
    SpecialExpense,
    SpecialExpenseKind,
    StepKind,
)
from cms_calculation.engine.money import div_half_up
from cms_calculation.engine.rules import REFORM_VERSION, RuleBook, RuleSet, parameters

FIRST_DATE = dt.date(
    2014, 8, 11
)  # Child Support Fees Regulations 2014: collection fees from here (bereavement allowance omitted from 6 April 2017)
LAST_DATE = dt.date(2030, 12, 31)
MAX_ANNUAL_PENCE = 400_000_00
BOOK = RuleBook()
PROPERTY = settings(max_examples=300, deadline=None)
DATE = dt.date(2026, 5, 1)
RULES = BOOK.in_force(DATE)

# ---------------------------------------------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------------------------------------------

dates = st.dates(FIRST_DATE, LAST_DATE)
annual_income = st.integers(0, MAX_ANNUAL_PENCE)
names = st.sampled_from(["", "", "Amy", "Ben", "Cara", "Dev", "O'Neil", "Mary-Jo"])


@st.composite
def current_incomes(draw) -> CurrentIncome:
    return CurrentIncome(
        gross_weekly_income_pence=draw(st.integers(0, 8_000_00)),
        pension_contributions_weekly_pence=draw(st.one_of(st.just(0), st.integers(0, 200_00))),
        estimated=draw(st.booleans()),
    )


@st.composite
def paying_parent_incomes(draw, *, historic_only: bool = False) -> PayingParentIncome:
    pension = draw(st.one_of(st.just(0), st.just(0), st.integers(0, 20_000_00)))
    tax_year = draw(st.sampled_from(["", "2023-24", "2024-25"]))
    if historic_only:
        return PayingParentIncome(
            draw(annual_income), tax_year, pension_contributions_annual_pence=pension
        )
    kind = draw(st.sampled_from(["historic", "historic", "both", "unavailable"]))
    if kind == "unavailable":
        return PayingParentIncome(
            hmrc_tax_year=tax_year,
            hmrc_income_unavailable=True,
            current_income=draw(current_incomes()),
        )
    return PayingParentIncome(
        draw(annual_income),
        tax_year,
        pension_contributions_annual_pence=pension,
        current_income=draw(current_incomes()) if kind == "both" else None,
    )


@st.composite
def children(draw, *, all_equal_care: bool = False) -> tuple[QualifyingChild, ...]:
    """1–5 qualifying children spread over 1–3 receiving parents, with shared care (and sometimes equal care)."""
    count = draw(st.integers(1, 5))
    rps = draw(st.integers(1, 3))
    out = []
    for i in range(count):
        period = draw(st.one_of(st.just(0), st.just(0), st.just(0), st.integers(1, 366)))
        nights = draw(st.integers(0, period or 365))
        equal = all_equal_care or draw(st.integers(0, 9)) == 0
        out.append(
            QualifyingChild(
                child_reference=f"child-{i}",
                receiving_parent_reference=f"rp-{draw(st.integers(0, rps - 1))}",
                shared_care_nights=nights,
                shared_care_period_nights=period,
                equal_day_to_day_care=equal,
                forename=draw(names),
            )
        )
    return tuple(out)


benefit_receipts = st.builds(
    BenefitReceipt, st.sampled_from(Benefit), st.sampled_from(BenefitRecipient)
)
special_expenses = st.builds(
    SpecialExpense,
    st.sampled_from(SpecialExpenseKind),
    st.integers(0, 300_00),
    st.sampled_from(["", "V-1"]),
)


@st.composite
def additional_incomes(draw) -> AdditionalIncome:
    kind = draw(st.sampled_from(AdditionalIncomeKind))
    if draw(st.booleans()):
        return AdditionalIncome(kind, weekly_amount_pence=draw(st.integers(0, 1_000_00)))
    return AdditionalIncome(kind, annual_amount_pence=draw(st.integers(0, 50_000_00)))


def occasionally(strategy, max_size: int):
    """Mostly empty, sometimes a few."""
    return st.one_of(
        st.just(()),
        st.just(()),
        st.just(()),
        st.lists(strategy, min_size=1, max_size=max_size).map(tuple),
    )


@st.composite
def facts_strategy(draw, *, plain: bool = False, all_equal_care: bool = False) -> CalculationFacts:
    """Valid facts. `plain`: historic income only, no benefits, nil-rate conditions, variations or default decision
    (the setting of the monotonicity property)."""
    return CalculationFacts(
        effective_date=draw(dates),
        qualifying_children=draw(children(all_equal_care=all_equal_care)),
        paying_parent_income=draw(paying_parent_incomes(historic_only=plain)),
        benefits=() if plain else draw(occasionally(benefit_receipts, 2)),
        nil_rate_conditions=()
        if plain
        else draw(occasionally(st.sampled_from(NilRateCondition), 2)),
        relevant_other_child_count=draw(st.integers(0, 4)),
        other_arrangement_child_count=draw(st.sampled_from([0, 0, 0, 1, 2])),
        special_expenses=() if plain else draw(occasionally(special_expenses, 3)),
        additional_incomes=() if plain else draw(occasionally(additional_incomes(), 2)),
        service_type=draw(st.sampled_from(ServiceType)),
        compliance_status=draw(st.sampled_from(ComplianceStatus)),
        default_maintenance_decision=False if plain else draw(st.integers(0, 9)) == 0,
        partner_is_paying_parent=draw(st.integers(0, 4)) == 0,
    )


def rules_for(facts: CalculationFacts) -> RuleSet:
    rules = BOOK.in_force(facts.effective_date)
    assert rules is not None and rules.version == (
        "2017-04-06" if facts.effective_date >= dt.date(2017, 4, 6) else "2014-08-11"
    )
    return rules


reform_books = st.dates(dt.date(2026, 1, 1), LAST_DATE).map(
    lambda start: RuleBook(reform_start=start)
)


def without_steps(result: CalculationResult) -> CalculationResult:
    return dataclasses.replace(result, steps=())


def weekly_equivalent_annual(weekly_pence: int) -> int:
    """The HMRC annual figure that gives this weekly income (reg 35: ÷ 365 × 7)."""
    annual = div_half_up(weekly_pence * 365, 7)
    assert div_half_up(annual * 7, 365) == weekly_pence
    return annual


# ---------------------------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------------------------


@PROPERTY
@given(facts_strategy())
def test_no_amount_is_negative(facts):
    """Money is never negative (Sch 1 paras 2–8: every rate is nil or more; shared care "never below nil" for one
    receiving parent; fees are percentages of what is due): the weekly total, each receiving parent's apportioned
    and final amounts, extra deductions and fees, each child's amount and every income figure."""
    result = calculate(facts, rules_for(facts))
    assert result.weekly_amount_pence >= 0
    for rp in result.receiving_parent_amounts:
        assert rp.apportioned_weekly_amount_pence >= 0
        assert rp.weekly_amount_pence >= 0
        assert rp.shared_care_extra_deduction_pence >= 0
        assert rp.paying_parent_fee_weekly_pence >= 0
        assert rp.receiving_parent_fee_weekly_pence >= 0
        assert 0 <= rp.shared_care_fraction <= 1
    for child in result.child_amounts:
        assert child.weekly_amount_pence >= 0
    for f in dataclasses.fields(IncomeDetermination):
        value = getattr(result.income, f.name)
        if isinstance(value, int) and not isinstance(value, bool):
            assert value >= 0, f.name
    assert result.paying_parent_fee_weekly_pence >= 0
    assert result.receiving_parent_fee_weekly_pence >= 0


@PROPERTY
@given(facts_strategy())
def test_parts_add_up_exactly(facts):
    """Sch 1 para 6 (docs/domain/calculation.md §4): the amount is apportioned between receiving parents and
    balanced to the penny, so the receiving parents' amounts add up to the weekly total, each receiving parent's
    children add up to its amount, and the fee totals are the sums of the per-receiving-parent fees (Fees Regs
    2014 regs 7 and 8: "per-PWC daily amount where several PWCs")."""
    result = calculate(facts, rules_for(facts))
    rps = result.receiving_parent_amounts
    assert sum(rp.weekly_amount_pence for rp in rps) == result.weekly_amount_pence
    assert [rp.receiving_parent_reference for rp in rps] == list(
        dict.fromkeys(c.receiving_parent_reference for c in facts.qualifying_children)
    )
    assert [c.child_reference for c in result.child_amounts] == [
        c.child_reference for c in facts.qualifying_children
    ]
    for rp in rps:
        mine = [
            c
            for c in result.child_amounts
            if c.receiving_parent_reference == rp.receiving_parent_reference
        ]
        assert sum(c.weekly_amount_pence for c in mine) == rp.weekly_amount_pence, (
            rp.receiving_parent_reference
        )
        assert rp.qualifying_child_count == sum(
            1 for c in mine if c.shared_care_band is not SharedCareBand.EQUAL_CARE
        )
    assert sum(c.weekly_amount_pence for c in result.child_amounts) == result.weekly_amount_pence
    assert result.paying_parent_fee_weekly_pence == sum(
        rp.paying_parent_fee_weekly_pence for rp in rps
    )
    assert result.receiving_parent_fee_weekly_pence == sum(
        rp.receiving_parent_fee_weekly_pence for rp in rps
    )
    fee_steps = [
        s for s in result.steps if s.kind == StepKind.COLLECTION_FEE and s.amount_pence is not None
    ]
    for step in fee_steps:  # the explained fee is the total the paying parent is charged
        assert step.amount_pence == result.paying_parent_fee_weekly_pence
    if rates_that_apportion(result):
        assert sum(
            rp.apportioned_weekly_amount_pence for rp in rps
        ) >= result.weekly_amount_pence or any(s.kind == StepKind.FLOOR for s in result.steps)


def rates_that_apportion(result: CalculationResult) -> bool:
    return result.rate in (Rate.REDUCED, Rate.BASIC, Rate.BASIC_PLUS)


@PROPERTY
@given(
    facts_strategy(plain=True), st.integers(0, MAX_ANNUAL_PENCE), st.integers(0, MAX_ANNUAL_PENCE)
)
def test_more_income_never_means_less_maintenance(facts, a, b):
    """Sch 1 paras 2–4 and reg 43 (docs/domain/calculation.md §2.1): nil below £7, flat £7 to £100, reduced £7 +
    (GWI − 100) × T to £200, basic B% to £800 and basic plus above, capped at £3,000 — continuous at every
    boundary, so with everything else fixed (historic income, no nil-rate condition, benefit, variation or default
    decision), a higher HMRC figure never gives a lower weekly amount, even across the nil → flat → reduced →
    basic → basic plus boundaries, with shared care (para 7, floored at £7) and children under other arrangements
    (para 5A)."""
    low, high = sorted((a, b))
    income = facts.paying_parent_income
    rules = rules_for(facts)
    lower = calculate(
        dataclasses.replace(
            facts,
            paying_parent_income=dataclasses.replace(income, hmrc_gross_annual_income_pence=low),
        ),
        rules,
        explain=False,
    )
    higher = calculate(
        dataclasses.replace(
            facts,
            paying_parent_income=dataclasses.replace(income, hmrc_gross_annual_income_pence=high),
        ),
        rules,
        explain=False,
    )
    assert lower.income.gross_weekly_income_pence <= higher.income.gross_weekly_income_pence
    assert lower.weekly_amount_pence <= higher.weekly_amount_pence, (lower.rate, higher.rate)


@pytest.mark.parametrize("nights", [(), (60,), (200, 0, 110)])
@pytest.mark.parametrize("others", [0, 2])
@pytest.mark.parametrize("qcs", [1, 2, 3])
def test_weekly_amount_is_monotone_in_income_across_every_band_boundary(qcs, others, nights):
    """The same property as above, checked exhaustively: every weekly income in pence around each rate boundary
    (£7, £100, £200, £800 before and after the relevant-other-child reduction, the £3,000 cap) and on a grid up to
    the cap, for 1–3 children over two receiving parents, 0–3 relevant other children, children under other
    arrangements and several shared-care patterns (reg 43; Sch 1 paras 2, 4, 5A, 7, 10(3))."""
    rules = BOOK.in_force(DATE)
    children = tuple(
        QualifyingChild(f"c{i}", f"rp-{i % 2}", nights[i] if i < len(nights) else 0)
        for i in range(qcs)
    )
    points: set[int] = set(range(0, 310_000, 1_999))
    for boundary in (700, 10_000, 20_000, 80_000, 89_888, 93_023, 95_238, 300_000):
        points.update(range(max(0, boundary - 30), boundary + 30))
    annuals = [
        (weekly, PayingParentIncome(weekly_equivalent_annual(weekly))) for weekly in sorted(points)
    ]
    for rocs in range(4):
        previous = -1
        for weekly, income in annuals:
            facts = CalculationFacts(
                DATE,
                children,
                income,
                relevant_other_child_count=rocs,
                other_arrangement_child_count=others,
            )
            amount = calculate(facts, rules, explain=False).weekly_amount_pence
            assert amount >= previous, (
                f"{rocs} relevant other children, weekly income {weekly}p: {amount}p < {previous}p"
            )
            previous = amount


@PROPERTY
@given(facts_strategy(), st.data())
def test_more_shared_care_never_means_more_maintenance(facts, data):
    """Sch 1 paras 7 and 8 (docs/domain/calculation.md §3): more nights with the paying parent only ever moves a
    child into a higher band (a bigger fraction off, then £7 more at 175+, floored at £7) or, on a benefit flat
    rate, to nil — so with everything else fixed, more nights for one child never raise the weekly amount."""
    i = data.draw(st.integers(0, len(facts.qualifying_children) - 1))
    child = facts.qualifying_children[i]
    more = data.draw(st.integers(child.shared_care_nights, child.shared_care_period_nights or 365))
    changed = list(facts.qualifying_children)
    changed[i] = dataclasses.replace(child, shared_care_nights=more)
    rules = rules_for(facts)
    before = calculate(facts, rules, explain=False)
    after = calculate(
        dataclasses.replace(facts, qualifying_children=tuple(changed)), rules, explain=False
    )
    assert after.weekly_amount_pence <= before.weekly_amount_pence


@PROPERTY
@given(facts_strategy())
def test_seven_pound_floor_and_nil(facts):
    """Sch 1 para 7(7) (docs/domain/calculation.md §3): shared care never takes a reduced, basic or basic-plus
    calculation below £7 a week in aggregate; the nil rate (para 5, reg 45) and no liability (reg 50, equal care)
    are £0."""
    result = calculate(facts, rules_for(facts))
    if result.rate in (Rate.REDUCED, Rate.BASIC, Rate.BASIC_PLUS):
        assert result.weekly_amount_pence >= 700
    if result.rate in (Rate.NIL, Rate.NO_LIABILITY):
        assert result.weekly_amount_pence == 0
        assert all(rp.weekly_amount_pence == 0 for rp in result.receiving_parent_amounts)
        assert (
            result.paying_parent_fee_weekly_pence == result.receiving_parent_fee_weekly_pence == 0
        )


@PROPERTY
@given(facts_strategy())
def test_deterministic_and_explain_does_not_change_the_numbers(facts):
    """docs/domain/calculation.md §0 and the engine's contract: a pure function of the facts and the rule set, so
    the same facts give an equal result, and explain=False (the bulk BASIC view) gives the same arithmetic with no
    steps."""
    rules = rules_for(facts)
    first = calculate(facts, rules)
    assert calculate(facts, rules) == first
    quiet = calculate(facts, rules, explain=False)
    assert quiet.steps == ()
    assert quiet == without_steps(first)


@PROPERTY
@given(facts_strategy(all_equal_care=True))
def test_equal_care_of_every_child_means_no_liability(facts):
    """reg 50 (docs/domain/calculation.md §3): with equal day-to-day care there is no paying parent for the child;
    when that is so for every child there is no liability at all, whatever the income, benefits or a default
    decision."""
    result = calculate(facts, rules_for(facts))
    assert result.rate is Rate.NO_LIABILITY
    assert result.weekly_amount_pence == 0
    assert all(
        rp.weekly_amount_pence == 0 and rp.qualifying_child_count == 0
        for rp in result.receiving_parent_amounts
    )
    assert all(c.weekly_amount_pence == 0 for c in result.child_amounts)


@PROPERTY
@given(facts_strategy())
def test_collection_fees_under_the_current_rule_set(facts):
    """Child Support Fees Regulations 2014 regs 7 and 8 (docs/domain/calculation.md §8): Direct Pay carries no
    fees; on Collect and Pay each receiving parent's amount carries 20% on top for the paying parent and 4% off
    for the receiving parent, each rounded half up to the penny — for a compliant and a non-compliant paying
    parent alike."""
    result = calculate(facts, rules_for(facts))
    if facts.service_type is ServiceType.DIRECT_PAY:
        assert not result.fees.charged
        assert (
            result.fees.paying_parent_fee_basis_points,
            result.fees.receiving_parent_fee_basis_points,
        ) == (0, 0)
        for rp in result.receiving_parent_amounts:
            assert rp.paying_parent_fee_weekly_pence == rp.receiving_parent_fee_weekly_pence == 0
        assert not any(s.kind == StepKind.COLLECTION_FEE for s in result.steps)
    else:
        assert result.fees.charged
        assert (
            result.fees.paying_parent_fee_basis_points,
            result.fees.receiving_parent_fee_basis_points,
        ) == (2000, 400)
        for rp in result.receiving_parent_amounts:
            assert rp.paying_parent_fee_weekly_pence == div_half_up(
                rp.weekly_amount_pence * 20, 100
            )
            assert rp.receiving_parent_fee_weekly_pence == div_half_up(
                rp.weekly_amount_pence * 4, 100
            )


@PROPERTY
@given(facts_strategy(), reform_books)
def test_collection_fees_under_the_reform(facts, book):
    """Government response, 23 June 2025 (docs/domain/calculation.md §8): once the reform is in force Direct Pay
    is gone, every case is charged; 2% on a compliant paying parent, 20% on a non-compliant one, 2% off each
    receiving parent. Before its start date the current rule set still applies."""
    rules = book.in_force(facts.effective_date)
    result = calculate(facts, rules)
    if rules.version != REFORM_VERSION:
        assert facts.effective_date < rules.effective_to
        assert result.fees.charged is (facts.service_type is ServiceType.COLLECT_AND_PAY)
        return
    pp_bp = 2000 if facts.compliance_status is ComplianceStatus.NON_COMPLIANT else 200
    assert result.fees.charged
    assert (
        result.fees.paying_parent_fee_basis_points,
        result.fees.receiving_parent_fee_basis_points,
    ) == (pp_bp, 200)
    for rp in result.receiving_parent_amounts:
        assert rp.paying_parent_fee_weekly_pence == div_half_up(
            rp.weekly_amount_pence * pp_bp, 10_000
        )
        assert rp.receiving_parent_fee_weekly_pence == div_half_up(rp.weekly_amount_pence * 2, 100)


PARAMETER_NAMES = {p.name for p in parameters(BOOK.in_force(LAST_DATE))}


@PROPERTY
@given(facts_strategy())
def test_every_step_is_cited_and_readable(facts):
    """The decision must be explainable (docs/domain/calculation.md §0): with explain=True every step cites its
    law and explains in plain words, with no template leftovers ("None", "{"), and names only rule-set parameters
    that exist; the last step states the weekly amount."""
    result = calculate(facts, rules_for(facts))
    assert result.steps
    for step in result.steps:
        assert step.citation.strip(), step
        assert step.explanation.strip(), step
        assert "None" not in step.explanation, step.explanation
        assert "{" not in step.explanation and "}" not in step.explanation, step.explanation
        assert "None" not in step.citation and "{" not in step.citation, step.citation
        assert set(step.rule_set_parameters) <= PARAMETER_NAMES, step.rule_set_parameters
        assert step.amount_pence is None or step.amount_pence >= 0, step
    last = result.steps[-1]
    assert (last.kind, last.amount_pence) == (
        StepKind.PAYMENT_FREQUENCY,
        result.weekly_amount_pence,
    )


# ---------------------------------------------------------------------------------------------------------------
# Worked examples (docs/domain/calculation.md §2–§4, §7, §8)
# ---------------------------------------------------------------------------------------------------------------


def example(weekly_pence: int, *kids: QualifyingChild, rocs: int = 0, **kw) -> CalculationResult:
    facts = CalculationFacts(
        DATE,
        kids,
        PayingParentIncome(weekly_equivalent_annual(weekly_pence)),
        relevant_other_child_count=rocs,
        **kw,
    )
    return calculate(facts, RULES)


def kids(n: int, nights: int = 0, rp: str = "rp-1") -> list[QualifyingChild]:
    return [QualifyingChild(f"{rp}-c{i}", rp, nights) for i in range(n)]


def test_reduced_rate_worked_example():
    """reg 43 (docs/domain/calculation.md §2.4, CMS leaflet p23): GWI £173, 2 children, 1 relevant other child:
    7 + 73 × 21.2% = 22.476 → £22."""
    result = example(173_00, *kids(2), rocs=1)
    assert (result.rate, result.weekly_amount_pence) == (Rate.REDUCED, 22_00)


def test_shared_care_averaged_over_children_then_seven_pounds_per_half():
    """Sch 1 para 7 (docs/domain/calculation.md §3): GWI £600, 2 children, one at 175+ nights: 96 × (1 − 1/4) = 72
    − 7 = £65."""
    result = example(600_00, QualifyingChild("a", "rp-1", 180), QualifyingChild("b", "rp-1", 0))
    assert (result.rate, result.weekly_amount_pence) == (Rate.BASIC, 65_00)


def test_shared_care_floor_of_seven_pounds():
    """Sch 1 para 7(7) (docs/domain/calculation.md §3): GWI £180, 2 children at 175+, 1 relevant other child:
    23.96 → £24 × 1/2 = 12 − 14 < 7 → £7."""
    result = example(180_00, *kids(2, 180), rocs=1)
    assert (result.rate, result.weekly_amount_pence) == (Rate.REDUCED, 7_00)
    assert any(s.kind == StepKind.FLOOR for s in result.steps)


def test_several_receiving_parents_apportioned_then_shared_care():
    """Sch 1 paras 6 and 7 (docs/domain/calculation.md §4): GWI £500, 3 children, 2 with A and 1 with B: 19% × 500
    = £95 → A £63.33, B £31.67; B's child 104–155 nights → 31.67 × 5/7 = £22.62."""
    result = example(500_00, *kids(2, 0, "A"), QualifyingChild("b", "B", 120))
    a, b = result.receiving_parent_amounts
    assert (a.apportioned_weekly_amount_pence, b.apportioned_weekly_amount_pence) == (63_33, 31_67)
    assert (a.weekly_amount_pence, b.weekly_amount_pence) == (63_33, 22_62)
    assert result.weekly_amount_pence == 85_95


@pytest.mark.parametrize(
    ("weekly", "rate"),
    [
        (6_99, Rate.NIL),
        (7_00, Rate.FLAT),
        (100_00, Rate.FLAT),
        (100_01, Rate.REDUCED),
        (199_99, Rate.REDUCED),
        (200_00, Rate.BASIC),
        (800_00, Rate.BASIC),
        (800_01, Rate.BASIC_PLUS),
    ],
)
def test_band_boundaries(weekly, rate):
    """docs/domain/calculation.md §2.1: below £7 nil; £7–£100 flat; £100.01–£199.99 reduced; £200–£800 basic;
    above basic plus."""
    assert example(weekly, *kids(1)).rate is rate


def test_collect_and_pay_fees_worked_example():
    """Fees Regs 2014 (docs/domain/calculation.md §8): flat £7 → paying parent pays £8.40, receiving parent gets
    £6.72."""
    result = example(50_00, *kids(1), service_type=ServiceType.COLLECT_AND_PAY)
    [rp] = result.receiving_parent_amounts
    assert (result.rate, rp.weekly_amount_pence) == (Rate.FLAT, 7_00)
    assert (rp.paying_parent_fee_weekly_pence, rp.receiving_parent_fee_weekly_pence) == (1_40, 28)


@pytest.mark.parametrize(("n", "amount"), [(1, 39_00), (2, 51_00), (3, 64_00), (5, 64_00)])
def test_default_maintenance_decision(n, amount):
    """reg 49 as made (docs/domain/calculation.md §7): £39 / £51 / £64 a week for 1 / 2 / 3+ children, shared care
    not applied."""
    facts = CalculationFacts(DATE, tuple(kids(n, 200)), default_maintenance_decision=True)
    result = calculate(facts, RULES)
    assert (result.rate, result.weekly_amount_pence) == (Rate.DEFAULT, amount)


def test_reform_charges_direct_pay_cases():
    """Government response 23 June 2025: under the reform Direct Pay is charged as Collect and Pay at 2% / 2%."""
    book = RuleBook(reform_start=dt.date(2027, 4, 1))
    facts = CalculationFacts(
        dt.date(2027, 4, 1), tuple(kids(2)), PayingParentIncome(weekly_equivalent_annual(600_00))
    )
    result = calculate(facts, book.in_force(facts.effective_date))
    [rp] = result.receiving_parent_amounts
    assert result.rule_set_version == REFORM_VERSION
    assert (
        rp.weekly_amount_pence,
        rp.paying_parent_fee_weekly_pence,
        rp.receiving_parent_fee_weekly_pence,
    ) == (96_00, 1_92, 1_92)
    before = calculate(
        dataclasses.replace(facts, effective_date=dt.date(2027, 3, 31)),
        book.in_force(dt.date(2027, 3, 31)),
    )
    assert not before.fees.charged


def test_flat_rate_for_a_benefit_with_shared_care_is_nil():
    """Sch 1 para 8 (docs/domain/calculation.md §3): flat rate because of a benefit and 52+ nights of shared care
    → nil."""
    result = example(
        500_00,
        *kids(1, 52),
        benefits=(BenefitReceipt(Benefit.INCOME_SUPPORT, BenefitRecipient.PARTNER),),
    )
    assert (result.rate, result.weekly_amount_pence) == (Rate.NIL, 0)
