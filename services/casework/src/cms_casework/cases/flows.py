"""Actions on a case that reach what hangs off it: closing it on request (its pending changes are withdrawn, its
open service requests close as Not Required, its payment plan is superseded, both parents are told), routing it for
a personal interest (its service requests follow it into the sensitive-case workgroup), and case surveillance
(the agency is asked first, outside any transaction, then the case records it)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session, sessionmaker

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import resources_pb2 as pb
from cms_platform.clock import Clock
from cms_platform.convert import date_or_violation
from cms_platform.errors import PermissionDenied, ViolationCollector
from cms_platform.idempotency import replay, run_idempotent
from cms_platform.identity import Caller

from ..access import rules as access_rules
from ..access import service as access
from ..calculations import flows as recording
from ..case_records import service as case_records
from ..changes import service as changes
from ..downstream import Downstream
from ..liability import service as liability
from ..payment_plans import service as payment_plans
from ..service_requests import service as srs
from . import rules, service


def _closure_date(request: api.CloseCaseRequest, clock: Clock) -> dt.date:
    v = ViolationCollector()
    effective = (
        date_or_violation(request.effective_date, "effective_date", v, required=False)
        or clock.today()
    )
    if request.reason not in pb.CaseClosureReason.values() or not request.reason:
        v.add("reason", "choose why the case closes")
    v.raise_if_any()
    return effective


def close_case(
    *,
    sessions: sessionmaker,
    request: api.CloseCaseRequest,
    caller: Caller,
    clock: Clock,
    downstream: Downstream,
) -> pb.Case:
    """CloseCase, once per request id: the paying parent's other live cases are calculated again from the closure
    date (outside any transaction, under request ids derived from this one), then the closure and those calculations
    are recorded in one transaction."""
    with sessions() as s:
        previous = replay(s, request=request, response_type=pb.Case)
        if previous is not None:
            return previous
        effective = _closure_date(request, clock)
        row = case_records.visible_case(s, name=request.name, caller=caller)
        case_records.ensure_open(case_records.assemble(s, row))
        case_id = row.id
    after = recording.gather_after_closure(
        sessions,
        closing=case_id,
        on=effective,
        request_id=request.request_id,
        downstream=downstream,
    )
    return run_idempotent(
        sessions,
        request=request,
        response_type=pb.Case,
        clock=clock,
        execute=lambda s: close(s, request=request, caller=caller, clock=clock, after=after),
    )


def close(
    db: Session,
    *,
    request: api.CloseCaseRequest,
    caller: Caller,
    clock: Clock,
    after: recording.AfterClosure | None = None,
) -> pb.Case:
    """Closing: changes still pending have nothing left to act on, and the case's other work is not required; the
    paying parent's other live cases take the calculation from the closure date worked out for them (`after`), since
    one calculation covers all their live cases (Sch 1 para 6 to the Child Support Act 1991)."""
    effective = _closure_date(request, clock)
    row = case_records.visible_case(db, name=request.name, caller=caller, lock=True)
    case = case_records.assemble(db, row)
    case_records.ensure_open(case)
    recording.ensure_unchanged(db, after)
    changes.withdraw_pending(db, case_id=row.id, clock=clock)
    srs.close_open(db, case_id=row.id, clock=clock)
    payment_plans.supersede_current(db, case_id=row.id)
    liability.end_timeline(db, case_id=row.id, on=effective, clock=clock)
    case_records.close(
        db,
        row=row,
        case=case,
        reason=request.reason,
        effective=effective,
        note=request.note,
        clock=clock,
    )
    recording.record_after_closure(db, after, clock=clock)
    access.audit(db, clock=clock, caller=caller, case_id=row.id, resource=request.name)
    return case_records.assemble(db, row)


def set_personal_interest(
    db: Session, *, request: api.SetPersonalInterestRequest, caller: Caller, clock: Clock
) -> pb.Case:
    row = case_records.visible_case(db, name=request.name, caller=caller, lock=True)
    case = case_records.assemble(db, row)
    if (
        not request.personal_interest
        and case.personal_interest
        and access_rules.role_of(caller) != access_rules.SENSITIVE
    ):
        raise PermissionDenied(
            "only the sensitive-case workgroup may clear the personal-interest flag",
            reason="SENSITIVE_WORKGROUP_ONLY",
        )
    case.personal_interest = request.personal_interest
    case.workgroup = (
        access_rules.SENSITIVE_WORKGROUP
        if request.personal_interest
        else access_rules.DEFAULT_WORKGROUP
    )
    case.owner = ""
    # Its service requests follow it, so no one outside the workgroup sees work on it either.
    srs.follow_workgroup(db, case_id=row.id, workgroup=case.workgroup)
    case_records.save(row, case, clock)
    access.audit(db, clock=clock, caller=caller, case_id=row.id, resource=request.name)
    return case_records.assemble(db, row)


def set_surveillance(
    *,
    sessions: sessionmaker,
    request: api.SetCaseSurveillanceRequest,
    caller: Caller,
    clock: Clock,
    downstream: Downstream,
) -> pb.Case:
    """SetCaseSurveillance: the agency watches the paying parent's credit file (its alerts come back through the
    feed); the request is checked before the agency is asked, and the case records it once per request id."""
    with sessions() as s:
        if replay(s, request=request, response_type=pb.Case) is None:
            rules.check_surveillance_request(request, clock.today())
            row = case_records.visible_case(s, name=request.name, caller=caller)
            service.surveil_with_agency(
                case_records.assemble(s, row), request=request, downstream=downstream
            )
    return run_idempotent(
        sessions,
        request=request,
        response_type=pb.Case,
        clock=clock,
        execute=lambda s: service.record_surveillance(
            s, request=request, caller=caller, clock=clock
        ),
    )
