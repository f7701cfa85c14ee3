"""The common case without the general pipeline: a paying parent on HMRC historic income alone, one receiving parent,
no benefit, nil-rate condition, variation, other arrangement or default decision — most of an annual review.

The same arithmetic as calculate.py (docs/domain/calculation.md §1–§5, §8) in plain integers at the same rounding
points, giving the same CalculationResult, explained (explain=True) with the general path's own steps (steps.py builds every text for
both). Anything outside that shape, or any fact validate() would refuse, answers None and the general path decides
(and explains any refusal), so the general path stays the one definition; tests/engine/test_fast_path.py checks the
two agree, steps included, on every generated case.
"""

from __future__ import annotations

from fractions import Fraction

from .model import (
    CalculationFacts,
    CalculationResult,
    ChildAmount,
    ComplianceStatus,
    Fees,
    IncomeBasis,
    IncomeDetermination,
    Rate,
    ReceivingParentAmount,
    ServiceType,
    SharedCareBand,
    Step,
)
from .money import MAX_AMOUNT_PENCE, split_balanced
from .rules import RuleSet, WholePoundRounding
from .steps import (
    FLAT_NOT_REDUCED_BY_SHARED_CARE,
    basic_plus_rate_step,
    basic_rate_step,
    child_count_step,
    collection_fee_step,
    direct_pay_unavailable_step,
    flat_low_income_step,
    floor_step,
    historic_income_step,
    income_cap_step,
    nil_income_step,
    payment_frequency_step,
    pound_after_shared_care_step,
    pound_before_shared_care_step,
    reduced_rate_step,
    roc_step,
    shared_care_step,
)

_NONE = SharedCareBand.NONE
_HALF = SharedCareBand.ONE_HALF
# Fourteenths a receiving parent keeps per child in each band, as in calculate.py (Sch 1 para 7).
_KEPT_14THS = {
    SharedCareBand.NONE: 14,
    SharedCareBand.ONE_SEVENTH: 12,
    SharedCareBand.TWO_SEVENTHS: 10,
    SharedCareBand.THREE_SEVENTHS: 8,
    SharedCareBand.ONE_HALF: 7,
}
_NO_FRACTION = Fraction(0)
# The few shared-care fractions a receiving parent can have, made once: Fraction() costs more than the sum itself.
_FRACTIONS: dict[tuple[int, int], Fraction] = {}


def _fraction(taken: int, whole: int) -> Fraction:
    key = (taken, whole)
    f = _FRACTIONS.get(key)
    if f is None:
        f = _FRACTIONS[key] = Fraction(taken, whole)
    return f


def calculate_common(
    facts: CalculationFacts, rules: RuleSet, *, explain: bool = False
) -> CalculationResult | None:
    """The result for a common case (with its steps when `explain`), or None when the facts need the general
    path. The steps are the general path's, in its order (calculate.py): income, cap, rate, rounding, shared care,
    floor, fees, frequency."""
    if (
        facts.benefits
        or facts.nil_rate_conditions
        or facts.special_expenses
        or facts.additional_incomes
        or facts.default_maintenance_decision
        or facts.other_arrangement_child_count
    ):
        return None
    inc = facts.paying_parent_income
    if inc is None or inc.current_income is not None or inc.hmrc_income_unavailable:
        return None
    annual = inc.hmrc_gross_annual_income_pence
    pension = inc.pension_contributions_annual_pence
    roc = facts.relevant_other_child_count
    children = facts.qualifying_children
    if (
        not children
        or roc < 0
        or not 0 <= annual <= MAX_AMOUNT_PENCE
        or not 0 <= pension <= MAX_AMOUNT_PENCE
        or facts.effective_date < rules.scheme_start
    ):
        return None
    rp = children[0].receiving_parent_reference
    if not rp.strip():
        return None
    t1, t2, t3, t4 = rules.shared_care_band_nights
    bands = []
    shared = False
    for c in children:
        nights = c.shared_care_nights
        # Nights over a whole year only; a year has at least 365, so 365 is always in range (validate()).
        if (
            c.receiving_parent_reference != rp
            or c.equal_day_to_day_care
            or c.shared_care_period_nights
            or not 0 <= nights <= 365
            or not c.child_reference.strip()
        ):
            return None
        # The last band whose threshold is met, as shared_care_band() takes it.
        if nights >= t4:
            band = SharedCareBand.ONE_HALF
        elif nights >= t3:
            band = SharedCareBand.THREE_SEVENTHS
        elif nights >= t2:
            band = SharedCareBand.TWO_SEVENTHS
        elif nights >= t1:
            band = SharedCareBand.ONE_SEVENTH
        else:
            band = _NONE
        shared = shared or band is not _NONE
        bands.append(band)
    n = len(children)
    if n > 1 and len({c.child_reference for c in children}) != n:
        return None  # a duplicated reference: validate() names it

    # §1: historic income (reg 35, ÷ 365 × 7 after pension contributions), capped (Sch 1 para 10(3)).
    days = rules.historic_days_per_year
    historic = (14 * max(0, annual - pension) + days) // (2 * days)
    cap = rules.weekly_income_cap_pence
    gwi = historic if historic <= cap else cap
    steps: list[Step] = []
    if explain:
        steps.append(historic_income_step(inc, historic, rules))
        if gwi < historic:
            steps.append(income_cap_step(gwi, rules))

    # §2: the rate. Nil and flat have no reduction for relevant other children and no shared care (flat on low
    # income is not reduced by shared care; Sch 1 paras 4 and 7).
    extra = 0
    fraction = _NO_FRACTION
    reduced_income = gwi
    proportional = False
    if gwi < rules.nil_income_below_pence:
        rate, amount = Rate.NIL, 0
        share = 0
        if explain:
            steps.append(nil_income_step(gwi, rules))
    elif gwi <= rules.flat_income_max_pence:
        amount = share = rules.flat_rate_pence
        rate = Rate.FLAT if amount else Rate.NIL
        if explain:
            steps.append(flat_low_income_step(amount, gwi, rules))
            if shared:
                steps.append(FLAT_NOT_REDUCED_BY_SHARED_CARE)
    else:
        band_index = (n if n < 3 else 3) - 1
        if explain:
            steps.append(child_count_step(n, 0, roc))
        if gwi < rules.basic_income_from_pence:
            rate = Rate.REDUCED
            t_bp = rules.reduced_rate_bp[band_index][roc if roc < 3 else 3]
            num, den = (
                rules.flat_rate_pence * 10_000 + (gwi - rules.flat_income_max_pence) * t_bp,
                10_000,
            )
            if explain:
                steps.append(reduced_rate_step(gwi, t_bp, num, den, rules))
        else:
            if roc:
                pct = rules.roc_reduction_percent[(roc if roc < 3 else 3) - 1]
                reduced_income = (2 * gwi * (100 - pct) + 100) // 200
                if explain:
                    steps.append(roc_step(pct, reduced_income, roc))
            b = rules.basic_percent[band_index]
            threshold = rules.basic_plus_threshold_pence
            if reduced_income <= threshold:
                rate = Rate.BASIC
                num = reduced_income * b
                if explain:
                    steps.append(basic_rate_step(n, b, reduced_income, num))
            else:
                rate = Rate.BASIC_PLUS
                p = rules.basic_plus_percent[band_index]
                num = threshold * b + (reduced_income - threshold) * p
                if explain:
                    steps.append(basic_plus_rate_step(n, b, p, threshold, reduced_income, num))
            den = 100
        rounding = rules.whole_pound_rounding
        if rounding is WholePoundRounding.BEFORE_SHARED_CARE:
            # Reg 6: straight to the pound from the exact amount, not via the penny.
            share = (2 * num + den * 100) // (200 * den) * 100
            if explain:
                steps.append(pound_before_shared_care_step(num, den, share))
        else:
            share = (2 * num + den) // (2 * den)
        amount = share
        if (
            shared
        ):  # Sch 1 para 7: the average fraction, then £7 for each child at 175 nights or more
            kept = 0
            halves = 0
            for band in bands:
                kept += _KEPT_14THS[band]
                if band is _HALF:
                    halves += 1
            whole = 14 * n
            reduced = (2 * share * kept + whole) // (2 * whole)
            extra = halves * rules.shared_care_extra_deduction_pence
            amount = reduced - extra if reduced > extra else 0
            fraction = _fraction(whole - kept, whole)
            if explain:
                steps.append(
                    shared_care_step(
                        rp,
                        list(zip(children, bands, strict=True)),
                        kept,
                        share,
                        reduced,
                        halves,
                        amount,
                        rules,
                    )
                )
        if rounding is WholePoundRounding.AFTER_SHARED_CARE:
            amount = (2 * amount + 100) // 200 * 100
            if explain:
                steps.append(pound_after_shared_care_step(amount))
        minimum = rules.minimum_amount_after_shared_care_pence
        if amount < minimum:  # Sch 1 para 7(7): the floor, then split equally between the children
            if explain:
                steps.append(floor_step(amount, minimum))
            amount = minimum
        else:
            proportional = True

    # Each child's part (informational): weighted by its own shared care on the reduced and basic rates.
    if n == 1:
        parts = [amount]
    elif proportional and shared:
        deduction = 14 * n * rules.shared_care_extra_deduction_pence
        weights = [
            max(0, share * _KEPT_14THS[band] - (deduction if band is _HALF else 0))
            for band in bands
        ]
        parts = split_balanced(amount, weights if sum(weights) > 0 else [1] * n)
    else:  # equal weights: the remainder pennies go to the first children (largest remainder, ties by order)
        q, r = divmod(amount, n)
        parts = [q + 1] * r + [q] * (n - r)

    # §8: collection fees, rounded half-up to the penny (Child Support Fees Regulations 2014 regs 7 and 8).
    scheme = rules.fees
    if facts.service_type is ServiceType.COLLECT_AND_PAY or not scheme.direct_pay_available:
        pp_bp = (
            scheme.non_compliant_paying_parent_bp
            if facts.compliance_status is ComplianceStatus.NON_COMPLIANT
            else scheme.paying_parent_bp
        )
        rp_bp = scheme.receiving_parent_bp
        fees = Fees(True, pp_bp, rp_bp)
        pp_fee = (amount * pp_bp + 5_000) // 10_000
        rp_fee = (amount * rp_bp + 5_000) // 10_000
        if explain:
            if facts.service_type is ServiceType.DIRECT_PAY:
                steps.append(direct_pay_unavailable_step(rules))
            if amount:
                steps.append(collection_fee_step(fees, amount, pp_fee, rp_fee, 1))
    else:
        fees = Fees(False, 0, 0)
        pp_fee = rp_fee = 0
    if explain:
        steps.append(payment_frequency_step(amount, rules))

    return CalculationResult(
        rate,
        IncomeDetermination(
            IncomeBasis.HISTORIC,
            historic,
            0,
            0,
            False,
            0,
            0,
            historic,
            gwi < historic,
            gwi,
            reduced_income,
        ),
        amount,
        (
            ReceivingParentAmount(
                rp, n, share, fraction, extra if shared else 0, amount, pp_fee, rp_fee
            ),
        ),
        tuple(
            ChildAmount(c.child_reference, rp, c.shared_care_nights, band, part)
            for c, band, part in zip(children, bands, parts, strict=True)
        ),
        fees,
        rules.version,
        tuple(steps),
    )
