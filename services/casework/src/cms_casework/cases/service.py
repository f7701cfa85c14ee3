"""Cases and their clients: recording an application, reading and listing cases, closing, routing (personal
interest) and case surveillance. Keyword-only functions over an explicit session; the caller's transaction holds
the change, its events and its audit entry together."""

from __future__ import annotations

import datetime as dt
import uuid

import grpc
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import events_pb2 as ev
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms.cra.v1 import cra_service_pb2 as cra_api
from cms.cra.v1 import resources_pb2 as cra_pb
from cms_platform.clock import Clock
from cms_platform.convert import date_or_violation
from cms_platform.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    PreconditionViolation,
    ViolationCollector,
)
from cms_platform.events import event_type
from cms_platform.identity import Caller
from cms_platform.paging import page

from .. import access, correspondence, store
from ..downstream import call
from ..models import CaseRecord, ClientRecord, PaymentPlanRecord, ServiceRequestRecord
from ..store import TOPIC  # noqa: F401 - the event topic other suites import from here
from . import rules

CASE_CALCULATED = event_type(ev.CaseCalculated)
_OPEN_SR = (
    "SERVICE_REQUEST_STATUS_OPEN",
    "SERVICE_REQUEST_STATUS_IN_PROGRESS",
    "SERVICE_REQUEST_STATUS_PENDING",
)


def case_id(name: str, field: str = "name") -> str:
    return store.id_from(name, "cases", field)


# -- creating a case -----------------------------------------------------------------------------------------------


def _client_for(db: Session, given: pb.Client, clock: Clock) -> ClientRecord:
    """The client with this NINO, reused as it is (differing details are a change of circumstances), or a new one."""
    nino = rules.normalise_nino(given.identity.nino)
    row = store.client_by_nino(db, nino)
    if row is not None:
        return row
    client = pb.Client()
    client.CopyFrom(given)
    client_id = store.new_id()
    client.name = f"clients/{client_id}"
    client.identity.nino = nino
    for output_only in (
        "representatives",
        "potentially_violent_status",
        "contact_suppressed",
        "date_of_death",
        "resident_outside_uk",
        "employment_and_income",
        "benefits",
    ):
        client.ClearField(output_only)
    # The answer is checked by whoever takes a call; the document only says one is held.
    client.security_details.security_answer_set = bool(client.security_details.security_answer)
    client.security_details.security_answer = ""
    now = clock.now()
    row = ClientRecord(id=client_id, nino=nino, document=b"", created_at=now, updated_at=now)
    store.save_client(row, client, clock)
    db.add(row)
    db.flush()
    return row


def create(db: Session, *, request: api.CreateCaseRequest, caller: Caller, clock: Clock) -> pb.Case:
    today = clock.today()
    rules.check_new_case(request, today)
    payer = _client_for(db, request.paying_parent, clock)
    receiver = _client_for(db, request.receiving_parent, clock)
    open_case = db.scalar(
        select(CaseRecord).where(
            CaseRecord.paying_parent_client_id == payer.id,
            CaseRecord.receiving_parent_client_id == receiver.id,
            CaseRecord.state != "CASE_STATE_CLOSED",
        )
    )
    if (
        open_case is not None
    ):  # one case per paying and receiving parent: more children join it as a change
        raise AlreadyExists(
            "case", f"cases/{open_case.id}", "these parents already have an open case"
        )
    applicant_role = request.applicant or pb.APPLICANT_ROLE_RECEIVING_PARENT
    if access.role_of(caller) == access.CLIENT:
        applicant = receiver if applicant_role == pb.APPLICANT_ROLE_RECEIVING_PARENT else payer
        if access.client_id_of(caller) != applicant.id:
            raise PermissionDenied(
                "a client may apply only as themselves", reason="NOT_THE_APPLICANT"
            )
    now = clock.now()
    cid = store.new_id()
    case = pb.Case(
        name=f"cases/{cid}",
        state=pb.CASE_STATE_APPLICATION,
        workgroup=access.DEFAULT_WORKGROUP,
        service_type=request.service_type or pb.SERVICE_TYPE_DIRECT_PAY,
        payment_frequency=request.payment_frequency or common.PAYMENT_FREQUENCY_MONTHLY,
        method_of_payment_from=request.method_of_payment_from,
        method_of_payment_to=request.method_of_payment_to,
        applicant=applicant_role,
    )
    case.paying_parent.name, case.receiving_parent.name = (
        f"clients/{payer.id}",
        f"clients/{receiver.id}",
    )
    for group in (
        "qualifying_children",
        "relevant_other_children",
        "children_in_family_based_arrangements",
    ):
        for given in getattr(request, group):
            child = getattr(case, group).add()
            child.CopyFrom(given)
            child.child_id = store.new_id()[:8]
            for output_only in ("child_benefit", "end_date", "end_reason"):
                child.ClearField(output_only)
            if group == "qualifying_children":
                child.parentage_disputed = False
    case.application_date.CopyFrom(
        request.application_date if request.HasField("application_date") else store.pb_date(today)
    )
    case.create_time.FromDatetime(now)
    row = CaseRecord(
        id=cid,
        state="",
        paying_parent_nino=payer.nino,
        paying_parent_client_id=payer.id,
        receiving_parent_client_id=receiver.id,
        document=b"",
        created_at=now,
        updated_at=now,
    )
    store.save_case(row, case, clock)
    db.add(row)
    store.publish(
        db,
        clock,
        case.name,
        ev.CaseCreated(
            case_id=cid,
            paying_parent_nino=payer.nino,
            paying_parent=case.paying_parent.name,
            receiving_parent=case.receiving_parent.name,
            qualifying_child_count=len(case.qualifying_children),
            application_date=case.application_date,
            applicant=case.applicant,
            service_type=case.service_type,
            payment_frequency=case.payment_frequency,
        ),
    )
    applicant_client = (
        case.receiving_parent.name
        if applicant_role == pb.APPLICANT_ROLE_RECEIVING_PARENT
        else case.paying_parent.name
    )
    correspondence.schedule(
        db,
        case_row=row,
        kind=pb.CORRESPONDENCE_KIND_APPLICATION_ACKNOWLEDGEMENT,
        recipient=applicant_client,
        clock=clock,
    )
    access.audit(
        db,
        clock=clock,
        caller=caller,
        method="CreateCase",
        case_id=cid,
        resource=case.name,
        permitted=True,
    )
    return store.assemble(db, row)


# -- reading -------------------------------------------------------------------------------------------------------


def visible_row(
    db: Session,
    *,
    name: str,
    caller: Caller,
    method: str,
    clock: Clock,
    field: str = "name",
    lock: bool = False,
) -> CaseRecord:
    """The case row if the caller may see it; else NOT_FOUND (HiddenCase, which the servicer audits as refused in
    its own transaction, since this one rolls back)."""
    row = store.case_row(db, case_id(name, field), lock=lock)
    if not access.visible(caller, row):
        raise access.HiddenCase(row.id, name)
    return row


def visible_child(
    db: Session,
    *,
    name: str,
    collection: str,
    model,
    what: str,
    caller: Caller,
    method: str,
    clock: Clock,
    lock: bool = False,
):
    """(case row, item row) for `cases/{case_id}/{collection}/{id}` if the caller may see the case; else NOT_FOUND."""
    case_id, item_id = store.child_of(name, collection, "name")
    case_row = visible_row(
        db, name=f"cases/{case_id}", caller=caller, method=method, clock=clock, lock=lock
    )
    row = db.get(model, item_id, with_for_update=lock)
    if row is None or row.case_id != case_id:
        raise NotFound(what, name)
    return case_row, row


def get(db: Session, *, name: str, caller: Caller, clock: Clock) -> pb.Case:
    row = visible_row(db, name=name, caller=caller, method="GetCase", clock=clock)
    access.audit(
        db,
        clock=clock,
        caller=caller,
        method="GetCase",
        case_id=row.id,
        resource=name,
        permitted=True,
    )
    return store.assemble(db, row)


def list_cases(
    db: Session, *, request: api.ListCasesRequest, caller: Caller, clock: Clock
) -> api.ListCasesResponse:
    size, offset = page(request.page_size, request.page_token, maximum=500)
    q = select(CaseRecord)
    role = access.role_of(caller)
    if role == access.CLIENT:
        me = access.client_id_of(caller)
        q = q.where(
            or_(
                CaseRecord.paying_parent_client_id == me,
                CaseRecord.receiving_parent_client_id == me,
            )
        )
    if role not in (access.SENSITIVE, access.SERVICE):
        q = q.where(CaseRecord.personal_interest.is_(False))
    if request.state:
        q = q.where(CaseRecord.state == pb.CaseState.Name(request.state))
    if request.workgroup:
        q = q.where(CaseRecord.workgroup == request.workgroup)
    if request.owner:
        q = q.where(CaseRecord.owner == request.owner)
    if request.client:
        client_id = store.id_from(request.client, "clients", "client")
        q = q.where(
            or_(
                CaseRecord.paying_parent_client_id == client_id,
                CaseRecord.receiving_parent_client_id == client_id,
            )
        )
    if request.paying_parent_nino:
        q = q.where(
            CaseRecord.paying_parent_nino == rules.normalise_nino(request.paying_parent_nino)
        )
    rows = db.scalars(
        q.order_by(CaseRecord.created_at.desc(), CaseRecord.id).offset(offset).limit(size + 1)
    ).all()
    for row in rows[:size]:
        access.audit(
            db,
            clock=clock,
            caller=caller,
            method="ListCases",
            case_id=row.id,
            resource=f"cases/{row.id}",
            permitted=True,
        )
    return api.ListCasesResponse(
        cases=[store.assemble(db, r) for r in rows[:size]],
        next_page_token=str(offset + size) if len(rows) > size else "",
    )


# -- closing, routing, surveillance --------------------------------------------------------------------------------


def _not_closed(case: pb.Case) -> None:
    if case.state == pb.CASE_STATE_CLOSED:
        raise FailedPrecondition(
            PreconditionViolation("CASE_CLOSED", case.name, "the case is closed"),
            reason="CASE_CLOSED",
        )


def close_case(
    db: Session,
    *,
    row: CaseRecord,
    case: pb.Case,
    reason: int,
    effective: dt.date,
    note: str,
    clock: Clock,
    change: str = "",
) -> list[str]:
    """Close a case: children leave it, outstanding SRs close as Not Required, the payment plan ends, both parents
    are told. Returns the SRs closed."""
    _not_closed(case)
    case.state = pb.CASE_STATE_CLOSED
    case.closure.CopyFrom(
        pb.CaseClosure(
            reason=reason,
            effective_date=store.pb_date(effective),
            note=note,
            change_of_circumstances=change,
        )
    )
    for group in (
        case.qualifying_children,
        case.relevant_other_children,
        case.children_in_family_based_arrangements,
    ):
        for child in group:
            if not child.end_date.year:
                child.end_date.CopyFrom(store.pb_date(effective))
                child.end_reason = pb.CHILD_END_REASON_CASE_CLOSED
    from ..changes import service as changes  # both need cases; importing here breaks the cycle
    from ..service_requests import service as srs

    if not change:  # closed on request: changes still pending have nothing left to act on
        changes.withdraw_pending(db, case_id=row.id, clock=clock)
    closed = []
    for sr in db.scalars(
        select(ServiceRequestRecord).where(
            ServiceRequestRecord.case_id == row.id, ServiceRequestRecord.status.in_(_OPEN_SR)
        )
    ):
        if change and srs.document(sr).change_of_circumstances == change:
            continue  # the closing change's own SR is completed by the change
        srs.close_not_required(db, row=sr, clock=clock, note="case closed")
        closed.append(sr.id)
    for plan in db.scalars(
        select(PaymentPlanRecord).where(
            PaymentPlanRecord.case_id == row.id,
            PaymentPlanRecord.state == "PAYMENT_PLAN_STATE_CURRENT",
        )
    ):
        document = pb.PaymentPlan.FromString(plan.document)
        document.state = pb.PAYMENT_PLAN_STATE_SUPERSEDED
        plan.state, plan.document = "PAYMENT_PLAN_STATE_SUPERSEDED", document.SerializeToString()
    store.save_case(row, case, clock)
    store.publish(
        db,
        clock,
        case.name,
        ev.CaseClosed(
            case_id=row.id,
            reason=reason,
            effective_date=store.pb_date(effective),
            paying_parent_nino=row.paying_parent_nino,
        ),
    )
    for recipient in (case.paying_parent.name, case.receiving_parent.name):
        correspondence.schedule(
            db,
            case_row=row,
            kind=pb.CORRESPONDENCE_KIND_CASE_CLOSURE_NOTICE,
            recipient=recipient,
            clock=clock,
        )
    return closed


def close(db: Session, *, request: api.CloseCaseRequest, caller: Caller, clock: Clock) -> pb.Case:
    v = ViolationCollector()
    effective = (
        date_or_violation(request.effective_date, "effective_date", v, required=False)
        or clock.today()
    )
    if request.reason not in pb.CaseClosureReason.values() or not request.reason:
        v.add("reason", "choose why the case closes")
    v.raise_if_any()
    row = visible_row(
        db, name=request.name, caller=caller, method="CloseCase", clock=clock, lock=True
    )
    case = store.assemble(db, row)
    close_case(
        db,
        row=row,
        case=case,
        reason=request.reason,
        effective=effective,
        note=request.note,
        clock=clock,
    )
    access.audit(
        db,
        clock=clock,
        caller=caller,
        method="CloseCase",
        case_id=row.id,
        resource=request.name,
        permitted=True,
    )
    return store.assemble(db, row)


def set_personal_interest(
    db: Session, *, request: api.SetPersonalInterestRequest, caller: Caller, clock: Clock
) -> pb.Case:
    row = visible_row(
        db, name=request.name, caller=caller, method="SetPersonalInterest", clock=clock, lock=True
    )
    case = store.assemble(db, row)
    if (
        not request.personal_interest
        and case.personal_interest
        and access.role_of(caller) != access.SENSITIVE
    ):
        raise PermissionDenied(
            "only the sensitive-case workgroup may clear the personal-interest flag",
            reason="SENSITIVE_WORKGROUP_ONLY",
        )
    case.personal_interest = request.personal_interest
    case.workgroup = (
        access.SENSITIVE_WORKGROUP if request.personal_interest else access.DEFAULT_WORKGROUP
    )
    case.owner = ""
    # Its service requests follow it, so no one outside the workgroup sees work on it either.
    for sr in db.scalars(
        select(ServiceRequestRecord).where(ServiceRequestRecord.case_id == row.id)
    ):
        document = pb.ServiceRequest.FromString(sr.document)
        document.workgroup, document.owner = case.workgroup, ""
        sr.workgroup, sr.owner, sr.document = case.workgroup, "", document.SerializeToString()
    store.save_case(row, case, clock)
    access.audit(
        db,
        clock=clock,
        caller=caller,
        method="SetPersonalInterest",
        case_id=row.id,
        resource=request.name,
        permitted=True,
    )
    return store.assemble(db, row)


def check_surveillance_request(
    request: api.SetCaseSurveillanceRequest, today: dt.date
) -> dt.date | None:
    v = ViolationCollector()
    review = date_or_violation(request.review_date, "review_date", v, required=request.active)
    v.raise_if_any()
    if request.active and review <= today:
        raise InvalidArgument.field("review_date", "must be after today")
    return review


def set_surveillance(
    db: Session, *, request: api.SetCaseSurveillanceRequest, caller: Caller, clock: Clock
) -> pb.Case:
    review = check_surveillance_request(request, clock.today())
    row = visible_row(
        db, name=request.name, caller=caller, method="SetCaseSurveillance", clock=clock, lock=True
    )
    case = store.assemble(db, row)
    _not_closed(case)
    case.case_surveillance.CopyFrom(
        pb.CaseSurveillance(
            active=request.active,
            note=request.note,
            review_date=store.pb_date(review) if request.active else None,
        )
    )
    store.save_case(row, case, clock)
    access.audit(
        db,
        clock=clock,
        caller=caller,
        method="SetCaseSurveillance",
        case_id=row.id,
        resource=request.name,
        permitted=True,
    )
    return store.assemble(db, row)


def surveil_with_agency(
    case: pb.Case, *, request: api.SetCaseSurveillanceRequest, downstream, context=None
) -> None:
    """Start (or stop) CRA Case Surveillance of the paying parent for this case. Idempotent: a surveillance the agency
    already holds for the case is kept (rescheduled to the new review date), and stopping stops what it holds."""
    basis = cra_pb.LegalBasis(
        case_reference=case.name.removeprefix("cases/"),
        purpose=cra_pb.SEARCH_PURPOSE_CASE_SURVEILLANCE,
    )
    held = call(
        downstream.cra.ListCaseSurveillances,
        cra_api.ListCaseSurveillancesRequest(legal_basis=basis),
        what="cra-gateway",
        context=context,
    ).case_surveillances
    if not request.active:
        for surveillance in held:
            call(
                downstream.cra.StopCaseSurveillance,
                cra_api.StopCaseSurveillanceRequest(
                    request_id=str(
                        uuid.uuid5(
                            uuid.NAMESPACE_URL,
                            f"{request.request_id}/{surveillance.surveillance_id}",
                        )
                    ),
                    legal_basis=basis,
                    surveillance_id=surveillance.surveillance_id,
                    reason=cra_pb.SURVEILLANCE_STOP_REASON_NO_LONGER_REQUIRED,
                ),
                what="cra-gateway",
                context=context,
                tolerate=(grpc.StatusCode.FAILED_PRECONDITION,),
            )  # already stopped
        return
    if request.review_date.year and held:
        call(
            downstream.cra.RescheduleCaseSurveillanceReview,
            cra_api.RescheduleCaseSurveillanceReviewRequest(
                request_id=str(uuid.uuid5(uuid.NAMESPACE_URL, request.request_id)),
                legal_basis=basis,
                surveillance_id=held[0].surveillance_id,
                review_date=request.review_date,
            ),
            what="cra-gateway",
            context=context,
        )
        return
    call(
        downstream.cra.StartCaseSurveillance,
        cra_api.StartCaseSurveillanceRequest(
            request_id=str(uuid.uuid5(uuid.NAMESPACE_URL, request.request_id)),
            legal_basis=basis,
            person=case.paying_parent.identity,
            review_date=request.review_date,
        ),
        what="cra-gateway",
        context=context,
    )
