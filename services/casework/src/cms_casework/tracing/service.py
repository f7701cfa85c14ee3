"""Tracing's tables, keyword-only functions over an explicit session: traces and their steps, financial data
assessments, and the append-only record of every request for information with the power it relied on
(docs/domain/money.md "Finding people and money"). Each change publishes its event (money_events.proto, "Tracing",
keyed by the case) in the caller's transaction. The requests to other bodies are made by tracing.flows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from google.protobuf.message import Message
from sqlalchemy import select
from sqlalchemy.orm import Session

from cms.casework.v1 import money_events_pb2 as ev
from cms.casework.v1 import resources_pb2 as pb
from cms.casework.v1 import tracing_pb2 as tpb
from cms.casework.v1 import tracing_service_pb2 as api
from cms_platform import outbox
from cms_platform.clock import Clock
from cms_platform.db import one_page
from cms_platform.errors import FailedPrecondition, InvalidArgument, PreconditionViolation
from cms_platform.identity import Caller

from ..access import service as access
from ..case_records import service as case_records
from ..names import new_id
from ..service_requests import service as srs
from . import rules
from .models import FinancialDataAssessmentRecord, InformationRequestRecord, TraceRecord

if TYPE_CHECKING:  # the row's type only: its table is case_records' own
    from ..case_records.models import CaseRecord

PROCESS, AREA, EXHAUSTED_SR = "Case Maintenance", "Tracing", "Trace Exhausted"

IN_PROGRESS = tpb.TraceState.Name(tpb.TRACE_STATE_IN_PROGRESS)


def precondition(code: str, subject: str, description: str) -> FailedPrecondition:
    return FailedPrecondition(PreconditionViolation(code, subject, description), reason=code)


def publish(db: Session, *, case_id: str, message: Message, clock: Clock) -> None:
    name = f"cases/{case_id}"
    outbox.publish(db, clock=clock, key=name, subject=name, message=message)


def who(caller: Caller) -> str:
    """The caller as the record names them: `staff:{staff_id}` or `service:{name}` (no role, no personal data)."""
    return f"{caller.kind}:{caller.subject}"


def live_case(db: Session, *, name: str, caller: Caller, field: str) -> tuple[CaseRecord, pb.Case]:
    row = case_records.visible_case(db, name=name, caller=caller, field=field, lock=True)
    case = case_records.assemble(db, row)
    case_records.ensure_open(case)
    return row, case


def trace_client(row: CaseRecord, case: pb.Case, client: str) -> tuple[str, pb.Client]:
    """(client id, client) of the client a trace is for: the paying parent unless the receiving parent is named."""
    if not client or client == f"clients/{row.paying_parent_client_id}":
        return row.paying_parent_client_id, case.paying_parent
    if client == f"clients/{row.receiving_parent_client_id}":
        return row.receiving_parent_client_id, case.receiving_parent
    raise InvalidArgument.field("client", "must be one of the case's parents")


# -- the record of requests for information ------------------------------------------------------------------------


def record_request(
    db: Session,
    *,
    case_id: str,
    client_id: str,
    source: tpb.InformationSource.ValueType,
    operation: str,
    purpose: tpb.InformationPurpose.ValueType,
    caller: Caller,
    outcome: tpb.InformationOutcome.ValueType,
    source_reference: str,
    made_for: str,
    clock: Clock,
) -> tpb.InformationRequest:
    """Records one request made to another body, with the power it relied on (rules.LEGAL_BASIS)."""
    request_id = new_id()
    request = tpb.InformationRequest(
        name=f"cases/{case_id}/informationRequests/{request_id}",
        source=source,
        operation=operation,
        purpose=purpose,
        legal_basis=rules.legal_basis(
            tpb.InformationSource.Name(source).removeprefix("INFORMATION_SOURCE_")
        ),
        requested_by=who(caller),
        outcome=outcome,
        source_reference=source_reference,
        client=f"clients/{client_id}",
        made_for=made_for,
    )
    request.request_time.FromDatetime(clock.now())
    db.add(
        InformationRequestRecord(
            id=request_id,
            case_id=case_id,
            document=request.SerializeToString(),
            created_at=clock.now(),
        )
    )
    return request


def list_information_requests(
    db: Session, *, case_id: str, size: int, offset: int
) -> tuple[list[tpb.InformationRequest], bool]:
    rows, more = one_page(
        db,
        select(InformationRequestRecord)
        .where(InformationRequestRecord.case_id == case_id)
        .order_by(InformationRequestRecord.seq.desc()),
        size=size,
        offset=offset,
    )
    return [tpb.InformationRequest.FromString(r.document) for r in rows], more


# -- traces ----------------------------------------------------------------------------------------------------------


def trace_of(row: TraceRecord) -> tpb.Trace:
    return tpb.Trace.FromString(row.document)


def save_trace(row: TraceRecord, trace: tpb.Trace, clock: Clock) -> None:
    trace.update_time.FromDatetime(clock.now())
    row.state = tpb.TraceState.Name(trace.state)
    row.document, row.updated_at = trace.SerializeToString(), clock.now()


def done(trace: tpb.Trace) -> list[tuple[str, str]]:
    """The trace's steps so far as the rules see them: (method, outcome)."""
    return [
        (
            tpb.TraceMethod.Name(s.method).removeprefix("TRACE_METHOD_"),
            tpb.TraceStepOutcome.Name(s.outcome).removeprefix("TRACE_STEP_OUTCOME_"),
        )
        for s in trace.steps
    ]


def next_method(trace: tpb.Trace) -> tpb.TraceMethod.ValueType:
    method = rules.next_method(done(trace))
    return (
        tpb.TraceMethod.Value(f"TRACE_METHOD_{method}") if method else tpb.TRACE_METHOD_UNSPECIFIED
    )


def start_trace(
    db: Session, *, request: api.StartTraceRequest, caller: Caller, clock: Clock
) -> tpb.Trace:
    if not request.reason.strip():
        raise InvalidArgument.field("reason", "say why the client's whereabouts are unknown")
    row, case = live_case(db, name=request.parent, caller=caller, field="parent")
    client_id, _ = trace_client(row, case, request.client)
    running = db.scalars(
        select(TraceRecord.id).where(
            TraceRecord.case_id == row.id,
            TraceRecord.client_id == client_id,
            TraceRecord.state == IN_PROGRESS,
        )
    ).first()
    if running is not None:
        raise precondition(
            "TRACE_IN_PROGRESS",
            f"cases/{row.id}/traces/{running}",
            "a trace of this client on this case is in progress: run its next step",
        )
    trace_id = new_id()
    trace = tpb.Trace(
        name=f"cases/{row.id}/traces/{trace_id}",
        client=f"clients/{client_id}",
        state=tpb.TRACE_STATE_IN_PROGRESS,
        reason=request.reason,
        next_method=tpb.TRACE_METHOD_CIS_ADDRESS,
        started_by=who(caller),
    )
    trace.create_time.FromDatetime(clock.now())
    trace_row = TraceRecord(
        id=trace_id, case_id=row.id, client_id=client_id, created_at=clock.now()
    )
    save_trace(trace_row, trace, clock)
    db.add(trace_row)
    publish(
        db,
        case_id=row.id,
        message=ev.TraceStarted(case_id=row.id, trace_id=trace_id, client_id=client_id),
        clock=clock,
    )
    access.audit(db, clock=clock, caller=caller, case_id=row.id, resource=trace.name)
    return trace


def visible_trace(
    db: Session, *, name: str, caller: Caller, lock: bool = False
) -> tuple[CaseRecord, TraceRecord]:
    return case_records.visible_child(
        db,
        name=name,
        collection="traces",
        model=TraceRecord,
        what="trace",
        caller=caller,
        lock=lock,
    )


def record_step(
    db: Session,
    *,
    case_row: CaseRecord,
    row: TraceRecord,
    trace: tpb.Trace,
    step: tpb.TraceStep,
    clock: Clock,
) -> tpb.Trace:
    """Adds a step the flow ran to the trace; a find ends it FOUND, the last method finding nothing ends it EXHAUSTED
    with a service request for a caseworker."""
    step.complete_time.FromDatetime(clock.now())
    trace.steps.append(step)
    trace.next_method = next_method(trace)
    publish(
        db,
        case_id=row.case_id,
        message=ev.TraceStepCompleted(
            case_id=row.case_id,
            trace_id=row.id,
            method=step.method,
            outcome=step.outcome,
            information_request_id=step.information_request.rsplit("/", 1)[-1],
        ),
        clock=clock,
    )
    if trace.next_method == tpb.TRACE_METHOD_UNSPECIFIED:
        if step.outcome == tpb.TRACE_STEP_OUTCOME_FOUND:
            trace.state, trace.found_by = tpb.TRACE_STATE_FOUND, step.method
        else:
            trace.state = tpb.TRACE_STATE_EXHAUSTED
            _, sr = srs.raise_sr(
                db,
                case_row=case_row,
                process=PROCESS,
                area=AREA,
                sub_area=EXHAUSTED_SR,
                description=(
                    "Every trace method (CIS, credit reference agency, HMRC employer records) found nothing "
                    f"usable for {trace.client}: decide what to do next ({trace.name})."
                ),
                origin=pb.SERVICE_REQUEST_ORIGIN_SYSTEM,
                clock=clock,
            )
            trace.service_request = sr.name
        publish(
            db,
            case_id=row.case_id,
            message=ev.TraceEnded(
                case_id=row.case_id,
                trace_id=row.id,
                state=trace.state,
                found_by=trace.found_by,
                service_request=trace.service_request,
            ),
            clock=clock,
        )
    save_trace(row, trace, clock)
    return trace


def get_trace(db: Session, *, name: str, caller: Caller, clock: Clock) -> tpb.Trace:
    case_row, row = visible_trace(db, name=name, caller=caller)
    access.audit(db, clock=clock, caller=caller, case_id=case_row.id, resource=name)
    return trace_of(row)


def list_traces(
    db: Session, *, case_id: str, size: int, offset: int
) -> tuple[list[tpb.Trace], bool]:
    rows, more = one_page(
        db,
        select(TraceRecord)
        .where(TraceRecord.case_id == case_id)
        .order_by(TraceRecord.created_at.desc(), TraceRecord.id),
        size=size,
        offset=offset,
    )
    return [trace_of(r) for r in rows], more


# -- financial data assessments ------------------------------------------------------------------------------------


def save_assessment(
    db: Session,
    *,
    case_id: str,
    assessment_id: str,
    assessment: tpb.FinancialDataAssessment,
    obtained: Message,
    clock: Clock,
) -> None:
    db.add(
        FinancialDataAssessmentRecord(
            id=assessment_id,
            case_id=case_id,
            document=assessment.SerializeToString(),
            obtained=obtained.SerializeToString(),
            created_at=clock.now(),
        )
    )
    publish(
        db,
        case_id=case_id,
        message=ev.FinancialDataAtArrearsObtained(
            case_id=case_id,
            financial_data_assessment_id=assessment_id,
            arrears_pence=assessment.arrears_pence,
            lead_count=len(assessment.leads),
            recommended_step=assessment.recommended_step,
            information_request_id=assessment.information_request.rsplit("/", 1)[-1],
        ),
        clock=clock,
    )


def get_assessment(
    db: Session, *, name: str, caller: Caller, clock: Clock
) -> tpb.FinancialDataAssessment:
    _, row = case_records.read_child(
        db,
        name=name,
        collection="financialDataAssessments",
        model=FinancialDataAssessmentRecord,
        what="financial data assessment",
        caller=caller,
        clock=clock,
    )
    return tpb.FinancialDataAssessment.FromString(row.document)
