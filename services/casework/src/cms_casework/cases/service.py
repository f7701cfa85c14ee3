"""Cases: an application recorded as a new case (its clients found by NINO or added), read and listed by those who
may see them (each read audited), and watched by a credit reference agency (case surveillance). Keyword-only
functions over an explicit session; the caller's transaction holds the change, its events and its audit entry
together."""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import events_pb2 as ev
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms.cra.v1 import cra_service_pb2 as cra_api
from cms.cra.v1 import resources_pb2 as cra_pb
from cms_platform import outbox
from cms_platform.clock import Clock
from cms_platform.convert import pb_date
from cms_platform.errors import AlreadyExists, PermissionDenied
from cms_platform.identity import Caller
from cms_platform.paging import next_token, page

from ..access import rules as access_rules
from ..access import service as access
from ..case_records import service as case_records
from ..case_records.models import CaseRecord
from ..clients import service as clients
from ..correspondence import service as correspondence
from ..downstream import Downstream, call, call_tolerating
from ..names import id_from, new_id
from . import rules

# -- creating a case -----------------------------------------------------------------------------------------------


def create(db: Session, *, request: api.CreateCaseRequest, caller: Caller, clock: Clock) -> pb.Case:
    today = clock.today()
    rules.check_new_case(request, today)
    payer = clients.find_or_add(db, request.paying_parent, clock)
    receiver = clients.find_or_add(db, request.receiving_parent, clock)
    open_case = db.scalar(
        select(CaseRecord).where(
            CaseRecord.paying_parent_client_id == payer.id,
            CaseRecord.receiving_parent_client_id == receiver.id,
            CaseRecord.state != case_records.CLOSED,
        )
    )
    # One case per paying and receiving parent: more children join it as a change.
    if open_case is not None:
        raise AlreadyExists(
            "case", f"cases/{open_case.id}", "these parents already have an open case"
        )
    applicant_role = request.applicant or pb.APPLICANT_ROLE_RECEIVING_PARENT
    if access_rules.role_of(caller) == access_rules.CLIENT:
        applicant = receiver if applicant_role == pb.APPLICANT_ROLE_RECEIVING_PARENT else payer
        if access_rules.client_id_of(caller) != applicant.id:
            raise PermissionDenied(
                "a client may apply only as themselves", reason="NOT_THE_APPLICANT"
            )
    now = clock.now()
    cid = new_id()
    case = pb.Case(
        name=f"cases/{cid}",
        state=pb.CASE_STATE_APPLICATION,
        workgroup=access_rules.DEFAULT_WORKGROUP,
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
            child.child_id = new_id()[:8]
            for output_only in ("child_benefit", "end_date", "end_reason"):
                child.ClearField(output_only)
            if group == "qualifying_children":
                child.parentage_disputed = False
    case.application_date.CopyFrom(
        request.application_date if request.HasField("application_date") else pb_date(today)
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
    case_records.save(row, case, clock)
    db.add(row)
    outbox.publish(
        db,
        clock=clock,
        key=case.name,
        subject=case.name,
        message=ev.CaseCreated(
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
        case_id=row.id,
        kind=pb.CORRESPONDENCE_KIND_APPLICATION_ACKNOWLEDGEMENT,
        recipient=applicant_client,
        clock=clock,
    )
    access.audit(db, clock=clock, caller=caller, case_id=cid, resource=case.name)
    return case_records.assemble(db, row)


# -- reading -------------------------------------------------------------------------------------------------------


def get(db: Session, *, name: str, caller: Caller, clock: Clock) -> pb.Case:
    row = case_records.visible_case(db, name=name, caller=caller)
    access.audit(db, clock=clock, caller=caller, case_id=row.id, resource=name)
    return case_records.assemble(db, row)


def list_cases(
    db: Session, *, request: api.ListCasesRequest, caller: Caller, clock: Clock
) -> api.ListCasesResponse:
    size, offset = page(request.page_size, request.page_token, maximum=500)
    q = select(CaseRecord)
    if access_rules.role_of(caller) == access_rules.CLIENT:
        me = access_rules.client_id_of(caller)
        q = q.where(
            or_(
                CaseRecord.paying_parent_client_id == me,
                CaseRecord.receiving_parent_client_id == me,
            )
        )
    if not access_rules.sees_sensitive(caller):
        q = q.where(CaseRecord.personal_interest.is_(False))
    if request.state:
        q = q.where(CaseRecord.state == pb.CaseState.Name(request.state))
    if request.workgroup:
        q = q.where(CaseRecord.workgroup == request.workgroup)
    if request.owner:
        q = q.where(CaseRecord.owner == request.owner)
    if request.client:
        client_id = id_from(request.client, "clients", "client")
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
        access.audit(db, clock=clock, caller=caller, case_id=row.id, resource=f"cases/{row.id}")
    return api.ListCasesResponse(
        cases=[case_records.assemble(db, r) for r in rows[:size]],
        next_page_token=next_token(offset + size) if len(rows) > size else "",
    )


# -- case surveillance ---------------------------------------------------------------------------------------------


def record_surveillance(
    db: Session, *, request: api.SetCaseSurveillanceRequest, caller: Caller, clock: Clock
) -> pb.Case:
    review = rules.check_surveillance_request(request, clock.today())
    row = case_records.visible_case(db, name=request.name, caller=caller, lock=True)
    case = case_records.assemble(db, row)
    case_records.ensure_open(case)
    case.case_surveillance.CopyFrom(
        pb.CaseSurveillance(
            active=request.active,
            note=request.note,
            review_date=pb_date(review) if request.active else None,
        )
    )
    case_records.save(row, case, clock)
    access.audit(db, clock=clock, caller=caller, case_id=row.id, resource=request.name)
    return case_records.assemble(db, row)


def surveil_with_agency(
    case: pb.Case, *, request: api.SetCaseSurveillanceRequest, downstream: Downstream
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
    ).case_surveillances
    if not request.active:
        for surveillance in held:
            call_tolerating(
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
                tolerate=("FAILED_PRECONDITION",),
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
    )
