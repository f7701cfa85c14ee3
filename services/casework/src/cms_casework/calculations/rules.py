"""What the calculation service is given for a case (no I/O): every live case of the paying parent (one per
receiving parent), the paying parent's income and benefits in force on the effective date, the other children of
the paying parent's household, the service type and payment frequency. And the share of a calculation that is one
case's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from google.type import date_pb2

from cms.calculation.v1 import resources_pb2 as calc_pb
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms.hmrc.v1 import hmrc_service_pb2 as hmrc_api
from cms.hmrc.v1 import resources_pb2 as hmrc_pb
from cms_platform.convert import day_of, pb_date

# DWP benefit types as the calculation names them (the rest are not benefits the calculation looks at).
_BENEFIT = {
    "STATE_PENSION": "STATE_PENSION",
    "INCAPACITY_BENEFIT": "INCAPACITY_BENEFIT",
    "CARERS_ALLOWANCE": "CARERS_ALLOWANCE",
    "MATERNITY_ALLOWANCE": "MATERNITY_ALLOWANCE",
    "SEVERE_DISABLEMENT_ALLOWANCE": "SEVERE_DISABLEMENT_ALLOWANCE",
    "INDUSTRIAL_INJURIES_DISABLEMENT_BENEFIT": "INDUSTRIAL_INJURIES_BENEFIT",
    "WIDOWED_PARENTS_ALLOWANCE": "WIDOWED_PARENTS_ALLOWANCE",
    "WIDOWS_PENSION": "WIDOWS_PENSION",
    "BEREAVEMENT_ALLOWANCE": "BEREAVEMENT_ALLOWANCE",
    "JOBSEEKERS_ALLOWANCE_CONTRIBUTION_BASED": "JOBSEEKERS_ALLOWANCE_CONTRIBUTION_BASED",
    "EMPLOYMENT_AND_SUPPORT_ALLOWANCE_CONTRIBUTORY": "EMPLOYMENT_AND_SUPPORT_ALLOWANCE_CONTRIBUTORY",
    "TRAINING_ALLOWANCE": "TRAINING_ALLOWANCE",
    "WAR_DISABLEMENT_PENSION": "WAR_DISABLEMENT_PENSION",
    "WAR_WIDOWS_PENSION": "WAR_WIDOWS_PENSION",
    "ARMED_FORCES_COMPENSATION_SCHEME": "ARMED_FORCES_COMPENSATION_SCHEME",
    "INCOME_SUPPORT": "INCOME_SUPPORT",
    "JOBSEEKERS_ALLOWANCE_INCOME_BASED": "JOBSEEKERS_ALLOWANCE_INCOME_BASED",
    "EMPLOYMENT_AND_SUPPORT_ALLOWANCE_INCOME_RELATED": "EMPLOYMENT_AND_SUPPORT_ALLOWANCE_INCOME_RELATED",
    "PENSION_CREDIT": "STATE_PENSION_CREDIT",
    "UNIVERSAL_CREDIT": "UNIVERSAL_CREDIT_NO_EARNED_INCOME",
}


_CALCULATION_REASON: dict[int, calc_pb.CalculationReason.ValueType] = {
    pb.CALCULATION_REASON_INITIAL: calc_pb.CALCULATION_REASON_INITIAL,
    pb.CALCULATION_REASON_ANNUAL_REVIEW: calc_pb.CALCULATION_REASON_ANNUAL_REVIEW,
}


class _Child(Protocol):
    @property
    def start_date(self) -> date_pb2.Date: ...
    @property
    def end_date(self) -> date_pb2.Date: ...


@dataclass
class Income:
    """The HMRC figure and the paying parent's benefit awards as DWP holds them (calculation_input adds the facts
    casework has verified, from the client record)."""

    hmrc: hmrc_api.GetSummaryOfEarnedIncomeResponse
    benefits: list[pb.BenefitAward]
    # Current income from HMRC RTI, in pence a week, when it was asked for and RTI shows current pay.
    rti_weekly_pence: int | None = None


# Pay periods a year by RTI pay frequency; pay at any other frequency is averaged over the days asked about.
_PERIODS_A_YEAR = {
    hmrc_pb.PAY_FREQUENCY_WEEKLY: 52,
    hmrc_pb.PAY_FREQUENCY_FORTNIGHTLY: 26,
    hmrc_pb.PAY_FREQUENCY_FOUR_WEEKLY: 13,
    hmrc_pb.PAY_FREQUENCY_MONTHLY: 12,
    hmrc_pb.PAY_FREQUENCY_QUARTERLY: 4,
    hmrc_pb.PAY_FREQUENCY_BI_ANNUALLY: 2,
    hmrc_pb.PAY_FREQUENCY_ANNUALLY: 1,
}
DAYS_A_YEAR = 365  # a yearly figure is made weekly as historic income is, ÷ 365 × 7


def rti_weekly_income(
    employments: list[hmrc_pb.RtiEmploymentIncome], *, on: dt.date, days_asked: int
) -> int | None:
    """Current income as an employee (regs 37-39 of SI 2012/2677) from recent RTI pay, in pence a week: for each
    employment still going on `on`, its average taxable pay a pay period over the periods in a year, ÷ 365 × 7
    (pay of no regular frequency: its total over the `days_asked`, × 7); None when RTI shows no such pay. Averaging
    by pay period keeps a window that happens to hold one monthly payment more or less from looking like a change
    of a quarter."""
    total, paid = 0, False
    for employment in employments:
        ended = day_of(employment.employment.end_date)
        payments = [p.taxable_pay_pence for p in employment.payments]
        if (ended is not None and ended <= on) or not payments:
            continue
        paid = True
        periods = _PERIODS_A_YEAR.get(employment.employment.pay_frequency)
        if periods is None:
            total += sum(payments) * 7 // max(days_asked, 1)
        else:
            total += sum(payments) * periods * 7 // (len(payments) * DAYS_A_YEAR)
    return total if paid else None


def reason_for_calculation(reason: int) -> calc_pb.CalculationReason.ValueType:
    """The calculation service's reason for one of ours (every other reason is a change of circumstances)."""
    return _CALCULATION_REASON.get(reason, calc_pb.CALCULATION_REASON_CHANGE_OF_CIRCUMSTANCES)


def _live(child: _Child, on: dt.date) -> bool:
    """The child counts on `on`: from the date their part began (unset: the case's start) up to its end."""
    start, end = day_of(child.start_date), day_of(child.end_date)
    return (start is None or start <= on) and (end is None or end > on)


def _in_force(period: common.DateRange, on: dt.date) -> bool:
    """A period from its start date up to (not including) its end date; an open end means it still applies."""
    start, end = day_of(period.start_date), day_of(period.end_date)
    return start is not None and start <= on and (end is None or end > on)


def _variations(
    cases: list[pb.Case], on: dt.date
) -> tuple[list[calc_pb.SpecialExpense], list[calc_pb.AdditionalIncome]]:
    """The agreed variations in force on `on`, on any of the paying parent's cases (each once): special expenses are
    deducted from his income (reg 72 of SI 2012/2677), additional income added to it (reg 73)."""
    expenses, additions, seen = [], [], set()
    for case in cases:
        for v in case.variations:
            if v.variation in seen or not _in_force(v.period, on):
                continue
            seen.add(v.variation)
            ground = pb.VariationGround.Name(v.ground).removeprefix("VARIATION_GROUND_")
            if (
                f"SPECIAL_EXPENSE_KIND_{ground}"
                in calc_pb.SpecialExpenseKind.DESCRIPTOR.values_by_name
            ):
                expenses.append(
                    calc_pb.SpecialExpense(
                        kind=calc_pb.SpecialExpenseKind.Value(f"SPECIAL_EXPENSE_KIND_{ground}"),
                        weekly_amount_pence=v.weekly_amount_pence,
                        variation_reference=v.variation,
                    )
                )
            elif (
                f"ADDITIONAL_INCOME_KIND_{ground}"
                in calc_pb.AdditionalIncomeKind.DESCRIPTOR.values_by_name
            ):
                addition = calc_pb.AdditionalIncome(
                    kind=calc_pb.AdditionalIncomeKind.Value(f"ADDITIONAL_INCOME_KIND_{ground}"),
                    variation_reference=v.variation,
                )
                if v.annual_amount_pence:
                    addition.annual_amount_pence = v.annual_amount_pence
                else:
                    addition.weekly_amount_pence = v.weekly_amount_pence
                additions.append(addition)
    return expenses, additions


# -- the paying parent's benefits: DWP's awards with the facts casework has verified ------------------------------


def _first_day(award: pb.BenefitAward) -> dt.date:
    return day_of(award.period.start_date) or dt.date.min


def _last_day(award: pb.BenefitAward) -> dt.date | None:
    """An award is in payment on its end date (DWP's awards, and casework's facts, give the last day of payment)."""
    return day_of(award.period.end_date)


def _covers(award: pb.BenefitAward, on: dt.date) -> bool:
    last = _last_day(award)
    return _first_day(award) <= on and (last is None or last >= on)


def _changes_of(
    awards: Sequence[pb.BenefitAward], *, undated_start: bool
) -> list[tuple[dt.date, bool]]:
    """When one source's awards of a benefit put it in payment (True) and stop it (False): the days any of them
    covers, joined where they meet or overlap. An award with no start date starts from the beginning when
    `undated_start`, otherwise it says only when the benefit stopped."""
    spans, stops = [], []
    for award in awards:
        first, last = day_of(award.period.start_date), _last_day(award)
        if first is None and not undated_start:
            if last is not None:
                stops.append(last)
            continue
        first = first or dt.date.min
        if last is None or last >= first:
            spans.append((first, last))
        elif not undated_start:
            # A verified end that closed an award recorded as starting later or the same day: never paid from that
            # start, and the end still says the benefit stopped.
            stops.append(last)
    joined: list[tuple[dt.date, dt.date | None]] = []
    for first, last in sorted(spans, key=lambda p: p[0]):
        if joined and (joined[-1][1] is None or first <= joined[-1][1] + dt.timedelta(days=1)):
            held_first, held_last = joined[-1]
            joined[-1] = (
                held_first,
                None if last is None or held_last is None else max(last, held_last),
            )
        else:
            joined.append((first, last))
    ends = [last for _, last in joined if last is not None] + stops
    # No longer in payment from the day after an award's last day (the last day there is never ends).
    return [(first, True) for first, _ in joined] + [
        (last + dt.timedelta(days=1), False) for last in ends if last < dt.date.max
    ]


def benefits_in_payment(
    dwp: Sequence[pb.BenefitAward], held: Sequence[pb.BenefitAward], on: dt.date
) -> list[pb.BenefitAward]:
    """The paying parent's (and partner's) benefits in payment on `on`, one award per benefit and recipient: DWP's
    awards (`dwp`) combined with the starts and ends casework has verified (`held`: the client record's awards that
    carry `verified_change`; the rest are the copy of DWP's awards taken at the application, which DWP's own
    answer now supersedes).

    Each source says when a benefit started and when it stopped (an award is in payment up to and including its end
    date). Where they disagree, the latest of those dates on or before `on` decides, whoever reported it: a start
    casework verified after DWP's award ended puts the benefit in payment again, and an end DWP records after a
    start casework verified stops it; an end casework verified stops an award DWP still shows open. On the same day
    casework's verified fact decides (it is the newer evidence: DWP's award ending the day before a verified start
    leaves the benefit in payment; a verified stop on the day DWP's award starts stops it). A benefit both report is
    one award. Whether Universal Credit has earned income (reg 44(2) of SI 2012/2677) is DWP's while
    DWP reports the award on `on` (DWP holds the assessment periods), otherwise as casework verified it."""
    facts = [a for a in held if a.verified_change]
    keys = list(dict.fromkeys((a.benefit, a.partner_award) for a in [*dwp, *facts]))
    out = []
    for key in keys:
        mine = [a for a in dwp if (a.benefit, a.partner_award) == key]
        verified = [a for a in facts if (a.benefit, a.partner_award) == key]
        # (day, by casework?, in payment from then?): on the same day casework's verified fact decides
        decided = [
            (day, by_casework, paid)
            for by_casework, awards in ((False, mine), (True, verified))
            for day, paid in _changes_of(awards, undated_start=not by_casework)
            if day <= on
        ]
        if not decided or not max(decided)[2]:
            continue
        # Some award covers `on` (a start decides only while no stop follows it); DWP's first.
        source = [a for a in mine if _covers(a, on)] or [a for a in verified if _covers(a, on)]
        award = pb.BenefitAward(benefit=key[0], partner_award=key[1])
        if source:
            award.CopyFrom(source[0])
            award.universal_credit_earned_income = any(
                a.universal_credit_earned_income for a in source
            )
        out.append(award)
    return out


def calculation_input(
    *,
    cases: list[pb.Case],
    payer: pb.Client,
    income: Income,
    effective: dt.date,
    this_case: pb.Case,
    default_decision: bool = False,
) -> calc_pb.CalculationInput:
    """One calculation covers every live case of the paying parent; each receiving parent is one case.

    A default maintenance decision (s.12 of the Child Support Act 1991) when asked for, and to recalculate a case
    whose decision in force is one while there is still no income to calculate on (a child leaving changes the
    default rate too); once income is held, the calculation replaces it."""
    current = payer.employment_and_income
    default_decision = default_decision or (
        this_case.latest_calculation.rate == "DEFAULT"
        and not income.hmrc.income_data_held
        and not current.current_income_source
        and income.rti_weekly_pence is None
    )
    paying = calc_pb.PayingParentIncome(
        hmrc_gross_annual_income_pence=income.hmrc.gross_income_pence,
        hmrc_tax_year=income.hmrc.tax_year,
        hmrc_income_unavailable=not income.hmrc.income_data_held,
    )
    if current.current_income_source:
        paying.current_income.gross_weekly_income_pence = current.current_gross_weekly_income_pence
    elif income.rti_weekly_pence is not None:
        # The calculation compares it with historic income and uses it on a difference of 25% or more, or when
        # HMRC holds no historic income (reg 34 of SI 2012/2677).
        paying.current_income.gross_weekly_income_pence = income.rti_weekly_pence
    receipts = []
    # DWP's awards and the benefit starts and ends casework has verified, each for the dates it covers.
    for award in benefits_in_payment(income.benefits, payer.benefits, effective):
        name = _BENEFIT.get(award.benefit)
        if award.universal_credit_earned_income:
            # UC with earned income is not a prescribed benefit (reg 44(2) of SI 2012/2677 names only UC calculated
            # on the basis of no earned income): the paying parent is assessed on income.
            continue
        if name:
            receipts.append(
                calc_pb.BenefitReceipt(
                    benefit=calc_pb.Benefit.Value(f"BENEFIT_{name}"),
                    recipient=calc_pb.BENEFIT_RECIPIENT_PARTNER
                    if award.partner_award
                    else calc_pb.BENEFIT_RECIPIENT_PAYING_PARENT,
                )
            )
    children = [
        calc_pb.QualifyingChild(
            child_reference=c.child_id,
            receiving_parent_reference=case.name,
            shared_care_nights=c.paying_parent_nights_per_year,
            forename=c.name.forenames,
            # reg 50: no paying parent for a child whose day-to-day care is shared equally.
            equal_day_to_day_care=any(
                _in_force(p, effective) for p in c.equal_day_to_day_care_periods
            ),
        )
        for case in cases
        for c in case.qualifying_children
        if _live(c, effective)
    ]
    special_expenses, additional_incomes = _variations(cases, effective)
    if default_decision:
        # Income, benefits and variations play no part in a default decision.
        receipts, special_expenses, additional_incomes = [], [], []
    return calc_pb.CalculationInput(
        effective_date=pb_date(effective),
        # reg 45: the paying parent's nil-rate categories on the effective date.
        nil_rate_conditions=[
            calc_pb.NilRateCondition.Value(
                pb.NilRateCategory.Name(n.category).replace(
                    "NIL_RATE_CATEGORY_", "NIL_RATE_CONDITION_", 1
                )
            )
            for n in payer.nil_rate_categories
            if _in_force(n.period, effective)
        ],
        special_expenses=special_expenses,
        additional_incomes=additional_incomes,
        # Sch 1 para 4(2): the partner is a paying parent too on the effective date.
        partner_is_paying_parent=any(
            _in_force(p, effective) for p in payer.partner_paying_parent_periods
        ),
        paying_parent_income=None if default_decision else paying,
        benefits=receipts,
        default_maintenance_decision=default_decision,
        qualifying_children=children,
        relevant_other_child_count=sum(
            1 for c in this_case.relevant_other_children if _live(c, effective)
        ),
        other_arrangement_child_count=sum(
            1 for c in this_case.children_in_family_based_arrangements if _live(c, effective)
        ),
        service_type=calc_pb.SERVICE_TYPE_COLLECT_AND_PAY
        if this_case.service_type == pb.SERVICE_TYPE_COLLECT_AND_PAY
        else calc_pb.SERVICE_TYPE_DIRECT_PAY,
        payment_frequency=this_case.payment_frequency,
        paying_parent_reference=payer.name,
    )


def share_of(calculation: calc_pb.Calculation, case_name: str) -> calc_pb.ReceivingParentAmount:
    return next(
        (
            r
            for r in calculation.receiving_parent_amounts
            if r.receiving_parent_reference == case_name
        ),
        calc_pb.ReceivingParentAmount(receiving_parent_reference=case_name),
    )
