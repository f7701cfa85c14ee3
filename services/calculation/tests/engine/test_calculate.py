"""The engine against every worked example in docs/domain/calculation.md (cited per test), the rule-set parameters
that pin its unconfirmed points (its "Open points"), and bad input. Properties live in
test_calculate_properties.py; the pence arithmetic in test_money.py."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cms_calculation.engine.calculate import (
    calculate,
    periodic_amounts,
    shared_care_band,
    shared_care_year_nights,
)
from cms_calculation.engine.model import (
    AdditionalIncome,
    AdditionalIncomeKind,
    Benefit,
    BenefitReceipt,
    BenefitRecipient,
    CalculationFacts,
    ComplianceStatus,
    CurrentIncome,
    Frequency,
    IncomeBasis,
    NilRateCondition,
    PayingParentIncome,
    QualifyingChild,
    Rate,
    ServiceType,
    SharedCareBand,
    SpecialExpense,
    SpecialExpenseKind,
)
from cms_calculation.engine.money import div_half_up
from cms_calculation.engine.rules import REFORM_VERSION, RuleBook, WholePoundRounding
from cms_platform.errors import InvalidArgument

BOOK = RuleBook()
TODAY = dt.date(2026, 5, 1)
RULES = BOOK.in_force(TODAY)


def annual_for(weekly_pence: int) -> int:
    """The HMRC annual figure that gives this weekly income (reg 35: ÷ 365 × 7)."""
    annual = div_half_up(weekly_pence * 365, 7)
    assert div_half_up(annual * 7, 365) == weekly_pence
    return annual


def facts(
    weekly_pence: int,
    qcs: int = 1,
    rocs: int = 0,
    nights: list[int] | None = None,
    rps: list[str] | None = None,
    **kw,
) -> CalculationFacts:
    nights = nights or [0] * qcs
    rps = rps or ["rp-1"] * qcs
    return CalculationFacts(
        effective_date=kw.pop("effective_date", TODAY),
        paying_parent_income=kw.pop("income", PayingParentIncome(annual_for(weekly_pence))),
        qualifying_children=tuple(QualifyingChild(f"c{i}", rps[i], nights[i]) for i in range(qcs)),
        relevant_other_child_count=rocs,
        **kw,
    )


def run(f: CalculationFacts, rules=None):
    return calculate(f, rules or BOOK.in_force(f.effective_date) or RULES)


def violations(f: CalculationFacts) -> set[str]:
    with pytest.raises(InvalidArgument) as err:
        run(f)
    return {v.field for v in err.value.violations}


# -- §1 income ---------------------------------------------------------------------------------------------------


def test_historic_income_stays_when_current_differs_by_less_than_25_percent():
    """docs/domain/calculation.md §1 worked example: £30,000 → £575.34/wk; current £450 differs by £125.34 <
    £143.84 → historic."""
    result = run(
        facts(0, 1, income=PayingParentIncome(3_000_000, current_income=CurrentIncome(450_00)))
    )
    assert result.income.historic_weekly_income_pence == 575_34
    assert result.income.basis is IncomeBasis.HISTORIC
    assert result.income.income_difference_weekly_pence == 125_34
    assert result.income.gross_weekly_income_pence == 575_34


def test_current_income_used_when_it_differs_by_at_least_25_percent():
    """docs/domain/calculation.md §1 worked example: current £420/wk differs by £155.34 ≥ £143.84 → current income
    (£420)."""
    result = run(
        facts(0, 1, income=PayingParentIncome(3_000_000, current_income=CurrentIncome(420_00)))
    )
    assert result.income.basis is IncomeBasis.CURRENT_DIFFERS_FROM_HISTORIC
    assert result.income.current_income_test_met
    assert result.income.gross_weekly_income_pence == 420_00


def test_current_income_in_place_is_used_without_the_historic_test_again():
    """reg 23(4) of SI 2012/2677: current income put in place by a change of 25% or more, then changed again by 25%
    or more, is used even though the new figure (£560) is within 25% of historic income (£575.34): without the
    in-place mark the same figures fall back to historic income."""
    income = PayingParentIncome(3_000_000, current_income=CurrentIncome(560_00, in_place=True))
    result = run(facts(0, 1, income=income))
    assert result.income.basis is IncomeBasis.CURRENT_IN_PLACE
    assert result.income.gross_weekly_income_pence == 560_00
    assert any("reg 23(4)" in s.citation for s in result.steps)
    fresh = run(
        facts(0, 1, income=PayingParentIncome(3_000_000, current_income=CurrentIncome(560_00)))
    )
    assert fresh.income.basis is IncomeBasis.HISTORIC


def test_exactly_25_percent_difference_is_enough():
    """reg 34(1)(a): 'at least 25%' — £400 historic, £300 current is exactly 25%."""
    result = run(
        facts(
            0,
            1,
            income=PayingParentIncome(annual_for(400_00), current_income=CurrentIncome(300_00)),
        )
    )
    assert result.income.basis is IncomeBasis.CURRENT_DIFFERS_FROM_HISTORIC


def test_current_income_when_hmrc_has_none_and_pension_contributions_are_deducted():
    """reg 34(1)(b),(c) and reg 40."""
    income = PayingParentIncome(
        hmrc_income_unavailable=True,
        current_income=CurrentIncome(500_00, pension_contributions_weekly_pence=20_00),
    )
    result = run(facts(0, 1, income=income))
    assert result.income.basis is IncomeBasis.CURRENT_HISTORIC_UNAVAILABLE
    assert result.income.gross_weekly_income_pence == 480_00


def test_relief_at_source_pension_contributions_reduce_the_hmrc_figure():
    """reg 35(3): £31,200 less £1,200 = £30,000 a year → £575.34 a week."""
    result = run(
        facts(
            0, 1, income=PayingParentIncome(3_120_000, pension_contributions_annual_pence=120_000)
        )
    )
    assert result.income.historic_weekly_income_pence == 575_34


def test_nil_historic_with_current_income_uses_current_income_with_the_2013_rule():
    """reg 34(2A) (SI 2013/1517, from 25 Nov 2013): nil historic and positive current counts as a 25% difference."""
    income = PayingParentIncome(0, current_income=CurrentIncome(300_00))
    result = run(facts(0, 1, income=income))
    assert result.income.basis is IncomeBasis.CURRENT_DIFFERS_FROM_HISTORIC
    assert any("34(2A)" in s.citation for s in result.steps)
    before = run(facts(0, 1, income=income, effective_date=dt.date(2013, 6, 1)))
    assert before.rule_set_version == "2012-12-10"
    assert not any("34(2A)" in s.citation for s in before.steps)


def test_weekly_income_cap():
    """docs/domain/calculation.md §2.5 worked example: GWI £4,000 capped at £3,000, 1 QC: 96 + 2,200 × 9% = £294."""
    result = run(facts(4000_00, 1))
    assert (result.rate, result.weekly_amount_pence, result.income.capped) == (
        Rate.BASIC_PLUS,
        294_00,
        True,
    )
    assert result.income.gross_weekly_income_pence == 3000_00


# -- §2 rates ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weekly", "qcs", "rocs", "rate", "amount"),
    [
        (600_00, 2, 0, Rate.BASIC, 96_00),  # docs/domain/calculation.md §2.5: 600 × 16%
        (500_00, 2, 1, Rate.BASIC, 71_00),  # §2.5: 500 × 0.89 = 445 × 16% = 71.20 → £71
        (1000_00, 2, 0, Rate.BASIC_PLUS, 152_00),  # §2.5 "example from p20": 800 × 16% + 200 × 12%
        (1600_00, 1, 0, Rate.BASIC_PLUS, 168_00),  # §2.5: 96 + 800 × 9%
        (173_00, 2, 1, Rate.REDUCED, 22_00),  # §2.4 "example on p23": 7 + 73 × 21.2% = 22.476 → £22
    ],
)
def test_documented_rate_examples(weekly, qcs, rocs, rate, amount):
    result = run(facts(weekly, qcs, rocs))
    assert (result.rate, result.weekly_amount_pence) == (rate, amount)
    assert all(step.citation and step.explanation for step in result.steps)


@pytest.mark.parametrize(
    ("weekly", "rate", "amount"),
    [
        (6_99, Rate.NIL, 0),  # §2.1: below £7 is nil
        (7_00, Rate.FLAT, 7_00),  # §2.1: £7 to £100 flat
        (100_00, Rate.FLAT, 7_00),  # £100 exactly is still flat (GWI ≤ £100)
        (100_01, Rate.REDUCED, 7_00),  # reduced from £100.01: 7 + 0.01 × 17% → £7
        (199_99, Rate.REDUCED, 24_00),  # 7 + 99.99 × 17% = 23.998 → £24
        (200_00, Rate.BASIC, 24_00),  # basic from £200: 12%
    ],
)
def test_band_boundaries_are_exact(weekly, rate, amount):
    result = run(facts(weekly, 1))
    assert (result.rate, result.weekly_amount_pence) == (rate, amount)


def test_band_chosen_on_unreduced_income_and_800_split_on_reduced_income():
    """docs/domain/calculation.md §2.5 deviation example: GWI £850, 2 QC, 1 ROC, 156–174 nights. The law: 850 ×
    0.89 = 756.50 ≤ £800, so basic only: 16% = 121.04 → £121 (rounding default) × 4/7 = £69.14 (not smart-answers'
    £70)."""
    result = run(facts(850_00, 2, 1, nights=[160, 160]))
    assert result.rate is Rate.BASIC
    assert result.income.roc_reduced_weekly_income_pence == 756_50
    assert result.weekly_amount_pence == 69_14
    # GWI £210 with 3 ROCs reduces to £176.40 yet stays on the basic rate: the band is chosen on GWI.
    assert run(facts(210_00, 1, 3)).rate is Rate.BASIC


@pytest.mark.parametrize(("rocs", "pct"), [(1, 11), (2, 14), (3, 16), (5, 16)])
def test_relevant_other_child_reductions_top_out_at_three(rocs, pct):
    result = run(facts(500_00, 1, rocs))
    assert result.income.roc_reduced_weekly_income_pence == 500_00 * (100 - pct) // 100


def test_qualifying_children_top_out_at_three_or_more():
    assert (
        run(facts(500_00, 3)).weekly_amount_pence
        == run(facts(500_00, 5)).weekly_amount_pence
        == 95_00
    )


@pytest.mark.parametrize(
    "benefit", [Benefit.INCOME_SUPPORT, Benefit.UNIVERSAL_CREDIT_NO_EARNED_INCOME]
)
def test_reg_44_2_benefit_of_paying_parent_or_partner_is_the_flat_rate(benefit):
    """docs/domain/calculation.md §2.3 (reg 44(2)): the partner's receipt counts too; high income does not matter."""
    for who in BenefitRecipient:
        result = run(facts(900_00, 2, benefits=(BenefitReceipt(benefit, who),)))
        assert (result.rate, result.weekly_amount_pence) == (Rate.FLAT, 7_00)


def test_reg_44_1_benefit_counts_only_for_the_paying_parent():
    """docs/domain/calculation.md §2.3 (reg 44(1)): e.g. Carer's Allowance of the partner does not make the flat
    rate."""
    own = run(
        facts(
            300_00,
            1,
            benefits=(BenefitReceipt(Benefit.CARERS_ALLOWANCE, BenefitRecipient.PAYING_PARENT),),
        )
    )
    partner = run(
        facts(
            300_00,
            1,
            benefits=(BenefitReceipt(Benefit.CARERS_ALLOWANCE, BenefitRecipient.PARTNER),),
        )
    )
    assert own.rate is Rate.FLAT
    assert partner.rate is Rate.BASIC


def test_flat_rate_benefit_and_low_income_is_not_nil():
    """reg 45(2): for the under-£7 nil test a flat-rate benefit counts as income."""
    result = run(
        facts(
            0, 1, benefits=(BenefitReceipt(Benefit.INCOME_SUPPORT, BenefitRecipient.PAYING_PARENT),)
        )
    )
    assert (result.rate, result.weekly_amount_pence) == (Rate.FLAT, 7_00)


@pytest.mark.parametrize("condition", list(NilRateCondition))
def test_nil_rate_conditions(condition):
    """docs/domain/calculation.md §2.2 (reg 45; Sch 1 para 5)."""
    result = run(facts(900_00, 2, nil_rate_conditions=(condition,)))
    assert (result.rate, result.weekly_amount_pence) == (Rate.NIL, 0)


def test_couple_both_paying_parents_on_benefit_pay_half_each_by_default():
    """docs/domain/calculation.md §2.3 (open point 3) Sch 1 para 4(2): rule-set parameter
    flat_rate.couple_both_paying_parents_half (true)."""
    f = facts(
        0,
        1,
        benefits=(BenefitReceipt(Benefit.INCOME_SUPPORT, BenefitRecipient.PARTNER),),
        partner_is_paying_parent=True,
    )
    assert run(f).weekly_amount_pence == 3_50
    assert (
        run(f, replace(RULES, couple_both_paying_parents_half_flat_rate=False)).weekly_amount_pence
        == 7_00
    )


def test_children_under_other_arrangements_count_for_the_percentage_only():
    """docs/domain/calculation.md §2.7 (open point 5) Sch 1 para 5A: 1 QC + 1 other child: 16% of £600 = £96, QC's
    share 1/2 = £48."""
    result = run(facts(600_00, 1, other_arrangement_child_count=1))
    assert result.weekly_amount_pence == 48_00


# -- §3 shared care -----------------------------------------------------------------------------------------------


def test_shared_care_example_from_p30_under_each_rounding_point():
    """docs/domain/calculation.md §3 "example from p30": GWI £517.81, 3 QC, 1 ROC, 104–155 nights: 517.81 × 0.89 ×
    19% = 87.56. Rounding (§5, open point 1): default rounds the rate to £88 before shared care → 88 × 5/7 =
    £62.86; rounding after shared care reproduces the leaflet's £63 (62.54 → £63); no whole-pound rounding gives
    £62.54."""
    f = facts(517_81, 3, 1, nights=[120, 120, 120])
    assert RULES.whole_pound_rounding is WholePoundRounding.BEFORE_SHARED_CARE
    assert run(f).weekly_amount_pence == 62_86
    assert (
        run(
            f, replace(RULES, whole_pound_rounding=WholePoundRounding.AFTER_SHARED_CARE)
        ).weekly_amount_pence
        == 63_00
    )
    assert (
        run(f, replace(RULES, whole_pound_rounding=WholePoundRounding.NONE)).weekly_amount_pence
        == 62_54
    )


def test_shared_care_averaged_over_children_with_the_extra_seven_pounds():
    """docs/domain/calculation.md §3 (dad.info): GWI £600, 2 QC, A 175+ nights, B none: fraction (1/2 + 0)/2 = 1/4
    → 96 × 3/4 = 72 − 7 = £65."""
    result = run(facts(600_00, 2, nights=[200, 0]))
    assert result.weekly_amount_pence == 65_00
    [rp] = result.receiving_parent_amounts
    assert (rp.shared_care_fraction.numerator, rp.shared_care_fraction.denominator) == (1, 4)
    assert rp.shared_care_extra_deduction_pence == 7_00
    # the child cared for more overnight is attributed less
    assert result.child_amounts[0].weekly_amount_pence < result.child_amounts[1].weekly_amount_pence


def test_basic_plus_with_all_children_at_175_nights():
    """docs/domain/calculation.md §3 smart-answers test: GWI £925, 3 QC all 175+: 152 + 125 × 15% = 170.75;
    unrounded ½ − £21 = £64.375. Default rounding (£171 before shared care): 85.50 − 21 = £64.50; no whole-pound
    rounding: £64.38."""
    f = facts(925_00, 3, nights=[200, 200, 200])
    assert run(f).weekly_amount_pence == 64_50
    assert (
        run(f, replace(RULES, whole_pound_rounding=WholePoundRounding.NONE)).weekly_amount_pence
        == 64_38
    )


def test_seven_pound_floor_after_shared_care():
    """docs/domain/calculation.md §3 smart-answers test: GWI £180, 2 QC, 1 ROC, 175+: 7 + 80 × 21.2% = 23.96 → £24
    × ½ = 12 − 14 < 7 → £7."""
    result = run(facts(180_00, 2, 1, nights=[200, 200]))
    assert (result.rate, result.weekly_amount_pence) == (Rate.REDUCED, 7_00)


def test_benefit_flat_rate_with_52_nights_is_nil_but_low_income_flat_rate_ignores_shared_care():
    """docs/domain/calculation.md §3 (Sch 1 para 8)."""
    on_benefit = facts(
        0,
        1,
        nights=[52],
        benefits=(BenefitReceipt(Benefit.INCOME_SUPPORT, BenefitRecipient.PAYING_PARENT),),
    )
    assert (run(on_benefit).rate, run(on_benefit).weekly_amount_pence) == (Rate.NIL, 0)
    low_income = run(facts(90_00, 1, nights=[200]))
    assert (low_income.rate, low_income.weekly_amount_pence) == (Rate.FLAT, 7_00)


def test_benefit_flat_rate_nil_applies_per_receiving_parent():
    """docs/domain/calculation.md §3: nil for that receiving parent (and the children living with them) only."""
    f = facts(
        0,
        2,
        nights=[60, 0],
        rps=["A", "B"],
        benefits=(BenefitReceipt(Benefit.INCOME_SUPPORT, BenefitRecipient.PAYING_PARENT),),
    )
    result = run(f)
    assert [
        (a.receiving_parent_reference, a.weekly_amount_pence)
        for a in result.receiving_parent_amounts
    ] == [("A", 0), ("B", 3_50)]
    assert result.rate is Rate.FLAT


def test_equal_day_to_day_care_means_no_liability_for_that_child():
    """docs/domain/calculation.md §3 (reg 50): equal care → not the paying parent; 175+ nights alone is not equal
    care."""
    f = facts(600_00, 1)
    equal = replace(
        f,
        qualifying_children=(
            replace(f.qualifying_children[0], equal_day_to_day_care=True, shared_care_nights=182),
        ),
    )
    assert (run(equal).rate, run(equal).weekly_amount_pence) == (Rate.NO_LIABILITY, 0)
    two = facts(600_00, 2)
    one_equal = replace(
        two,
        qualifying_children=(
            replace(two.qualifying_children[0], equal_day_to_day_care=True),
            two.qualifying_children[1],
        ),
    )
    assert run(one_equal).weekly_amount_pence == run(facts(600_00, 1)).weekly_amount_pence == 72_00


@pytest.mark.parametrize(
    ("nights", "band"),
    [
        (0, SharedCareBand.NONE),
        (51, SharedCareBand.NONE),
        (52, SharedCareBand.ONE_SEVENTH),
        (103, SharedCareBand.ONE_SEVENTH),
        (104, SharedCareBand.TWO_SEVENTHS),
        (155, SharedCareBand.TWO_SEVENTHS),
        (156, SharedCareBand.THREE_SEVENTHS),
        (174, SharedCareBand.THREE_SEVENTHS),
        (175, SharedCareBand.ONE_HALF),
        (365, SharedCareBand.ONE_HALF),
    ],
)
def test_shared_care_bands(nights, band):
    assert shared_care_band(QualifyingChild("c", "r", nights), RULES) is band


def test_shorter_period_is_scaled_to_a_year():
    """26 nights in a half year is 52 a year: 1/7."""
    assert (
        shared_care_band(QualifyingChild("c", "r", 26, shared_care_period_nights=182), RULES)
        is SharedCareBand.ONE_SEVENTH
    )
    assert (
        shared_care_band(QualifyingChild("c", "r", 25, shared_care_period_nights=182), RULES)
        is SharedCareBand.NONE
    )


def test_shared_care_year_has_366_nights_across_a_leap_day():
    assert shared_care_year_nights(dt.date(2024, 3, 1)) == 366
    assert shared_care_year_nights(dt.date(2026, 5, 1)) == 365


# -- §4 several receiving parents ------------------------------------------------------------------------------


def test_several_receiving_parents_example():
    """docs/domain/calculation.md §4: GWI £500, 3 QC (2 with A, 1 with B): £95 → A £63.33, B £31.67; B's child
    104–155 nights: 31.67 × 5/7 = £22.62."""
    result = run(facts(500_00, 3, nights=[0, 0, 120], rps=["A", "A", "B"]))
    a, b = result.receiving_parent_amounts
    assert (a.apportioned_weekly_amount_pence, b.apportioned_weekly_amount_pence) == (63_33, 31_67)
    assert (a.weekly_amount_pence, b.weekly_amount_pence) == (63_33, 22_62)
    assert result.weekly_amount_pence == 85_95


# -- §6 variations -------------------------------------------------------------------------------------------------


def test_special_expenses_with_the_cap():
    """docs/domain/calculation.md §6 (reg 72): actual £3,500, expenses £600 → £2,900; expenses £100 → £3,400 >
    £3,000, no change."""
    big = run(
        facts(
            3500_00, 1, special_expenses=(SpecialExpense(SpecialExpenseKind.CONTACT_COSTS, 600_00),)
        )
    )
    assert big.income.gross_weekly_income_pence == 2900_00
    small = run(
        facts(
            3500_00, 1, special_expenses=(SpecialExpense(SpecialExpenseKind.CONTACT_COSTS, 100_00),)
        )
    )
    assert (small.income.gross_weekly_income_pence, small.income.capped) == (3000_00, True)


def test_special_expense_threshold_is_per_ground_and_named():
    """docs/domain/calculation.md §6 (open point 8) reg 68: £10 a week per ground (none for a relevant other
    child's illness)."""
    below = run(
        facts(500_00, 1, special_expenses=(SpecialExpense(SpecialExpenseKind.PRIOR_DEBTS, 9_99),))
    )
    assert below.income.special_expenses_weekly_pence == 0
    exempt = run(
        facts(
            500_00,
            1,
            special_expenses=(
                SpecialExpense(SpecialExpenseKind.RELEVANT_OTHER_CHILD_ILLNESS_OR_DISABILITY, 5_00),
            ),
        )
    )
    assert exempt.income.special_expenses_weekly_pence == 5_00
    excess = replace(RULES, special_expense_deduct_excess_only=True)
    assert (
        run(
            facts(
                500_00, 1, special_expenses=(SpecialExpense(SpecialExpenseKind.PRIOR_DEBTS, 30_00),)
            ),
            excess,
        ).income.special_expenses_weekly_pence
        == 20_00
    )


def test_unearned_income_added_from_2500_a_year():
    """docs/domain/calculation.md §6 (reg 69): £2,500 a year or more is added (÷ 365 × 7, open point 10); less is
    not."""
    added = run(
        facts(
            500_00,
            1,
            additional_incomes=(
                AdditionalIncome(AdditionalIncomeKind.UNEARNED_INCOME, annual_amount_pence=365_000),
            ),
        )
    )
    assert added.income.additional_income_weekly_pence == 70_00
    assert added.income.gross_weekly_income_pence == 570_00
    below = run(
        facts(
            500_00,
            1,
            additional_incomes=(
                AdditionalIncome(AdditionalIncomeKind.UNEARNED_INCOME, annual_amount_pence=249_999),
            ),
        )
    )
    assert below.income.additional_income_weekly_pence == 0


def test_income_not_taken_into_account_lifts_a_benefit_flat_rate():
    """docs/domain/calculation.md §6 (reg 70): on the flat rate for their own benefit with ≥ £100 a week other
    income."""
    f = facts(
        0,
        1,
        benefits=(BenefitReceipt(Benefit.STATE_PENSION, BenefitRecipient.PAYING_PARENT),),
        additional_incomes=(
            AdditionalIncome(
                AdditionalIncomeKind.INCOME_NOT_TAKEN_INTO_ACCOUNT, weekly_amount_pence=300_00
            ),
        ),
    )
    result = run(f)
    assert (result.rate, result.weekly_amount_pence) == (Rate.BASIC, 36_00)
    not_eligible = run(
        facts(
            50_00,
            1,
            additional_incomes=(
                AdditionalIncome(
                    AdditionalIncomeKind.INCOME_NOT_TAKEN_INTO_ACCOUNT, weekly_amount_pence=300_00
                ),
            ),
        )
    )
    assert not_eligible.rate is Rate.FLAT


# -- §7 default maintenance decision -----------------------------------------------------------------------------


@pytest.mark.parametrize(("qcs", "amount"), [(1, 39_00), (2, 51_00), (3, 64_00), (4, 64_00)])
def test_default_maintenance_decision_uses_reg_49_amounts(qcs, amount):
    """docs/domain/calculation.md §7 (open point 12): £39/£51/£64 (reg 49 as made) — GOV.UK's £38 is not applied;
    no shared care by default."""
    f = CalculationFacts(
        effective_date=TODAY,
        default_maintenance_decision=True,
        qualifying_children=tuple(QualifyingChild(f"c{i}", "r", 200) for i in range(qcs)),
    )
    result = run(f)
    assert (result.rate, result.weekly_amount_pence) == (Rate.DEFAULT, amount)
    assert result.income.basis is IncomeBasis.NOT_USED


# -- §8 fees and frequencies -----------------------------------------------------------------------------------


def test_collect_and_pay_fees_today():
    """docs/domain/calculation.md §8 smart-answers test: liability £57 → paying parent £68.40, receiving parent
    £54.72; flat £8.40."""
    weekly = 356_25  # 16% of £356.25 = 57.00
    result = run(facts(weekly, 2, service_type=ServiceType.COLLECT_AND_PAY))
    assert result.weekly_amount_pence == 57_00
    assert result.weekly_amount_pence + result.paying_parent_fee_weekly_pence == 68_40
    assert result.weekly_amount_pence - result.receiving_parent_fee_weekly_pence == 54_72
    flat = run(facts(50_00, 1, service_type=ServiceType.COLLECT_AND_PAY))
    assert flat.weekly_amount_pence + flat.paying_parent_fee_weekly_pence == 8_40
    assert run(facts(weekly, 2)).paying_parent_fee_weekly_pence == 0  # Direct Pay


def test_no_collection_fees_before_11_august_2014():
    result = run(
        facts(
            356_25, 2, service_type=ServiceType.COLLECT_AND_PAY, effective_date=dt.date(2014, 8, 10)
        )
    )
    assert (result.fees.charged, result.paying_parent_fee_weekly_pence) == (True, 0)
    assert result.rule_set_version == "2013-11-25"


def test_reform_fees_from_the_configured_start_date():
    """docs/domain/calculation.md §8: Direct Pay removed; 2% / 2%, and 20% for a non-compliant paying parent."""
    book = RuleBook(reform_start=dt.date(2027, 4, 1))
    reform = book.in_force(dt.date(2027, 4, 1))
    assert reform.version == REFORM_VERSION
    assert book.in_force(dt.date(2027, 3, 31)).version == "2017-04-06"
    direct = run(facts(356_25, 2, effective_date=dt.date(2027, 4, 1)), reform)
    assert direct.fees.charged and direct.paying_parent_fee_weekly_pence == 1_14
    assert direct.receiving_parent_fee_weekly_pence == 1_14
    late = run(facts(356_25, 2, compliance_status=ComplianceStatus.NON_COMPLIANT), reform)
    assert late.paying_parent_fee_weekly_pence == 11_40
    assert (
        RuleBook().in_force(dt.date(2030, 1, 1)).version == "2017-04-06"
    )  # unset: never in force by date


def test_scheme_starts_on_10_december_2012():
    assert BOOK.in_force(dt.date(2012, 12, 9)) is None
    assert BOOK.in_force(dt.date(2012, 12, 10)).version == "2012-12-10"


# -- bad input ---------------------------------------------------------------------------------------------------


def test_bad_input_names_every_field():
    f = CalculationFacts(
        effective_date=dt.date(2012, 12, 9),
        paying_parent_income=PayingParentIncome(
            -1, hmrc_income_unavailable=True, pension_contributions_annual_pence=-1
        ),
        qualifying_children=(
            QualifyingChild("c", "r", 400),
            QualifyingChild("c", "", 0),
            QualifyingChild("d", "r", 10, shared_care_period_nights=400),
        ),
        relevant_other_child_count=-1,
        other_arrangement_child_count=-2,
        special_expenses=(SpecialExpense(SpecialExpenseKind.CONTACT_COSTS, -5),),
        additional_incomes=(AdditionalIncome(AdditionalIncomeKind.DIVERTED_INCOME),),
    )
    assert violations(f) == {
        "input.effective_date",
        "input.paying_parent_income.hmrc_gross_annual_income_pence",
        "input.paying_parent_income.pension_contributions_annual_pence",
        "input.paying_parent_income.current_income",
        "input.qualifying_children[0].shared_care_nights",
        "input.qualifying_children[1].child_reference",
        "input.qualifying_children[1].receiving_parent_reference",
        "input.qualifying_children[2].shared_care_period_nights",
        "input.relevant_other_child_count",
        "input.other_arrangement_child_count",
        "input.special_expenses[0].weekly_amount_pence",
        "input.additional_incomes[0].weekly_amount_pence",
    }


def test_no_qualifying_child_and_no_income():
    assert violations(CalculationFacts(effective_date=TODAY, qualifying_children=())) == {
        "input.qualifying_children",
        "input.paying_parent_income",
    }


def test_more_nights_than_the_year_has():
    assert violations(facts(500_00, 1, nights=[366])) == {
        "input.qualifying_children[0].shared_care_nights"
    }
    assert (
        run(facts(500_00, 1, nights=[366], effective_date=dt.date(2024, 3, 1))).rate is Rate.BASIC
    )


# -- payment schedule ------------------------------------------------------------------------------------------


@given(st.integers(0, 10**8))
def test_periodic_amounts_are_whole_pence_and_consistent(weekly):
    p = periodic_amounts(weekly, RULES)
    assert p[Frequency.FORTNIGHTLY] == 2 * weekly and p[Frequency.FOUR_WEEKLY] == 4 * weekly
    assert abs(p[Frequency.MONTHLY] * 12 - weekly * 52) <= 6


# -- issue 15: differences from an independent reading of the statute --------------------------------------------


def test_basic_amount_is_rounded_to_the_pound_from_the_exact_amount_not_from_pennies():
    """2012 Regs reg 6 (rounding) with Child Support Act 1991 Sch 1 para 2: the penny rule gives way to the whole-pound rule for the
    basic/reduced amount, so 12% of £437.46 = £52.4952 is £52, not £52.50 → £53."""
    result = run(facts(437_46, 1))
    assert (result.rate, result.weekly_amount_pence) == (Rate.BASIC, 52_00)
    rounding = [s for s in result.steps if s.rule_set_parameters == ("rounding.whole_pound_point",)]
    assert len(rounding) == 1
    assert "£52.4952" in rounding[0].explanation and "£52.00" in rounding[0].explanation
    assert rounding[0].amount_pence == 52_00


@given(st.integers(min_value=200_00, max_value=800_00))
def test_basic_amount_is_the_exact_amount_rounded_half_up_to_the_pound(weekly):
    """2012 Regs reg 6; Child Support Act 1991 Sch 1 para 2(1): one rounding, from the exact 12%, to the nearest pound half-up."""
    result = run(facts(weekly, 1))
    assert result.weekly_amount_pence == div_half_up(weekly * 12, 100 * 100) * 100


def test_special_expenses_are_not_deducted_below_the_flat_rate_threshold_or_on_a_flat_rate_benefit():
    """2012 Regs regs 63–68 as the project reads them (docs/domain/calculation.md §6): no special-expenses variation
    where GWI is below £7 (reg 45(1)) or the paying parent is on a reg 44 flat-rate benefit, even when an
    additional-income variation lifts the income."""
    contact = (SpecialExpense(SpecialExpenseKind.CONTACT_COSTS, 50_00),)
    low = run(
        facts(
            5_00,
            1,
            special_expenses=contact,
            additional_incomes=(
                AdditionalIncome(AdditionalIncomeKind.DIVERTED_INCOME, weekly_amount_pence=300_00),
            ),
        )
    )
    assert low.income.special_expenses_weekly_pence == 0
    assert low.income.gross_weekly_income_pence == 305_00
    assert low.weekly_amount_pence == 37_00  # 12% of £305 = £36.60
    on_benefit = run(
        facts(
            0,
            1,
            special_expenses=contact,
            benefits=(BenefitReceipt(Benefit.STATE_PENSION, BenefitRecipient.PAYING_PARENT),),
            additional_incomes=(
                AdditionalIncome(
                    AdditionalIncomeKind.INCOME_NOT_TAKEN_INTO_ACCOUNT, weekly_amount_pence=300_00
                ),
            ),
        )
    )
    assert on_benefit.income.special_expenses_weekly_pence == 0
    assert (on_benefit.rate, on_benefit.weekly_amount_pence) == (Rate.BASIC, 36_00)
    # At £7 or more and on no benefit they still come off.
    assert (
        run(
            facts(
                7_00,
                1,
                special_expenses=contact,
                additional_incomes=(
                    AdditionalIncome(
                        AdditionalIncomeKind.DIVERTED_INCOME, weekly_amount_pence=300_00
                    ),
                ),
            )
        ).income.special_expenses_weekly_pence
        == 50_00
    )


def test_bereavement_allowance_is_a_flat_rate_benefit_for_decisions_before_its_omission():
    """2012 Regs reg 44(1) as made listed bereavement allowance; it was omitted from 6 April 2017, so an older
    decision re-runs at the flat rate and a newer one does not."""
    receipt = (BenefitReceipt(Benefit.BEREAVEMENT_ALLOWANCE, BenefitRecipient.PAYING_PARENT),)
    before = run(facts(5_00, 1, benefits=receipt, effective_date=dt.date(2016, 5, 1)))
    assert (before.rate, before.weekly_amount_pence) == (Rate.FLAT, 7_00)
    after = run(facts(5_00, 1, benefits=receipt, effective_date=dt.date(2017, 4, 6)))
    assert (after.rate, after.weekly_amount_pence) == (Rate.NIL, 0)
