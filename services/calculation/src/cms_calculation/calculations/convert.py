"""Proto ↔ domain conversion for calculations (the only place that knows both)."""

from __future__ import annotations

import datetime as dt

from google.type import date_pb2

from cms.calculation.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms_platform.errors import FailedPrecondition, InvalidArgument, PreconditionViolation

from ..engine import model

FREQUENCIES = {
    model.Frequency.WEEKLY: common.PAYMENT_FREQUENCY_WEEKLY,
    model.Frequency.FORTNIGHTLY: common.PAYMENT_FREQUENCY_FORTNIGHTLY,
    model.Frequency.FOUR_WEEKLY: common.PAYMENT_FREQUENCY_FOUR_WEEKLY,
    model.Frequency.MONTHLY: common.PAYMENT_FREQUENCY_MONTHLY,
}


def to_date(d: date_pb2.Date) -> dt.date:
    return dt.date(d.year, d.month, d.day)


def from_date(d: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=d.year, month=d.month, day=d.day)


def facts_from_input(i: pb.CalculationInput) -> model.CalculationFacts:
    unsupported = []
    if i.default_maintenance_decision:
        unsupported.append(("DEFAULT_MAINTENANCE_DECISION", "input.default_maintenance_decision"))
    if i.benefits:
        unsupported.append(("BENEFITS", "input.benefits"))
    if i.nil_rate_conditions:
        unsupported.append(("NIL_RATE_CONDITIONS", "input.nil_rate_conditions"))
    if i.special_expenses or i.additional_incomes:
        unsupported.append(("VARIATIONS", "input.special_expenses"))
    if i.other_arrangement_child_count:
        unsupported.append(("OTHER_ARRANGEMENTS", "input.other_arrangement_child_count"))
    if i.paying_parent_income.HasField("current_income") or i.paying_parent_income.hmrc_income_unavailable:
        unsupported.append(("CURRENT_INCOME", "input.paying_parent_income.current_income"))
    if unsupported:
        raise FailedPrecondition([PreconditionViolation(f"{kind}_NOT_SUPPORTED", field,
                                                        "needs the full calculation engine")
                                  for kind, field in unsupported])
    if not i.HasField("paying_parent_income"):
        raise InvalidArgument.field("input.paying_parent_income", "is required unless a default maintenance "
                                    "decision is asked for")
    if i.relevant_other_child_count < 0:
        raise InvalidArgument.field("input.relevant_other_child_count", "must not be negative")
    return model.CalculationFacts(
        effective_date=to_date(i.effective_date),
        hmrc_gross_annual_income_pence=i.paying_parent_income.hmrc_gross_annual_income_pence,
        qualifying_children=tuple(
            model.QualifyingChild(c.child_reference, c.receiving_parent_reference, c.shared_care_nights)
            for c in i.qualifying_children),
        relevant_other_child_count=i.relevant_other_child_count,
        service_type=(model.ServiceType.COLLECT_AND_PAY if i.service_type == pb.SERVICE_TYPE_COLLECT_AND_PAY
                      else model.ServiceType.DIRECT_PAY),
    )


def _periodic(amounts: dict[model.Frequency, int]) -> list[common.PeriodicAmount]:
    return [common.PeriodicAmount(frequency=FREQUENCIES[f], amount_pence=p) for f, p in amounts.items()]


def calculation_message(*, name: str, case_reference: str, reason: int, request_input: pb.CalculationInput,
                        result: model.CalculationResult, created: dt.datetime) -> pb.Calculation:
    from ..engine.calculate import periodic_amounts

    rps = []
    for a in result.receiving_parent_amounts:
        received = a.weekly_amount_pence - a.receiving_parent_fee_weekly_pence
        rps.append(pb.ReceivingParentAmount(
            receiving_parent_reference=a.receiving_parent_reference, qualifying_child_count=a.qualifying_child_count,
            apportioned_weekly_amount_pence=a.weekly_amount_pence, weekly_amount_pence=a.weekly_amount_pence,
            receiving_parent_fee_weekly_pence=a.receiving_parent_fee_weekly_pence,
            paying_parent_fee_weekly_pence=a.paying_parent_fee_weekly_pence, weekly_amount_received_pence=received,
            received_periodic_amounts=_periodic(periodic_amounts(received))))
    pp_fee = sum(a.paying_parent_fee_weekly_pence for a in result.receiving_parent_amounts)
    rp_fee = sum(a.receiving_parent_fee_weekly_pence for a in result.receiving_parent_amounts)
    msg = pb.Calculation(
        name=name, case_reference=case_reference, input=request_input, reason=reason,
        effective_date=request_input.effective_date, rate=pb.Rate.Value(f"RATE_{result.rate.value}"),
        weekly_amount_pence=result.weekly_amount_pence, gross_weekly_income_pence=result.gross_weekly_income_pence,
        income=pb.IncomeDetermination(
            basis=pb.INCOME_BASIS_HISTORIC, historic_weekly_income_pence=result.historic_weekly_income_pence,
            uncapped_weekly_income_pence=result.historic_weekly_income_pence, capped=result.capped,
            gross_weekly_income_pence=result.gross_weekly_income_pence,
            roc_reduced_weekly_income_pence=result.roc_reduced_weekly_income_pence),
        receiving_parent_amounts=rps,
        child_amounts=[pb.ChildAmount(child_reference=c.child_reference,
                                      receiving_parent_reference=c.receiving_parent_reference,
                                      shared_care_band=pb.SHARED_CARE_BAND_NONE,
                                      weekly_amount_pence=c.weekly_amount_pence) for c in result.child_amounts],
        periodic_amounts=_periodic(result.periodic_amounts),
        payment_frequency=request_input.payment_frequency or common.PAYMENT_FREQUENCY_WEEKLY,
        collection_fees=pb.CollectionFees(
            charged=result.paying_parent_fee_basis_points > 0,
            paying_parent_fee_basis_points=result.paying_parent_fee_basis_points,
            receiving_parent_fee_basis_points=result.receiving_parent_fee_basis_points,
            paying_parent_fee_weekly_pence=pp_fee, receiving_parent_fee_weekly_pence=rp_fee,
            paying_parent_weekly_total_pence=result.weekly_amount_pence + pp_fee,
            receiving_parent_weekly_total_pence=result.weekly_amount_pence - rp_fee,
            paying_parent_periodic_amounts=_periodic(periodic_amounts(result.weekly_amount_pence + pp_fee))),
        steps=[pb.CalculationStep(kind=pb.CalculationStepKind.Value(f"CALCULATION_STEP_KIND_{s.kind.value}"),
                                  citation=s.citation, explanation=s.explanation, amount_pence=s.amount_pence,
                                  receiving_parent_reference=s.receiving_parent_reference,
                                  rule_set_parameters=list(s.rule_set_parameters)) for s in result.steps],
        rule_set_version=result.rule_set_version,
    )
    msg.create_time.FromDatetime(created)
    return msg


def basic_view(calc: pb.Calculation) -> pb.Calculation:
    out = pb.Calculation()
    out.CopyFrom(calc)
    out.ClearField("input")
    out.ClearField("steps")
    return out
