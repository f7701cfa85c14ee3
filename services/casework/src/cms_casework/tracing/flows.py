"""Tracing's actions that ask other bodies: a trace step (CIS, then the credit reference agency, then HMRC's employer
records) and financial data at arrears. Every request made is recorded with its purpose and legal basis
(service.record_request) in the same transaction as what it found. Nothing here logs or echoes a person's details."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cms.casework.v1 import tracing_pb2 as tpb
from cms.casework.v1 import tracing_service_pb2 as api
from cms.common.v1 import types_pb2 as common
from cms.cra.v1 import cra_service_pb2 as cra_api
from cms.cra.v1 import resources_pb2 as cra_pb
from cms.dwp.v1 import dwp_service_pb2 as dwp_api
from cms.dwp.v1 import resources_pb2 as dwp_pb
from cms.hmrc.v1 import hmrc_service_pb2 as hmrc_api
from cms.hmrc.v1 import resources_pb2 as hmrc_pb
from cms_platform.clock import Clock
from cms_platform.identity import Caller

from ..access import service as access
from ..accounts import service as accounts
from ..downstream import Downstream, call, call_tolerating
from ..names import new_id
from . import rules, service

_OUTCOME = {
    common.MATCH_OUTCOME_MATCHED: tpb.INFORMATION_OUTCOME_MATCHED,
    common.MATCH_OUTCOME_PARTIAL: tpb.INFORMATION_OUTCOME_PARTIAL,
    common.MATCH_OUTCOME_NOT_FOUND: tpb.INFORMATION_OUTCOME_NOT_FOUND,
}
_MATCH = {
    common.MATCH_OUTCOME_MATCHED: rules.MATCHED,
    common.MATCH_OUTCOME_PARTIAL: rules.PARTIAL,
    common.MATCH_OUTCOME_NOT_FOUND: rules.UNMATCHED,
}
_STEPS = {
    cra_pb.ENFORCEMENT_ACTION_REGULAR_DEDUCTION_ORDER: tpb.SUGGESTED_COLLECTION_STEP_REGULAR_DEDUCTION_ORDER,
    cra_pb.ENFORCEMENT_ACTION_LUMP_SUM_DEDUCTION_ORDER: tpb.SUGGESTED_COLLECTION_STEP_LUMP_SUM_DEDUCTION_ORDER,
    cra_pb.ENFORCEMENT_ACTION_DEDUCTION_FROM_EARNINGS_ORDER: (
        tpb.SUGGESTED_COLLECTION_STEP_DEDUCTION_FROM_EARNINGS_ORDER
    ),
    cra_pb.ENFORCEMENT_ACTION_CHARGING_ORDER: tpb.SUGGESTED_COLLECTION_STEP_CHARGING_ORDER,
    cra_pb.ENFORCEMENT_ACTION_FURTHER_INVESTIGATION: tpb.SUGGESTED_COLLECTION_STEP_FURTHER_INVESTIGATION,
}


def _place(address: common.Address) -> rules.Place | None:
    if not address.postcode and not address.lines:
        return None
    return rules.Place(
        first_line=address.lines[0] if address.lines else "", postcode=address.postcode
    )


def _outcome(step: rules.StepResult) -> tpb.TraceStepOutcome.ValueType:
    return tpb.TraceStepOutcome.Value(f"TRACE_STEP_OUTCOME_{step.outcome}")


def run_trace_step(
    db: Session,
    *,
    request: api.RunTraceStepRequest,
    caller: Caller,
    clock: Clock,
    downstream: Downstream,
    min_cra_confidence: int,
) -> tpb.Trace:
    """Runs the trace's next method (the one asked for must be it), records the request and what it found."""
    case_row, row = service.visible_trace(db, name=request.name, caller=caller, lock=True)
    trace = service.trace_of(row)
    due = rules.next_method(service.done(trace))
    asked = (
        tpb.TraceMethod.Name(request.method).removeprefix("TRACE_METHOD_")
        if request.method
        else due or rules.CIS
    )
    refused = rules.refusal(asked, service.done(trace))
    if refused == rules.ENDED:
        raise service.precondition(refused, request.name, "the trace has ended")
    if refused == rules.NOT_EXHAUSTED:
        raise service.precondition(
            refused,
            "method",
            "HMRC's employer records may be asked only when every other trace method has found nothing",
        )
    if refused is not None:
        raise service.precondition(refused, "method", f"the next step of this trace is {due}")
    case = service.live_case(db, name=f"cases/{case_row.id}", caller=caller, field="name")[1]
    client_id, client = service.trace_client(case_row, case, trace.client)
    known = _place(client.address)
    step = tpb.TraceStep(method=tpb.TraceMethod.Value(f"TRACE_METHOD_{asked}"))

    def record(
        source: tpb.InformationSource.ValueType,
        operation: str,
        outcome: tpb.InformationOutcome.ValueType,
        reference: str = "",
    ) -> None:
        step.information_request = service.record_request(
            db,
            case_id=case_row.id,
            client_id=client_id,
            source=source,
            operation=operation,
            purpose=tpb.INFORMATION_PURPOSE_TRACE,
            caller=caller,
            outcome=outcome,
            source_reference=reference,
            made_for=trace.name,
            clock=clock,
        ).name

    if asked == rules.CIS:
        person = call_tolerating(
            downstream.dwp.GetPersonRecord,
            dwp_api.GetPersonRecordRequest(
                nino=client.identity.nino, context=dwp_pb.EnquiryContext(case_id=case_row.id)
            ),
            what="dwp-gateway",
            tolerate=("NOT_FOUND",),
        )
        if person is None:
            record(
                tpb.INFORMATION_SOURCE_DWP_CIS,
                "dwp-gateway GetPersonRecord",
                tpb.INFORMATION_OUTCOME_NOT_FOUND,
            )
            found = rules.StepResult(rules.NOT_FOUND, ("NOT_ON_CIS",))
            current: list[common.Address] = []
        else:
            record(
                tpb.INFORMATION_SOURCE_DWP_CIS,
                "dwp-gateway GetPersonRecord",
                tpb.INFORMATION_OUTCOME_MATCHED,
            )
            current = [a.address for a in person.addresses if not a.period.end_date.year]
            places = [_place(a) or rules.Place("", "") for a in current]
            found = rules.assess_cis(restricted=person.restricted, current=places, known=known)
    elif asked == rules.CRA:
        traced = call(
            downstream.cra.TracePerson,
            cra_api.TracePersonRequest(
                legal_basis=cra_pb.LegalBasis(
                    case_reference=case_row.id, purpose=cra_pb.SEARCH_PURPOSE_TRACE
                ),
                person=client.identity,
                last_known_address=client.address,
            ),
            what="cra-gateway",
        )
        record(
            tpb.INFORMATION_SOURCE_CREDIT_REFERENCE_AGENCY,
            "cra-gateway TracePerson",
            _OUTCOME.get(traced.match.outcome, tpb.INFORMATION_OUTCOME_UNSPECIFIED),
            traced.search_reference,
        )
        current = [a.address_link.address for a in traced.addresses]
        found = rules.assess_cra(
            match=_MATCH.get(traced.match.outcome, rules.UNMATCHED),
            addresses=[
                rules.TracedPlace(
                    place=_place(a.address_link.address) or rules.Place("", ""),
                    link=cra_pb.AddressLinkType.Name(a.address_link.link_type).removeprefix(
                        "ADDRESS_LINK_TYPE_"
                    ),
                    confidence_percent=a.confidence_percent,
                    gone_away=a.address_link.gone_away,
                )
                for a in traced.addresses
            ],
            known=known,
            min_confidence=min_cra_confidence,
        )
    else:
        located = call_tolerating(
            downstream.hmrc.LocatePayingParentEmployerRecords,
            hmrc_api.LocatePayingParentEmployerRecordsRequest(
                person=client.identity, context=hmrc_pb.EnquiryContext(case_id=case_row.id)
            ),
            what="hmrc-gateway",
            tolerate=("FAILED_PRECONDITION", "NOT_FOUND"),  # a deceased or restricted record
        )
        if located is None:
            record(
                tpb.INFORMATION_SOURCE_HMRC,
                "hmrc-gateway LocatePayingParentEmployerRecords",
                tpb.INFORMATION_OUTCOME_REFUSED,
            )
            found = rules.StepResult(rules.NOTHING_USABLE, ("REFUSED",))
            current = []
        else:
            record(
                tpb.INFORMATION_SOURCE_HMRC,
                "hmrc-gateway LocatePayingParentEmployerRecords",
                _OUTCOME.get(located.match.outcome, tpb.INFORMATION_OUTCOME_UNSPECIFIED),
            )
            held = (
                _place(located.hmrc_held_address) if located.HasField("hmrc_held_address") else None
            )
            current = [located.hmrc_held_address] if held else []
            found = rules.assess_hmrc(
                match=_MATCH.get(located.match.outcome, rules.UNMATCHED),
                address=held,
                live_employers=[
                    e.employer.name
                    for e in located.employments
                    if not e.end_date.year and e.employer.name
                ],
                known=known,
            )
    step.outcome = _outcome(found)
    step.findings.extend(found.findings)
    if found.address is not None:
        step.address.CopyFrom(current[found.address])
    step.employer_name = found.employer
    trace = service.record_step(db, case_row=case_row, row=row, trace=trace, step=step, clock=clock)
    access.audit(db, clock=clock, caller=caller, case_id=case_row.id, resource=request.name)
    return trace


def obtain_financial_data_at_arrears(
    db: Session,
    *,
    request: api.ObtainFinancialDataAtArrearsRequest,
    caller: Caller,
    clock: Clock,
    downstream: Downstream,
) -> tpb.FinancialDataAssessment:
    """Financial data at arrears for the case's paying parent, stored and assessed; refused without arrears."""
    case_row, case = service.live_case(db, name=request.parent, caller=caller, field="parent")
    arrears = accounts.balances(db, case_id=case_row.id, as_of=clock.today()).arrears
    if arrears <= 0:
        raise service.precondition(
            "NO_ARREARS",
            request.parent,
            "the case has no arrears: financial data at arrears may be sought only to collect arrears",
        )
    obtained = call(
        downstream.cra.GetFinancialDataAtArrears,
        cra_api.GetFinancialDataAtArrearsRequest(
            legal_basis=cra_pb.LegalBasis(
                case_reference=case_row.id, purpose=cra_pb.SEARCH_PURPOSE_ARREARS_COLLECTION
            ),
            person=case.paying_parent.identity,
        ),
        what="cra-gateway",
    )
    assessment_id = new_id()
    name = f"cases/{case_row.id}/financialDataAssessments/{assessment_id}"
    made = service.record_request(
        db,
        case_id=case_row.id,
        client_id=case_row.paying_parent_client_id,
        source=tpb.INFORMATION_SOURCE_CREDIT_REFERENCE_AGENCY,
        operation="cra-gateway GetFinancialDataAtArrears",
        purpose=tpb.INFORMATION_PURPOSE_ARREARS_COLLECTION,
        caller=caller,
        outcome=_OUTCOME.get(obtained.match.outcome, tpb.INFORMATION_OUTCOME_UNSPECIFIED),
        source_reference=obtained.search_reference,
        made_for=name,
        clock=clock,
    )
    leads = [
        tpb.FinancialLead(
            rank=a.assessment.rank,
            kind=tpb.FINANCIAL_LEAD_KIND_CURRENT_ACCOUNT,
            holder_name=a.account.provider_name,
            confidence_percent=a.assessment.confidence_percent,
            suggested_step=_STEPS.get(
                a.assessment.suggested_action, tpb.SUGGESTED_COLLECTION_STEP_UNSPECIFIED
            ),
            reasons=list(a.assessment.reasons),
            balance_pence=a.account.balance_pence,
            average_monthly_credit_turnover_pence=a.account.average_monthly_credit_turnover_pence,
            joint=a.account.holding == cra_pb.ACCOUNT_HOLDING_JOINT,
            source_id=a.account.account_id,
        )
        for a in obtained.account_leads
    ] + [
        tpb.FinancialLead(
            rank=e.assessment.rank,
            kind=tpb.FINANCIAL_LEAD_KIND_EMPLOYMENT,
            holder_name=e.hint.employer_name,
            confidence_percent=e.assessment.confidence_percent,
            suggested_step=_STEPS.get(
                e.assessment.suggested_action, tpb.SUGGESTED_COLLECTION_STEP_UNSPECIFIED
            ),
            reasons=list(e.assessment.reasons),
            source_id=e.hint.hint_id,
        )
        for e in obtained.employment_leads
    ]
    leads.sort(key=lambda lead: lead.rank)
    best = rules.recommended_step(
        [
            rules.Lead(
                rank=lead.rank,
                step=tpb.SuggestedCollectionStep.Name(lead.suggested_step).removeprefix(
                    "SUGGESTED_COLLECTION_STEP_"
                ),
            )
            for lead in leads
        ],
        list(obtained.cautions),
    )
    assessment = tpb.FinancialDataAssessment(
        name=name,
        client=f"clients/{case_row.paying_parent_client_id}",
        arrears_pence=arrears,
        match_outcome=obtained.match.outcome,
        leads=leads,
        recommended_step=(
            tpb.SuggestedCollectionStep.Value(f"SUGGESTED_COLLECTION_STEP_{best}")
            if best
            else tpb.SUGGESTED_COLLECTION_STEP_UNSPECIFIED
        ),
        cautions=list(obtained.cautions),
        information_request=made.name,
        requested_by=service.who(caller),
    )
    assessment.create_time.FromDatetime(clock.now())
    service.save_assessment(
        db,
        case_id=case_row.id,
        assessment_id=assessment_id,
        assessment=assessment,
        obtained=obtained,
        clock=clock,
    )
    access.audit(db, clock=clock, caller=caller, case_id=case_row.id, resource=name)
    return assessment
