"""Deductions' values as the contract's and back: deduction types, rejection reasons, the terms of a deduction, a
set-up request, and what goes to and comes back from Jobcentre Plus."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cms.common.v1 import types_pb2 as common
from cms.dwp.v1 import dwp_service_pb2 as api
from cms.dwp.v1 import resources_pb2 as pb
from cms_platform.convert import date_or_violation, full_date, pb_date
from cms_platform.errors import ViolationCollector
from cms_platform.identifiers import valid_nino

from .. import convert as records
from ..port import BenefitAward, BenefitType, DeductionType, JcpDecision, JcpInstruction, Rejection
from . import rules

_KINDS = {
    pb.DEDUCTION_TYPE_STANDARD_FLAT_RATE: DeductionType.STANDARD_FLAT_RATE,
    pb.DEDUCTION_TYPE_NON_STANDARD_FLAT_RATE: DeductionType.NON_STANDARD_FLAT_RATE,
    pb.DEDUCTION_TYPE_ARREARS: DeductionType.ARREARS,
}
_KIND_VALUES = {k: v for v, k in _KINDS.items()}


def deduction_type(kind: DeductionType) -> pb.DeductionType.ValueType:
    return _KIND_VALUES[kind]


def deduction_type_of(value: int) -> DeductionType | None:
    return _KINDS.get(pb.DeductionType.ValueType(value))


def rejection(r: Rejection) -> pb.DeductionRejectionReason.ValueType:
    return pb.DeductionRejectionReason.Value(f"DEDUCTION_REJECTION_REASON_{r.value}")


def rejection_of(value: int) -> Rejection | None:
    """The rejection reason a contract value names (None: unset or not a reason)."""
    if not value or value not in pb.DeductionRejectionReason.values():
        return None
    name = pb.DeductionRejectionReason.Name(pb.DeductionRejectionReason.ValueType(value))
    return Rejection.__members__.get(name.removeprefix("DEDUCTION_REJECTION_REASON_"))


def benefit(value: int, path: str, v: ViolationCollector) -> BenefitType | None:
    found = records.benefit_type_of(value)
    if found is None:
        v.add(path, "choose a benefit type")
    return found


def kind(value: int, weekly_liability_pence: int, v: ViolationCollector) -> DeductionType | None:
    """The deduction type, and a weekly liability given only for a non-standard flat rate (the regulations fix the
    others)."""
    found = deduction_type_of(value)
    if found is None:
        v.add("deduction_type", "choose a deduction type")
    elif found is DeductionType.NON_STANDARD_FLAT_RATE and weekly_liability_pence <= 0:
        v.add("weekly_liability_pence", "is required (positive) for a non-standard flat rate")
    elif found is not DeductionType.NON_STANDARD_FLAT_RATE and weekly_liability_pence:
        v.add("weekly_liability_pence", "must be unset: the regulations fix this amount")
    return found


@dataclass(frozen=True)
class SetUp:
    """DFB Set Up as the CMS asks for it: from the paying parent's benefit, or their partner's."""

    case_id: str
    paying_parent_nino: str
    partner_nino: str
    benefit: BenefitType
    kind: DeductionType
    weekly_liability_pence: int
    start: dt.date
    calculation_id: str


def set_up(request: api.SetUpDeductionRequest) -> SetUp:
    v = ViolationCollector()
    for path, nino in (
        ("paying_parent_nino", request.paying_parent_nino),
        ("partner_nino", request.partner_nino),
    ):
        if nino and not valid_nino(nino):
            v.add(path, "is not a valid National Insurance number")
    found_benefit = benefit(request.benefit_type, "benefit_type", v)
    found_kind = kind(request.deduction_type, request.weekly_liability_pence, v)
    start = date_or_violation(request.effective_date, "effective_date", v)
    v.raise_if_any()
    assert found_benefit is not None and found_kind is not None and start is not None
    return SetUp(
        case_id=request.case_id,
        paying_parent_nino=request.paying_parent_nino,
        partner_nino=request.partner_nino,
        benefit=found_benefit,
        kind=found_kind,
        weekly_liability_pence=request.weekly_liability_pence,
        start=start,
        calculation_id=request.calculation_id,
    )


def terms(
    award: BenefitAward,
    kind: DeductionType,
    weekly_liability_pence: int,
    start: dt.date,
    params: rules.DeductionParameters,
) -> pb.DeductionTerms:
    """The terms to ask for: the amount per award payment with its maintenance / fee split."""
    split = rules.terms(award, kind, weekly_liability_pence, params)
    return pb.DeductionTerms(
        deduction_type=deduction_type(kind),
        benefit_type=records.benefit_type(award.benefit_type),
        award_id=award.award_id,
        deduction_amount=common.PeriodicAmount(
            frequency=records.FREQUENCY[award.payment_frequency], amount_pence=split.amount_pence
        ),
        maintenance_pence=split.maintenance_pence,
        collection_fee_pence=split.collection_fee_pence,
        start_date=pb_date(start),
    )


def jcp_instruction(beneficiary_nino: str, requested: pb.DeductionTerms) -> JcpInstruction:
    found = deduction_type_of(requested.deduction_type)
    assert found is not None  # the gateway only ever stores one of the three
    return JcpInstruction(
        beneficiary_nino=beneficiary_nino,
        award_id=requested.award_id,
        deduction_type=found,
        maintenance_pence=requested.maintenance_pence,
        start_date=full_date(requested.start_date, "start_date"),
    )


def jcp_decision(decision: JcpDecision, requested: pb.DeductionTerms) -> pb.DeductionDecision:
    """JCP's answer as a decision on the instruction: accepted on the terms asked for from its start date, or
    rejected with the reason (OTHER when JCP gave none)."""
    out = pb.DeductionDecision(
        decision_date=pb_date(decision.decided_on), decided_by=decision.decided_by
    )
    if decision.accepted:
        out.outcome = pb.DEDUCTION_OUTCOME_ACCEPTED
        out.accepted_terms.CopyFrom(requested)
        out.accepted_terms.start_date.CopyFrom(pb_date(decision.start_date))
    else:
        out.outcome = pb.DEDUCTION_OUTCOME_REJECTED
        out.rejection_reason = (
            rejection(decision.rejection)
            if decision.rejection
            else pb.DEDUCTION_REJECTION_REASON_OTHER
        )
        out.rejection_detail = decision.detail
    return out
