"""Variation applications across services: HMRC's unearned income fetched (outside any transaction) before the
application is recorded with its preliminary consideration; and a decision to agree a variation, recorded with the
VARIATION_AGREED change of circumstances that carries it (raised and verified in the same transaction), then applied
through the changes of circumstances' own path (changes.flows), which recalculates the case from the variation's
effective date and issues a new payment plan. If that last step fails (the calculation service down), the change
waits verified and the feed applier applies it on its next pass; a retry of the same decision applies it too."""

from __future__ import annotations

from sqlalchemy.orm import sessionmaker

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms.hmrc.v1 import hmrc_service_pb2 as hmrc_api
from cms.hmrc.v1 import resources_pb2 as hmrc_pb
from cms_platform.clock import Clock
from cms_platform.errors import (
    Conflict,
    FailedPrecondition,
    InvalidArgument,
    PreconditionViolation,
)
from cms_platform.idempotency import remember, replay
from cms_platform.identity import Caller

from ..case_records import service as case_records
from ..changes import flows as change_flows
from ..changes import service as changes
from ..changes.models import ChangeRecord
from ..downstream import Downstream, call
from ..names import derived_id, last_id, new_id
from . import service


def _unearned_income(
    case: pb.Case, *, variation_name: str, downstream: Downstream, clock: Clock
) -> pb.HmrcUnearnedIncome:
    """HMRC's unearned income of the paying parent for the latest year with a return (reg 69)."""
    answer = call(
        downstream.hmrc.GetUnearnedIncome,
        hmrc_api.GetUnearnedIncomeRequest(
            person=case.paying_parent.identity,
            context=hmrc_pb.EnquiryContext(
                case_id=case.name.removeprefix("cases/"), service_request_id=variation_name
            ),
        ),
        what="hmrc-gateway",
    )
    if answer.match.outcome != common.MATCH_OUTCOME_MATCHED:
        code = "PAYING_PARENT_NOT_MATCHED_BY_HMRC"
        raise FailedPrecondition(
            PreconditionViolation(
                code,
                "paying_parent.identity",
                f"HMRC did not match the paying parent ({common.MatchOutcome.Name(answer.match.outcome)}); "
                "check the NINO, name and date of birth",
            ),
            reason=code,
        )
    held = answer.unearned_income
    found = pb.HmrcUnearnedIncome(
        tax_year=held.tax_year,
        self_assessment_return_filed=held.self_assessment_return_filed,
        total_annual_pence=held.total_unearned_income_pence,
    )
    found.fetch_time.FromDatetime(clock.now())
    return found


def apply_for(
    *,
    sessions: sessionmaker,
    request: api.ApplyForVariationRequest,
    caller: Caller,
    clock: Clock,
    downstream: Downstream,
) -> pb.Variation:
    """ApplyForVariation: once per request id."""
    with sessions() as s:
        previous = replay(s, request=request, response_type=pb.Variation)
        if previous is not None:
            return previous
        row = case_records.visible_case(s, name=request.parent, caller=caller, field="parent")
        case = case_records.assemble(s, row)
    case_records.ensure_open(case)
    variation = pb.Variation()
    variation.CopyFrom(request.variation)
    for output_only in (
        "name",
        "state",
        "application_date",
        "rejection_reason",
        "explanation",
        "hmrc_unearned_income",
        "other_parent",
        "representations_due_date",
        "representations",
        "representations_time",
        "outcome",
        "agreed_weekly_amount_pence",
        "agreed_annual_amount_pence",
        "effective_date",
        "decided_by",
        "decision_time",
        "change_of_circumstances",
        "correspondence",
        "create_time",
        "update_time",
    ):
        variation.ClearField(output_only)
    if variation.ground not in pb.VariationGround.values():
        raise InvalidArgument.field("variation.ground", "choose a ground for the variation")
    if any(e.kind == pb.EVIDENCE_KIND_UNSPECIFIED for e in variation.evidence):
        raise InvalidArgument.field("variation.evidence", "each item needs its kind")
    variation.applicant = service.applicant_of(case, variation.applicant, caller)
    variation_id = new_id()
    if variation.ground == pb.VARIATION_GROUND_UNEARNED_INCOME:
        variation.hmrc_unearned_income.CopyFrom(
            _unearned_income(
                case,
                variation_name=f"{case.name}/variations/{variation_id}",
                downstream=downstream,
                clock=clock,
            )
        )
    with sessions.begin() as s:
        previous = replay(s, request=request, response_type=pb.Variation)
        if previous is not None:
            return previous
        row = case_records.case_row(s, row.id, lock=True)
        case = case_records.assemble(s, row)
        case_records.ensure_open(case)
        recorded = service.record_application(
            s,
            row=row,
            case=case,
            variation=variation,
            variation_id=variation_id,
            caller=caller,
            clock=clock,
        )
        remember(s, request=request, response=recorded, clock=clock)
        return recorded


def decide(
    *,
    sessions: sessionmaker,
    request: api.DecideVariationRequest,
    caller: Caller,
    clock: Clock,
    downstream: Downstream,
) -> pb.Variation:
    """DecideVariation: the decision (and, when agreed, its verified VARIATION_AGREED change) once per request id;
    then the case's verified changes are applied, which recalculates it from the variation's effective date."""
    with sessions.begin() as s:
        decided = replay(s, request=request, response_type=pb.Variation)
        if decided is None:
            case_row, row, variation = service.decide(
                s, request=request, caller=caller, clock=clock
            )
            if variation.state == pb.VARIATION_STATE_AGREED:
                change = changes.report(
                    s,
                    request=api.ReportChangeOfCircumstancesRequest(
                        request_id=derived_id(variation.name, request.request_id, "change"),
                        parent=f"cases/{case_row.id}",
                        change_of_circumstances=service.agreed_change(variation),
                    ),
                    caller=caller,
                    clock=clock,
                    # One change per variation (the changes table's unique source per case), and a change the feed
                    # applier picks up if applying it below fails.
                    source_event_id=f"variation-{last_id(variation.name)}",
                )
                s.flush()
                changes.verify(
                    s,
                    request=api.VerifyChangeOfCircumstancesRequest(
                        request_id=derived_id(variation.name, request.request_id, "verify"),
                        name=change.name,
                        outcome=api.VERIFICATION_OUTCOME_VERIFIED,
                        evidence=[
                            pb.Evidence(
                                kind=pb.EVIDENCE_KIND_DOCUMENT,
                                description=f"Variation decision {variation.name}",
                            )
                        ],
                    ),
                    caller=caller,
                    clock=clock,
                )
                variation.change_of_circumstances = change.name
            service.finish_decision(
                s, case_row=case_row, row=row, variation=variation, caller=caller, clock=clock
            )
            remember(s, request=request, response=variation, clock=clock)
            decided = variation
    if decided.state == pb.VARIATION_STATE_AGREED and _waiting(
        sessions, decided.change_of_circumstances
    ):
        try:
            change_flows.apply_pending_for_system(
                sessions=sessions,
                parent=decided.name.split("/variations/")[0],
                caller=caller,
                clock=clock,
                downstream=downstream,
            )
        except Conflict:
            # Another pass over the case (the feed applier) kept winning the race to apply its changes: it applies
            # this one too. The decision itself is recorded.
            pass
    return decided


def _waiting(sessions: sessionmaker, change_name: str) -> bool:
    with sessions() as s:
        row = s.get(ChangeRecord, last_id(change_name))
        return row is not None and row.state == pb.ChangeOfCircumstancesState.Name(
            pb.CHANGE_OF_CIRCUMSTANCES_STATE_VERIFIED
        )
