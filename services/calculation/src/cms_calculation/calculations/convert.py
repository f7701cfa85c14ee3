"""Proto ↔ domain conversion for calculations (the only place that knows both).

Structural checks that only make sense on the wire (enum values this service does not know, unset required enums)
are made here and reported with the contract's field paths; semantic checks live in the engine's validate().
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, TypeVar

from google.protobuf import timestamp_pb2

from cms.calculation.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms_platform.convert import full_date, timestamp_of
from cms_platform.errors import InvalidArgument, ViolationCollector

from ..engine import model
from ..engine.rules import RuleSet
from ..engine.steps import PERIODS, periodic_pence

E = TypeVar("E")

FREQUENCIES = {
    model.Frequency.WEEKLY: common.PAYMENT_FREQUENCY_WEEKLY,
    model.Frequency.FORTNIGHTLY: common.PAYMENT_FREQUENCY_FORTNIGHTLY,
    model.Frequency.FOUR_WEEKLY: common.PAYMENT_FREQUENCY_FOUR_WEEKLY,
    model.Frequency.MONTHLY: common.PAYMENT_FREQUENCY_MONTHLY,
}
_RATES = {r: pb.Rate.Value(f"RATE_{r.value}") for r in model.Rate}
_BASES = {b: pb.IncomeBasis.Value(f"INCOME_BASIS_{b.value}") for b in model.IncomeBasis}
_BANDS = {b: pb.SharedCareBand.Value(f"SHARED_CARE_BAND_{b.value}") for b in model.SharedCareBand}
_KINDS = {
    k: pb.CalculationStepKind.Value(f"CALCULATION_STEP_KIND_{k.value}") for k in model.StepKind
}
_SERVICE_TYPES: dict[int, model.ServiceType] = {
    pb.SERVICE_TYPE_DIRECT_PAY: model.ServiceType.DIRECT_PAY,
    pb.SERVICE_TYPE_COLLECT_AND_PAY: model.ServiceType.COLLECT_AND_PAY,
}
_BENEFITS = {b.value: b for b in model.Benefit}
_RECIPIENTS = {r.value: r for r in model.BenefitRecipient}
_NIL = {c.value: c for c in model.NilRateCondition}
_EXPENSES = {k.value: k for k in model.SpecialExpenseKind}
_ADDITIONAL = {k.value: k for k in model.AdditionalIncomeKind}


def _enum(
    value: int, known: Mapping[int, E], path: str, v: ViolationCollector, what: str
) -> E | None:
    if value in known:
        return known[value]
    v.add(
        path,
        f"is required: choose a {what}"
        if value == 0
        else f"{value} is not a {what} this service knows",
    )
    return None


_COMPLIANCE = {
    pb.COMPLIANCE_STATUS_UNSPECIFIED: model.ComplianceStatus.COMPLIANT,
    pb.COMPLIANCE_STATUS_COMPLIANT: model.ComplianceStatus.COMPLIANT,
    pb.COMPLIANCE_STATUS_NON_COMPLIANT: model.ComplianceStatus.NON_COMPLIANT,
}
_FREQUENCY_VALUES = frozenset({0, *FREQUENCIES.values()})


def facts_from_input(i: pb.CalculationInput) -> model.CalculationFacts:
    # Most inputs (a bulk run's) have no benefit, nil-rate condition or variation and only known enum values:
    # nothing to check field by field, so they skip the collector and go straight to the facts.
    if not (i.benefits or i.nil_rate_conditions or i.special_expenses or i.additional_incomes):
        d = i.effective_date
        service_type = _SERVICE_TYPES.get(i.service_type)
        compliance = _COMPLIANCE.get(i.compliance_status)
        if (
            service_type is not None
            and compliance is not None
            and i.payment_frequency in _FREQUENCY_VALUES
            and d.year
            and d.month
            and d.day
        ):
            try:
                effective = dt.date(d.year, d.month, d.day)
            except ValueError:
                pass  # the full conversion below names the field
            else:
                return _facts(i, effective, service_type, compliance, (), (), (), ())
    return _checked_facts(i)


def _checked_facts(i: pb.CalculationInput) -> model.CalculationFacts:
    v = ViolationCollector()
    try:
        effective = full_date(i.effective_date, "input.effective_date")
    except InvalidArgument as exc:
        v.violations.extend(exc.violations)
        effective = None
    except ValueError:
        v.add("input.effective_date", "is not a calendar date")
        effective = None
    service_type = _enum(i.service_type, _SERVICE_TYPES, "input.service_type", v, "service type")
    benefits = []
    for n, b in enumerate(i.benefits):
        benefit = _enum(b.benefit, _BENEFITS, f"input.benefits[{n}].benefit", v, "benefit")
        recipient = _enum(
            b.recipient, _RECIPIENTS, f"input.benefits[{n}].recipient", v, "benefit recipient"
        )
        if benefit is not None and recipient is not None:
            benefits.append(model.BenefitReceipt(benefit, recipient))
    nil = tuple(
        c
        for n, value in enumerate(i.nil_rate_conditions)
        if (c := _enum(value, _NIL, f"input.nil_rate_conditions[{n}]", v, "nil-rate condition"))
        is not None
    )
    expenses = []
    for n, e in enumerate(i.special_expenses):
        expense_kind = _enum(
            e.kind, _EXPENSES, f"input.special_expenses[{n}].kind", v, "special expense kind"
        )
        if expense_kind is not None:
            expenses.append(
                model.SpecialExpense(expense_kind, e.weekly_amount_pence, e.variation_reference)
            )
    additional = []
    for n, a in enumerate(i.additional_incomes):
        income_kind = _enum(
            a.kind, _ADDITIONAL, f"input.additional_incomes[{n}].kind", v, "additional income kind"
        )
        which = a.WhichOneof("amount")
        if income_kind is not None:
            additional.append(
                model.AdditionalIncome(
                    income_kind,
                    a.weekly_amount_pence if which == "weekly_amount_pence" else None,
                    a.annual_amount_pence if which == "annual_amount_pence" else None,
                    a.variation_reference,
                )
            )
    if i.compliance_status not in (
        pb.COMPLIANCE_STATUS_UNSPECIFIED,
        pb.COMPLIANCE_STATUS_COMPLIANT,
        pb.COMPLIANCE_STATUS_NON_COMPLIANT,
    ):
        v.add(
            "input.compliance_status",
            f"{i.compliance_status} is not a compliance status this service knows",
        )
    if i.payment_frequency and i.payment_frequency not in FREQUENCIES.values():
        v.add(
            "input.payment_frequency",
            f"{i.payment_frequency} is not a payment frequency this service knows",
        )
    v.raise_if_any()
    # Both are set, else a violation was raised just above.
    assert effective is not None and service_type is not None
    return _facts(
        i,
        effective,
        service_type,
        model.ComplianceStatus.NON_COMPLIANT
        if i.compliance_status == pb.COMPLIANCE_STATUS_NON_COMPLIANT
        else model.ComplianceStatus.COMPLIANT,
        tuple(benefits),
        nil,
        tuple(expenses),
        tuple(additional),
    )


def _facts(
    i: pb.CalculationInput,
    effective: dt.date,
    service_type: model.ServiceType,
    compliance: model.ComplianceStatus,
    benefits: tuple[model.BenefitReceipt, ...],
    nil: tuple[model.NilRateCondition, ...],
    expenses: tuple[model.SpecialExpense, ...],
    additional: tuple[model.AdditionalIncome, ...],
) -> model.CalculationFacts:
    """The facts from a checked input (positional arguments: the constructors run once per bulk item)."""
    income = None
    if i.HasField("paying_parent_income"):
        ppi = i.paying_parent_income
        current = None
        if ppi.HasField("current_income"):
            ci = ppi.current_income
            current = model.CurrentIncome(
                ci.gross_weekly_income_pence,
                ci.pension_contributions_weekly_pence,
                ci.estimated,
                ci.in_place,
            )
        income = model.PayingParentIncome(
            ppi.hmrc_gross_annual_income_pence,
            ppi.hmrc_tax_year,
            ppi.hmrc_income_unavailable,
            ppi.pension_contributions_annual_pence,
            current,
        )
    return model.CalculationFacts(
        effective,
        tuple(
            [
                model.QualifyingChild(
                    c.child_reference,
                    c.receiving_parent_reference,
                    c.shared_care_nights,
                    c.shared_care_period_nights,
                    c.equal_day_to_day_care,
                    c.forename,
                )
                for c in i.qualifying_children
            ]
        ),
        income,
        benefits,
        nil,
        i.relevant_other_child_count,
        i.other_arrangement_child_count,
        expenses,
        additional,
        service_type,
        compliance,
        i.default_maintenance_decision,
        i.partner_is_paying_parent,
    )


_PERIODS = tuple(FREQUENCIES[f] for f in PERIODS)


def _periodic(weekly: int, rules: RuleSet) -> list[dict[str, Any]]:
    # Plain dicts: the message constructor builds the sub-messages in place (no intermediate copies).
    return [
        {"frequency": f, "amount_pence": p}
        for f, p in zip(_PERIODS, periodic_pence(weekly, rules), strict=True)
    ]


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _timestamp(created: dt.datetime) -> dict[str, int] | timestamp_pb2.Timestamp:
    """`created` as the Timestamp's fields: what timestamp_of() gives for an aware instant, without its
    Timestamp.FromDatetime (a preview's instant is new on every call, so no cache helps it)."""
    if created.tzinfo is None:
        return timestamp_of(created)
    since = created - _EPOCH
    return {
        "seconds": since.days * 86_400 + since.seconds,
        "nanos": since.microseconds * 1_000,
    }


def calculation_message(
    *,
    name: str,
    case_reference: str,
    reason: int,
    request_input: pb.CalculationInput,
    result: model.CalculationResult,
    rules: RuleSet,
    created: dt.datetime,
    full: bool = True,
) -> pb.Calculation:
    """The Calculation resource; `full=False` builds the BASIC view directly (no input, no steps)."""
    return pb.Calculation(
        **calculation_fields(
            name=name,
            case_reference=case_reference,
            reason=reason,
            request_input=request_input,
            result=result,
            rules=rules,
            created=created,
            full=full,
        )
    )


def calculation_fields(
    *,
    name: str,
    case_reference: str,
    reason: int,
    request_input: pb.CalculationInput,
    result: model.CalculationResult,
    rules: RuleSet,
    created: dt.datetime,
    full: bool = True,
) -> dict[str, Any]:
    """The Calculation as constructor keywords: nested parts as dicts, built in place by the constructor."""
    rps = []
    for a in result.receiving_parent_amounts:
        received = a.weekly_amount_pence - a.receiving_parent_fee_weekly_pence
        rps.append(
            dict(
                receiving_parent_reference=a.receiving_parent_reference,
                qualifying_child_count=a.qualifying_child_count,
                apportioned_weekly_amount_pence=a.apportioned_weekly_amount_pence,
                shared_care_fraction={
                    "numerator": a.shared_care_fraction.numerator,
                    "denominator": a.shared_care_fraction.denominator,
                },
                shared_care_extra_deduction_pence=a.shared_care_extra_deduction_pence,
                weekly_amount_pence=a.weekly_amount_pence,
                receiving_parent_fee_weekly_pence=a.receiving_parent_fee_weekly_pence,
                paying_parent_fee_weekly_pence=a.paying_parent_fee_weekly_pence,
                weekly_amount_received_pence=received,
                received_periodic_amounts=_periodic(received, rules),
            )
        )
    pp_fee = result.paying_parent_fee_weekly_pence
    rp_fee = result.receiving_parent_fee_weekly_pence
    weekly = result.weekly_amount_pence
    inc = result.income
    fields = dict(
        name=name,
        case_reference=case_reference,
        reason=reason,
        effective_date=request_input.effective_date,
        rate=_RATES[result.rate],
        weekly_amount_pence=weekly,
        gross_weekly_income_pence=inc.gross_weekly_income_pence,
        income=dict(
            basis=_BASES[inc.basis],
            historic_weekly_income_pence=inc.historic_weekly_income_pence,
            current_weekly_income_pence=inc.current_weekly_income_pence,
            income_difference_weekly_pence=inc.income_difference_weekly_pence,
            current_income_test_met=inc.current_income_test_met,
            special_expenses_weekly_pence=inc.special_expenses_weekly_pence,
            additional_income_weekly_pence=inc.additional_income_weekly_pence,
            uncapped_weekly_income_pence=inc.uncapped_weekly_income_pence,
            capped=inc.capped,
            gross_weekly_income_pence=inc.gross_weekly_income_pence,
            roc_reduced_weekly_income_pence=inc.roc_reduced_weekly_income_pence,
        ),
        receiving_parent_amounts=rps,
        child_amounts=[
            dict(
                child_reference=c.child_reference,
                receiving_parent_reference=c.receiving_parent_reference,
                shared_care_nights=c.shared_care_nights,
                shared_care_band=_BANDS[c.shared_care_band],
                weekly_amount_pence=c.weekly_amount_pence,
            )
            for c in result.child_amounts
        ],
        periodic_amounts=_periodic(weekly, rules),
        payment_frequency=request_input.payment_frequency or common.PAYMENT_FREQUENCY_WEEKLY,
        collection_fees=dict(
            charged=result.fees.charged,
            paying_parent_fee_basis_points=result.fees.paying_parent_fee_basis_points,
            receiving_parent_fee_basis_points=result.fees.receiving_parent_fee_basis_points,
            paying_parent_fee_weekly_pence=pp_fee,
            receiving_parent_fee_weekly_pence=rp_fee,
            paying_parent_weekly_total_pence=weekly + pp_fee,
            receiving_parent_weekly_total_pence=weekly - rp_fee,
            paying_parent_periodic_amounts=_periodic(weekly + pp_fee, rules),
        ),
        rule_set_version=result.rule_set_version,
        create_time=_timestamp(created),
    )
    if full:
        fields["input"] = request_input
        fields["steps"] = [
            dict(
                kind=_KINDS[s.kind],
                citation=s.citation,
                explanation=s.explanation,
                amount_pence=s.amount_pence,
                receiving_parent_reference=s.receiving_parent_reference,
                child_reference=s.child_reference,
                rule_set_parameters=s.rule_set_parameters,
            )
            for s in result.steps
        ]
    return fields


def basic_view(calc: pb.Calculation) -> pb.Calculation:
    out = pb.Calculation()
    out.CopyFrom(calc)
    out.ClearField("input")
    out.ClearField("steps")
    return out
