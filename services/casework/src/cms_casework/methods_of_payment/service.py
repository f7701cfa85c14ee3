"""Methods of payment over an explicit session: the case's current method (set on the case through a change of
circumstances reported as casework's own, verified at source and applied by the feed pass), deduction orders and the
pay days their employers remit, deductions from benefit and the instructions to send to dwp-gateway, direct debits
and standing orders. Keyword-only functions; each change and its event in the caller's transaction."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from google.protobuf.message import Message
from sqlalchemy import select
from sqlalchemy.orm import Session

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import methods_of_payment_pb2 as mop
from cms.casework.v1 import methods_of_payment_service_pb2 as mop_api
from cms.casework.v1 import money_events_pb2 as money_ev
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms.dwp.v1 import dwp_service_pb2 as dwp_api
from cms.dwp.v1 import events_pb2 as dwp_ev
from cms.dwp.v1 import resources_pb2 as dwp_pb
from cms_platform import outbox
from cms_platform.clock import Clock
from cms_platform.convert import day_of, pb_date
from cms_platform.errors import (
    FailedPrecondition,
    InvalidArgument,
    PermissionDenied,
    PreconditionViolation,
    ViolationCollector,
)
from cms_platform.identity import Caller, service_caller

from ..access import rules as access_rules
from ..access import service as access
from ..case_records import service as case_records
from ..changes import service as changes
from ..names import child_of, derived_id, new_id
from ..service_requests import service as srs
from . import rules

if TYPE_CHECKING:  # the row's type only: its table is case_records' own
    from ..case_records.models import CaseRecord
from .models import (
    BenefitDeductionRecord,
    BenefitInstructionRecord,
    DeductionOrderRecord,
    DeductionPayDayRecord,
    LateRemittanceRecord,
    MethodOfPaymentRecord,
)

# Who reports the method of payment changes (audit entries and service requests name it).
METHODS_OF_PAYMENT = service_caller("casework-methods-of-payment")
REVIEW_SUB_AREA = "Review Method Of Payment"
LATE_REMITTANCE_SUB_AREA = "DEO Late Remittance"
M = pb.MethodOfPaymentFrom
OS = mop.DeductionOrderState
BS = mop.BenefitDeductionState
PENDING, SENT, REFUSED = "PENDING", "SENT", "REFUSED"
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 /-]*$")
# A bare account number (8 digits) or sort code and account: never stored.
_BANK_DETAILS = re.compile(r"\d{6,}|\d{2}-\d{2}-\d{2}")
_OPEN_BENEFIT = (
    BS.Name(mop.BENEFIT_DEDUCTION_STATE_REQUESTED),
    BS.Name(mop.BENEFIT_DEDUCTION_STATE_AWAITING_DECISION),
    BS.Name(mop.BENEFIT_DEDUCTION_STATE_AWAITING_CLERICAL_DECISION),
    BS.Name(mop.BENEFIT_DEDUCTION_STATE_ACTIVE),
)
_DWP_STATE = {
    dwp_pb.DEDUCTION_STATE_AWAITING_DECISION: mop.BENEFIT_DEDUCTION_STATE_AWAITING_DECISION,
    dwp_pb.DEDUCTION_STATE_AWAITING_CLERICAL_DECISION: mop.BENEFIT_DEDUCTION_STATE_AWAITING_CLERICAL_DECISION,
    dwp_pb.DEDUCTION_STATE_ACTIVE: mop.BENEFIT_DEDUCTION_STATE_ACTIVE,
    dwp_pb.DEDUCTION_STATE_REJECTED: mop.BENEFIT_DEDUCTION_STATE_REJECTED,
    dwp_pb.DEDUCTION_STATE_CANCELLED: mop.BENEFIT_DEDUCTION_STATE_CANCELLED,
    dwp_pb.DEDUCTION_STATE_ENDED: mop.BENEFIT_DEDUCTION_STATE_ENDED,
}
# dwp-gateway's routes are ours, value for value.
_ROUTE = {
    dwp_pb.DEDUCTION_ROUTE_AUTOMATED: mop.BENEFIT_DEDUCTION_ROUTE_AUTOMATED,
    dwp_pb.DEDUCTION_ROUTE_INTERFACE: mop.BENEFIT_DEDUCTION_ROUTE_INTERFACE,
    dwp_pb.DEDUCTION_ROUTE_NON_AUTOMATED: mop.BENEFIT_DEDUCTION_ROUTE_NON_AUTOMATED,
}


def _case_name(case_id: str) -> str:
    return f"cases/{case_id}"


def _publish(db: Session, *, case_id: str, message: Message, clock: Clock) -> None:
    outbox.publish(
        db, clock=clock, key=_case_name(case_id), subject=_case_name(case_id), message=message
    )


# -- the case's method of payment ----------------------------------------------------------------------------------


def _method_document(
    case_id: str, row: MethodOfPaymentRecord | None, case: pb.Case
) -> mop.MethodOfPayment:
    out = mop.MethodOfPayment(name=f"cases/{case_id}/methodOfPayment")
    if row is None:
        out.method = case.method_of_payment_from
        return out
    out.method = M.Value(row.method)
    out.arrangement, out.reference, out.defaulted = row.arrangement, row.reference, row.defaulted
    out.effective_date.CopyFrom(pb_date(row.effective_date))
    out.update_time.FromDatetime(row.updated_at)
    return out


def set_method(
    db: Session,
    *,
    case_row: CaseRecord,
    case: pb.Case,
    method: pb.MethodOfPaymentFrom.ValueType,
    clock: Clock,
    arrangement: str = "",
    reference: str = "",
    defaulted: bool = False,
    report: bool = True,
) -> mop.MethodOfPayment:
    """The case's method of payment becomes `method`: recorded here with the arrangement behind it, announced
    (MethodOfPaymentChanged) and, when `report`, set on the case through a change of circumstances of casework's own
    (verified at source, so the feed pass applies it). A DFB's accepted decision is reported by the feeds already."""
    row = db.get(MethodOfPaymentRecord, case_row.id)
    previous = M.Value(row.method) if row is not None else case.method_of_payment_from
    today = clock.today()
    if row is None:
        row = MethodOfPaymentRecord(case_id=case_row.id)
        db.add(row)
    row.method, row.arrangement, row.reference = M.Name(method), arrangement, reference
    row.defaulted, row.effective_date, row.updated_at = defaulted, today, clock.now()
    _publish(
        db,
        case_id=case_row.id,
        clock=clock,
        message=money_ev.MethodOfPaymentChanged(
            case_id=case_row.id,
            method=method,
            previous_method=previous,
            arrangement=arrangement,
            defaulted=defaulted,
            effective_date=pb_date(today),
        ),
    )
    if report and case.method_of_payment_from != method:
        change = pb.ChangeOfCircumstances(
            type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_TO_METHOD_OF_PAYMENT_FROM,
            effective_date=pb_date(today),
            reported_by=pb.REPORTER_CMS,
            payment_arrangement_change=pb.PaymentArrangementChange(method_of_payment_from=method),
        )
        change.evidence.add(
            kind=pb.EVIDENCE_KIND_INTERFACE,
            description="Methods of payment: " + (arrangement or M.Name(method)),
            received_date=pb_date(today),
        )
        changes.report(
            db,
            request=api.ReportChangeOfCircumstancesRequest(
                parent=case.name, change_of_circumstances=change
            ),
            caller=METHODS_OF_PAYMENT,
            clock=clock,
            source_event_id=f"mop-{new_id()}",
        )
    return _method_document(case_row.id, row, case)


def get_method(db: Session, *, name: str, caller: Caller, clock: Clock) -> mop.MethodOfPayment:
    case_id, tail = (name.split("/", 2) + ["", ""])[1:3] if name.startswith("cases/") else ("", "")
    if not case_id or tail != "methodOfPayment":
        raise InvalidArgument.field("name", "must look like cases/{case_id}/methodOfPayment")
    row = case_records.visible_case(db, name=f"cases/{case_id}", caller=caller)
    if access_rules.role_of(
        caller
    ) == access_rules.CLIENT and row.paying_parent_client_id != access_rules.client_id_of(caller):
        # The method of payment is the paying side's: only the paying parent sees it.
        raise PermissionDenied(
            "only the paying parent may see the method of payment", reason="NOT_PAYING_PARENT"
        )
    access.audit(db, clock=clock, caller=caller, case_id=row.id, resource=name)
    return _method_document(
        row.id, db.get(MethodOfPaymentRecord, row.id), case_records.assemble(db, row)
    )


def _reference(value: str, field: str) -> str:
    value = value.strip()
    if not _REFERENCE.match(value):
        raise InvalidArgument.field(field, "use letters, digits, spaces, '-' and '/' only")
    if _BANK_DETAILS.search(value):
        raise InvalidArgument.field(
            field, "must be a reference, never a bank account number or sort code"
        )
    return value


def _open_case(db: Session, *, parent: str, caller: Caller) -> tuple[CaseRecord, pb.Case]:
    row = case_records.visible_case(db, name=parent, caller=caller, field="parent", lock=True)
    case = case_records.assemble(db, row)
    case_records.ensure_open(case)
    return row, case


def record_direct_debit(
    db: Session, *, request: mop_api.RecordDirectDebitRequest, caller: Caller, clock: Clock
) -> mop.MethodOfPayment:
    return _record_by_reference(
        db,
        parent=request.parent,
        reference=_reference(request.mandate_reference, "mandate_reference"),
        method=M.Value("METHOD_OF_PAYMENT_FROM_DIRECT_DEBIT"),
        caller=caller,
        clock=clock,
    )


def record_standing_order(
    db: Session, *, request: mop_api.RecordStandingOrderRequest, caller: Caller, clock: Clock
) -> mop.MethodOfPayment:
    return _record_by_reference(
        db,
        parent=request.parent,
        reference=_reference(request.reference, "reference"),
        method=M.Value("METHOD_OF_PAYMENT_FROM_STANDING_ORDER_VOLUNTARY"),
        caller=caller,
        clock=clock,
    )


def _record_by_reference(
    db: Session,
    *,
    parent: str,
    reference: str,
    method: pb.MethodOfPaymentFrom.ValueType,
    caller: Caller,
    clock: Clock,
) -> mop.MethodOfPayment:
    """A direct debit mandate or standing order the paying parent set up, known by its reference only: it replaces
    the arrangements before it."""
    row, case = _open_case(db, parent=parent, caller=caller)
    _end_other_arrangements(db, case_id=row.id, clock=clock)
    out = set_method(db, case_row=row, case=case, method=method, reference=reference, clock=clock)
    access.audit(db, clock=clock, caller=caller, case_id=row.id, resource=out.name)
    return out


def default_standing_order(db: Session, *, case_id: str, clock: Clock) -> bool:
    """A Collect & Pay case whose paying parent chose no method (and none is being set up) gets a default standing
    order (once its payment plan is issued). Whether it was set."""
    row = case_records.find(db, case_id)
    if (
        row is None
        or row.state == case_records.CLOSED
        or db.get(MethodOfPaymentRecord, case_id) is not None
    ):
        return False
    # The case's own fields answer the service type and method; the clients' details are read only for a default
    # actually set (every plan of a Direct Pay case reaches this check).
    own = case_records.stored(row)
    if own.service_type != pb.SERVICE_TYPE_COLLECT_AND_PAY or own.method_of_payment_from != M.Value(
        "METHOD_OF_PAYMENT_FROM_UNSPECIFIED"
    ):
        return False
    if _open_benefit_deductions(db, case_id) or db.scalar(
        select(DeductionOrderRecord.id).where(DeductionOrderRecord.case_id == case_id)
    ):
        return False  # a method is being set up: no default
    set_method(
        db,
        case_row=row,
        case=case_records.assemble(db, row),
        method=M.Value("METHOD_OF_PAYMENT_FROM_STANDING_ORDER_DEFAULT"),
        defaulted=True,
        clock=clock,
    )
    return True


def _end_other_arrangements(db: Session, *, case_id: str, clock: Clock, keep: str = "") -> None:
    """A new method replaces the old: its deduction orders end and an open deduction from benefit is cancelled."""
    for order in db.scalars(
        select(DeductionOrderRecord).where(
            DeductionOrderRecord.case_id == case_id,
            DeductionOrderRecord.state != OS.Name(mop.DEDUCTION_ORDER_STATE_ENDED),
        )
    ):
        if order.id != keep:
            _move_order(order, mop.DEDUCTION_ORDER_STATE_ENDED)
    for deduction in _open_benefit_deductions(db, case_id):
        if deduction.id != keep:
            cancel_benefit_deduction(
                db,
                row=deduction,
                reason=dwp_pb.DEDUCTION_CANCELLATION_REASON_METHOD_OF_PAYMENT_CHANGED,
                clock=clock,
            )


# -- deduction orders ----------------------------------------------------------------------------------------------


def _order(row: DeductionOrderRecord) -> mop.DeductionOrder:
    return mop.DeductionOrder.FromString(row.document)


def _move_order(
    row: DeductionOrderRecord, state: mop.DeductionOrderState.ValueType
) -> mop.DeductionOrder:
    order = _order(row)
    order.state = state
    row.state, row.document = OS.Name(state), order.SerializeToString()
    return order


def _with_pay_days(db: Session, row: DeductionOrderRecord) -> mop.DeductionOrder:
    order = _order(row)
    days = list(
        db.scalars(
            select(DeductionPayDayRecord)
            .where(DeductionPayDayRecord.order_id == row.id)
            .order_by(DeductionPayDayRecord.pay_date)
        )
    )
    for day in days:
        order.pay_days.append(mop.DeductionOrderPayDay.FromString(day.document))
    if days:
        # From the pay days as read (the order's row may have been read before the latest was recorded): the
        # shortfall the last one recorded carried.
        last = max(days, key=lambda d: d.sequence)
        order.shortfall_carried_pence = mop.DeductionOrderPayDay.FromString(
            last.document
        ).shortfall_carried_pence
    return order


def check_order_request(
    db: Session, *, request: mop_api.MakeDeductionOrderRequest, caller: Caller
) -> tuple[CaseRecord, pb.Case]:
    """What must hold before a deduction order is asked for: a valid request on an open Collect & Pay case with a
    liability and no order in force."""
    v = ViolationCollector()
    if request.pay_frequency and request.pay_frequency not in rules.PAY_FREQUENCIES:
        v.add(
            "pay_frequency",
            "a deduction order needs weekly, fortnightly, four-weekly or monthly pay",
        )
    v.raise_if_any()
    row, case = _open_case(db, parent=request.parent, caller=caller)
    if not case.latest_calculation.calculation or not case.current_payment_plan:
        raise FailedPrecondition(
            PreconditionViolation(
                "NO_LIABILITY", case.name, "the case has no calculation and payment plan yet"
            ),
            reason="NO_LIABILITY",
        )
    if case.service_type != pb.SERVICE_TYPE_COLLECT_AND_PAY:
        raise FailedPrecondition(
            PreconditionViolation(
                "NOT_COLLECT_AND_PAY", case.name, "a deduction order needs Collect & Pay"
            ),
            reason="NOT_COLLECT_AND_PAY",
        )
    in_force = db.scalar(
        select(DeductionOrderRecord.id).where(
            DeductionOrderRecord.case_id == row.id,
            DeductionOrderRecord.state == OS.Name(mop.DEDUCTION_ORDER_STATE_ACTIVE),
        )
    )
    if in_force:
        raise FailedPrecondition(
            PreconditionViolation(
                "ORDER_IN_FORCE",
                f"cases/{row.id}/deductionOrders/{in_force}",
                "an order is already in force",
            ),
            reason="ORDER_IN_FORCE",
        )
    return row, case


def make_order(
    db: Session,
    *,
    request: mop_api.MakeDeductionOrderRequest,
    employer: mop.DeductionOrderEmployer,
    pay_frequency: common.PaymentFrequency.ValueType,
    weekly_maintenance_pence: int,
    weekly_paying_parent_fee_pence: int,
    caller: Caller,
    clock: Clock,
    params: rules.Parameters = rules.DEFAULTS,
) -> mop.DeductionOrder:
    """Record the order with its NDR and protected earnings proportion and make it the method of payment."""
    row, case = check_order_request(db, request=request, caller=caller)
    rate = rules.normal_deduction_rate(
        weekly_maintenance_pence=weekly_maintenance_pence,
        weekly_paying_parent_fee_pence=weekly_paying_parent_fee_pence,
        arrears_per_pay_day_pence=request.arrears_per_pay_day_pence,
        pay_frequency=pay_frequency,
    )
    order_id = new_id()
    today = clock.today()
    order = mop.DeductionOrder(
        name=f"cases/{row.id}/deductionOrders/{order_id}",
        kind=request.kind,
        state=mop.DEDUCTION_ORDER_STATE_ACTIVE,
        employer=employer,
        pay_frequency=pay_frequency,
        normal_deduction_rate_pence=rate.total_pence,
        maintenance_pence=rate.maintenance_pence,
        collection_fee_pence=rate.collection_fee_pence,
        arrears_pence=rate.arrears_pence,
        protected_earnings_basis_points=params.protected_earnings_basis_points,
        issue_date=pb_date(today),
    )
    order.create_time.FromDatetime(clock.now())
    _end_other_arrangements(db, case_id=row.id, clock=clock)
    db.add(
        DeductionOrderRecord(
            id=order_id,
            case_id=row.id,
            state=OS.Name(order.state),
            issue_date=today,
            document=order.SerializeToString(),
            created_at=clock.now(),
        )
    )
    _publish(
        db,
        case_id=row.id,
        clock=clock,
        message=money_ev.DeductionOrderIssued(
            case_id=row.id,
            deduction_order=order.name,
            kind=order.kind,
            employer_paye_reference=employer.paye_reference,
            pay_frequency=pay_frequency,
            normal_deduction_rate_pence=rate.total_pence,
            protected_earnings_basis_points=params.protected_earnings_basis_points,
            issue_date=pb_date(today),
        ),
    )
    method = (
        M.Value("METHOD_OF_PAYMENT_FROM_DEDUCTION_FROM_EARNINGS_REQUEST")
        if request.kind == mop.DEDUCTION_ORDER_KIND_REQUEST
        else M.Value("METHOD_OF_PAYMENT_FROM_DEDUCTION_FROM_EARNINGS_ORDER")
    )
    set_method(db, case_row=row, case=case, method=method, arrangement=order.name, clock=clock)
    access.audit(db, clock=clock, caller=caller, case_id=row.id, resource=order.name)
    return order


def get_order(db: Session, *, name: str, caller: Caller, clock: Clock) -> mop.DeductionOrder:
    _, row = case_records.read_child(
        db,
        name=name,
        collection="deductionOrders",
        model=DeductionOrderRecord,
        what="deduction order",
        caller=caller,
        clock=clock,
    )
    return _with_pay_days(db, row)


def _employment_ended(
    db: Session,
    *,
    case_row: CaseRecord,
    row: DeductionOrderRecord,
    leaving: dt.date,
    reported: dt.date,
    by: money_ev.EmploymentEndReporter.ValueType,
    late: bool,
    clock: Clock,
) -> mop.DeductionOrder:
    order = _move_order(row, mop.DEDUCTION_ORDER_STATE_UNDER_REVIEW)
    who = "HMRC" if by == money_ev.EMPLOYMENT_END_REPORTER_HMRC else "The employer"
    _, sr = srs.raise_sr(
        db,
        case_row=case_row,
        process="Case Maintenance",
        area="Method Of Payment",
        sub_area=REVIEW_SUB_AREA,
        description=f"{who} reports the employment under the deduction order ended on {leaving}"
        + (" (the employer's notice was late)" if late else "")
        + ": review the method of payment",
        origin=pb.SERVICE_REQUEST_ORIGIN_HMRC_INTERFACE
        if by == money_ev.EMPLOYMENT_END_REPORTER_HMRC
        else pb.SERVICE_REQUEST_ORIGIN_CASEWORKER,
        clock=clock,
    )
    order.employment_end_date.CopyFrom(pb_date(leaving))
    order.employer_notice_late = late
    order.review_service_request = sr.name
    row.document = order.SerializeToString()
    _publish(
        db,
        case_id=case_row.id,
        clock=clock,
        message=money_ev.DeductionOrderEmploymentEnded(
            case_id=case_row.id,
            deduction_order=order.name,
            leaving_date=pb_date(leaving),
            reported_date=pb_date(reported),
            reported_by=by,
            notice_late=late,
            service_request=sr.name,
        ),
    )
    return order


def report_employment_ended(
    db: Session,
    *,
    request: mop_api.ReportEmploymentEndedRequest,
    caller: Caller,
    clock: Clock,
    params: rules.Parameters = rules.DEFAULTS,
) -> mop.DeductionOrder:
    """The employer's notice that the employee left: the order goes under review (late past the time allowed)."""
    v = ViolationCollector()
    leaving, reported = day_of(request.leaving_date), day_of(request.reported_date)
    if leaving is None:
        v.add("leaving_date", "is not a valid date")
    if reported is None:
        v.add("reported_date", "is not a valid date")
    elif leaving is not None and reported < leaving:
        v.add("reported_date", "cannot be before the leaving date")
    elif reported > clock.today():
        v.add("reported_date", "cannot be in the future")
    v.raise_if_any()
    assert leaving is not None and reported is not None
    case_row, row = case_records.visible_child(
        db,
        name=request.name,
        collection="deductionOrders",
        model=DeductionOrderRecord,
        what="deduction order",
        caller=caller,
        lock=True,
    )
    if row.state != OS.Name(mop.DEDUCTION_ORDER_STATE_ACTIVE):
        raise FailedPrecondition(
            PreconditionViolation("ORDER_NOT_ACTIVE", request.name, f"the order is {row.state}"),
            reason="ORDER_NOT_ACTIVE",
        )
    order = _employment_ended(
        db,
        case_row=case_row,
        row=row,
        leaving=leaving,
        reported=reported,
        by=money_ev.EMPLOYMENT_END_REPORTER_EMPLOYER,
        late=rules.employer_notice_late(
            leaving_date=leaving, reported_date=reported, params=params
        ),
        clock=clock,
    )
    access.audit(db, clock=clock, caller=caller, case_id=case_row.id, resource=order.name)
    return _with_pay_days(db, row)


def employment_ended_by_hmrc(db: Session, *, case_id: str, leaving: dt.date, clock: Clock) -> bool:
    """HMRC's alert that the employment under an active DEO ended: the order goes under review with its service
    request. Whether there was such an order (the feed raises nothing more then)."""
    row = db.scalar(
        select(DeductionOrderRecord).where(
            DeductionOrderRecord.case_id == case_id,
            DeductionOrderRecord.state == OS.Name(mop.DEDUCTION_ORDER_STATE_ACTIVE),
        )
    )
    case_row = case_records.find(db, case_id)
    if row is None or case_row is None:
        return False
    _employment_ended(
        db,
        case_row=case_row,
        row=row,
        leaving=leaving,
        reported=clock.today(),
        by=money_ev.EMPLOYMENT_END_REPORTER_HMRC,
        late=False,
        clock=clock,
    )
    return True


def record_pay_day(
    db: Session,
    *,
    case_id: str,
    deduction: money_ev.EarningsDeduction,
    receipt: str,
    clock: Clock,
    params: rules.Parameters = rules.DEFAULTS,
) -> bool:
    """One remittance line for an order's pay day: what the order expected (its NDR and the shortfall carried in,
    as far as the protected earnings allow), what was deducted, and the shortfall carried on. A line for an unknown
    order, or a pay day already recorded, changes nothing. Whether it was recorded."""
    try:
        order_case, order_id = child_of(
            deduction.deduction_order, "deductionOrders", "deduction_order"
        )
    except InvalidArgument:
        return False
    row = db.get(DeductionOrderRecord, order_id, with_for_update=True)
    pay_date = day_of(deduction.pay_date)
    if row is None or row.case_id != order_case or order_case != case_id or pay_date is None:
        return False
    if db.scalar(
        select(DeductionPayDayRecord.id).where(
            DeductionPayDayRecord.order_id == order_id, DeductionPayDayRecord.pay_date == pay_date
        )
    ):
        return False
    order = _order(row)
    recorded = len(
        db.scalars(
            select(DeductionPayDayRecord.id).where(DeductionPayDayRecord.order_id == order_id)
        ).all()
    )
    net = max(0, deduction.net_earnings_pence)
    deducted = max(0, deduction.deducted_pence)
    carried_in = order.shortfall_carried_pence
    expected = rules.expected_deduction(
        normal_deduction_rate_pence=order.normal_deduction_rate_pence,
        shortfall_carried_in_pence=carried_in,
        net_earnings_pence=net,
        params=params,
    )
    carried = rules.shortfall_carried(
        normal_deduction_rate_pence=order.normal_deduction_rate_pence,
        shortfall_carried_in_pence=carried_in,
        deducted_pence=deducted,
    )
    day = mop.DeductionOrderPayDay(
        pay_date=deduction.pay_date,
        net_earnings_pence=net,
        expected_deduction_pence=expected,
        deducted_pence=deducted,
        admin_charge_pence=max(0, deduction.admin_charge_pence),
        shortfall_carried_pence=carried,
        remittance_due_date=pb_date(rules.remittance_due_date(pay_date, params=params)),
        receipt=receipt,
    )
    db.add(
        DeductionPayDayRecord(
            id=new_id(),
            order_id=order_id,
            pay_date=pay_date,
            month=pay_date.replace(day=1),
            sequence=recorded,
            document=day.SerializeToString(),
            created_at=clock.now(),
        )
    )
    order.shortfall_carried_pence = carried
    row.document = order.SerializeToString()
    return True


def orders_in_force(db: Session) -> list[str]:
    """The ids of the deduction orders in force (the late-remittance check's items)."""
    return list(
        db.scalars(
            select(DeductionOrderRecord.id)
            .where(DeductionOrderRecord.state == OS.Name(mop.DEDUCTION_ORDER_STATE_ACTIVE))
            .order_by(DeductionOrderRecord.id)
        )
    )


def check_remittance(
    db: Session,
    *,
    order_id: str,
    as_of: dt.date,
    clock: Clock,
    params: rules.Parameters = rules.DEFAULTS,
) -> int:
    """The months of an order in force whose remittance is late on `as_of`: one "DEO Late Remittance" service
    request and event for each, once per order per month. How many were raised."""
    row = db.get(DeductionOrderRecord, order_id, with_for_update=True)
    if row is None or row.state != OS.Name(mop.DEDUCTION_ORDER_STATE_ACTIVE):
        return 0
    case_row = case_records.find(db, row.case_id)
    if case_row is None or case_row.state == case_records.CLOSED:
        return 0
    remitted = set(
        db.scalars(
            select(DeductionPayDayRecord.month).where(DeductionPayDayRecord.order_id == order_id)
        )
    )
    done = set(
        db.scalars(
            select(LateRemittanceRecord.month).where(LateRemittanceRecord.order_id == order_id)
        )
    )
    order = _order(row)
    raised = 0
    for month in rules.late_remittance_months(
        issue_date=row.issue_date, remitted_months=remitted, as_of=as_of, params=params
    ):
        if month in done:
            continue
        due = rules.remittance_due_date(month, params=params)
        _, sr = srs.raise_sr(
            db,
            case_row=case_row,
            process="Case Maintenance",
            area="Method Of Payment",
            sub_area=LATE_REMITTANCE_SUB_AREA,
            description=f"No remittance for {month:%B %Y}'s pay days under the deduction order by {due}: "
            "contact the employer",
            origin=pb.SERVICE_REQUEST_ORIGIN_SYSTEM,
            clock=clock,
        )
        db.add(
            LateRemittanceRecord(
                id=new_id(),
                order_id=order_id,
                month=month,
                service_request=sr.name,
                created_at=clock.now(),
            )
        )
        _publish(
            db,
            case_id=row.case_id,
            clock=clock,
            message=money_ev.DeductionOrderRemittanceLate(
                case_id=row.case_id,
                deduction_order=order.name,
                month=pb_date(month),
                due_date=pb_date(due),
                service_request=sr.name,
            ),
        )
        raised += 1
    return raised


# -- deductions from benefit ---------------------------------------------------------------------------------------


def _deduction(row: BenefitDeductionRecord) -> mop.BenefitDeduction:
    return mop.BenefitDeduction.FromString(row.document)


def _save_deduction(
    db: Session,
    row: BenefitDeductionRecord,
    deduction: mop.BenefitDeduction,
    clock: Clock,
    *,
    announce: bool,
) -> None:
    changed = row.state != BS.Name(deduction.state)
    row.state, row.deduction_id = BS.Name(deduction.state), deduction.deduction_id or None
    row.document, row.updated_at = deduction.SerializeToString(), clock.now()
    if announce and changed:
        _publish(
            db,
            case_id=row.case_id,
            clock=clock,
            message=money_ev.BenefitDeductionStateChanged(
                case_id=row.case_id,
                benefit_deduction=deduction.name,
                deduction_id=deduction.deduction_id,
                state=deduction.state,
                route=deduction.route,
                deduction_amount=deduction.deduction_amount,
            ),
        )


def _open_benefit_deductions(db: Session, case_id: str) -> list[BenefitDeductionRecord]:
    return list(
        db.scalars(
            select(BenefitDeductionRecord).where(
                BenefitDeductionRecord.case_id == case_id,
                BenefitDeductionRecord.state.in_(_OPEN_BENEFIT),
            )
        )
    )


def _instruct(
    db: Session, *, row: BenefitDeductionRecord, kind: str, request: Message, clock: Clock
) -> None:
    """Record an instruction for dwp-gateway, sent after this transaction commits (flows.send_instructions), its
    request id derived from its own id so that every retry is the same request."""
    instruction_id = new_id()
    request.request_id = derived_id("benefit-instruction", instruction_id)  # type: ignore[attr-defined]
    db.add(
        BenefitInstructionRecord(
            id=instruction_id,
            case_id=row.case_id,
            benefit_deduction_id=row.id,
            kind=kind,
            state=PENDING,
            request=request.SerializeToString(),
            attempts=0,
            created_at=clock.now(),
        )
    )
    deduction = _deduction(row)
    deduction.pending_instructions += 1
    row.document = deduction.SerializeToString()


def set_up_benefit_deduction(
    db: Session, *, request: mop_api.SetUpBenefitDeductionRequest, caller: Caller, clock: Clock
) -> mop.BenefitDeduction:
    """Record a deduction from benefit and its set-up instruction (sent by the background pass)."""
    v = ViolationCollector()
    benefit = request.benefit.strip().upper().removeprefix("BENEFIT_TYPE_")
    if (
        f"BENEFIT_TYPE_{benefit}" not in dwp_pb.BenefitType.DESCRIPTOR.values_by_name
        or benefit == "UNSPECIFIED"
    ):
        v.add("benefit", "is not a benefit as dwp-gateway names it (e.g. PENSION_CREDIT)")
    non_standard = request.deduction_type == mop.BENEFIT_DEDUCTION_TYPE_NON_STANDARD_FLAT_RATE
    if non_standard and request.weekly_liability_pence <= 0:
        v.add("weekly_liability_pence", "is required for a non-standard flat rate")
    if not non_standard and request.weekly_liability_pence:
        v.add(
            "weekly_liability_pence",
            "is only for a non-standard flat rate (the regulations set the others)",
        )
    v.raise_if_any()
    row, case = _open_case(db, parent=request.parent, caller=caller)
    if case.service_type != pb.SERVICE_TYPE_COLLECT_AND_PAY:
        raise FailedPrecondition(
            PreconditionViolation(
                "NOT_COLLECT_AND_PAY", case.name, "a deduction from benefit needs Collect & Pay"
            ),
            reason="NOT_COLLECT_AND_PAY",
        )
    if _open_benefit_deductions(db, row.id):
        raise FailedPrecondition(
            PreconditionViolation(
                "DEDUCTION_OPEN", case.name, "a deduction from benefit is already open"
            ),
            reason="DEDUCTION_OPEN",
        )
    record_id = new_id()
    now = clock.now()
    deduction = mop.BenefitDeduction(
        name=f"cases/{row.id}/benefitDeductions/{record_id}",
        benefit=benefit,
        deduction_type=request.deduction_type,
        weekly_liability_pence=request.weekly_liability_pence,
        state=mop.BENEFIT_DEDUCTION_STATE_REQUESTED,
        # The liability the set-up is asked for: a later one is followed once the set-up is accepted.
        calculation=case.latest_calculation.calculation,
    )
    deduction.create_time.FromDatetime(now)
    record = BenefitDeductionRecord(
        id=record_id,
        case_id=row.id,
        deduction_id=None,
        state="",
        document=b"",
        created_at=now,
        updated_at=now,
    )
    _save_deduction(db, record, deduction, clock, announce=True)
    db.add(record)
    _instruct(
        db,
        row=record,
        kind="SET_UP",
        request=dwp_api.SetUpDeductionRequest(
            case_id=row.id,
            paying_parent_nino=case.paying_parent.identity.nino,
            partner_nino=request.partner_nino,
            benefit_type=dwp_pb.BenefitType.Value(f"BENEFIT_TYPE_{benefit}"),
            deduction_type=dwp_pb.DeductionType.ValueType(
                request.deduction_type
            ),  # dwp-gateway's values
            weekly_liability_pence=request.weekly_liability_pence,
            effective_date=pb_date(clock.today()),
            calculation_id=case.latest_calculation.calculation.removeprefix("calculations/"),
        ),
        clock=clock,
    )
    access.audit(db, clock=clock, caller=caller, case_id=row.id, resource=deduction.name)
    return _deduction(record)


def get_benefit_deduction(
    db: Session, *, name: str, caller: Caller, clock: Clock
) -> mop.BenefitDeduction:
    _, row = case_records.read_child(
        db,
        name=name,
        collection="benefitDeductions",
        model=BenefitDeductionRecord,
        what="deduction from benefit",
        caller=caller,
        clock=clock,
    )
    return _deduction(row)


def cancel_benefit_deduction(
    db: Session,
    *,
    row: BenefitDeductionRecord,
    reason: dwp_pb.DeductionCancellationReason.ValueType,
    clock: Clock,
) -> None:
    """Cancel an open deduction: at dwp-gateway (an instruction) once it has its id, here at once. One still to be
    sent is withdrawn instead."""
    deduction = _deduction(row)
    if not deduction.deduction_id:
        for pending in db.scalars(
            select(BenefitInstructionRecord).where(
                BenefitInstructionRecord.benefit_deduction_id == row.id,
                BenefitInstructionRecord.state == PENDING,
            )
        ):
            pending.state = REFUSED  # withdrawn before it was sent
        deduction.pending_instructions = 0
    deduction.state = mop.BENEFIT_DEDUCTION_STATE_CANCELLED
    _save_deduction(db, row, deduction, clock, announce=True)
    if deduction.deduction_id:
        _instruct(
            db,
            row=row,
            kind="CANCEL",
            request=dwp_api.CancelDeductionRequest(
                deduction_id=deduction.deduction_id,
                effective_date=pb_date(clock.today()),
                reason=reason,
            ),
            clock=clock,
        )


def on_case_closed(db: Session, *, case_id: str, clock: Clock) -> None:
    """The case closed: its deductions from benefit are cancelled and its deduction orders end."""
    for row in _open_benefit_deductions(db, case_id):
        cancel_benefit_deduction(
            db, row=row, reason=dwp_pb.DEDUCTION_CANCELLATION_REASON_CASE_CLOSED, clock=clock
        )
    for order in db.scalars(
        select(DeductionOrderRecord).where(
            DeductionOrderRecord.case_id == case_id,
            DeductionOrderRecord.state != OS.Name(mop.DEDUCTION_ORDER_STATE_ENDED),
        )
    ):
        _move_order(order, mop.DEDUCTION_ORDER_STATE_ENDED)


def on_liability_changed(
    db: Session, *, case_id: str, calculation: str, weekly_pence: int, clock: Clock
) -> None:
    """A new payment plan: an active deduction from benefit follows the flat-rate liability (amount or type changed,
    or cancelled off the flat rate)."""
    open_deductions = _open_benefit_deductions(db, case_id)
    if not open_deductions:
        return  # most cases: no deduction from benefit to follow, so the case is not read
    row = case_records.find(db, case_id)
    if row is None:
        return
    case = case_records.assemble(db, row)
    if calculation != case.latest_calculation.calculation:
        # Overtaken by a later calculation, which issues no plan of its own when it leaves the amount where it
        # was: the latest is followed now.
        weekly_pence = case.latest_calculation.weekly_amount_pence
    for record in open_deductions:
        _follow_liability(db, record=record, case=case, weekly_pence=weekly_pence, clock=clock)


def _follow_liability(
    db: Session, *, record: BenefitDeductionRecord, case: pb.Case, weekly_pence: int, clock: Clock
) -> None:
    """An active deduction brought in line with the case's latest calculation (its share `weekly_pence` a week):
    instructions to change its amount or type, or it is cancelled off the flat rate."""
    calculation = case.latest_calculation.calculation
    deduction = _deduction(record)
    if (
        deduction.state != mop.BENEFIT_DEDUCTION_STATE_ACTIVE
        or not deduction.deduction_id
        or deduction.calculation == calculation
    ):
        return  # not active yet, or already in line with this liability
    deduction.calculation = calculation
    _save_deduction(db, record, deduction, clock, announce=False)
    change = rules.benefit_change(
        deduction_type=mop.BenefitDeductionType.Name(deduction.deduction_type).removeprefix(
            "BENEFIT_DEDUCTION_TYPE_"
        ),
        weekly_liability_pence=deduction.weekly_liability_pence,
        rate=case.latest_calculation.rate,
        new_weekly_pence=weekly_pence,
    )
    effective = (
        case.latest_calculation.effective_date
        if case.latest_calculation.effective_date.year
        else pb_date(clock.today())
    )
    calculation_id = calculation.removeprefix("calculations/")
    if change == rules.BenefitChange.CANCEL:
        cancel_benefit_deduction(
            db,
            row=record,
            reason=dwp_pb.DEDUCTION_CANCELLATION_REASON_LIABILITY_ENDED,
            clock=clock,
        )
    elif change == rules.BenefitChange.CHANGE_AMOUNT:
        deduction.weekly_liability_pence = weekly_pence
        _save_deduction(db, record, deduction, clock, announce=False)
        _instruct(
            db,
            row=record,
            kind="CHANGE_AMOUNT",
            request=dwp_api.ChangeDeductionAmountRequest(
                deduction_id=deduction.deduction_id,
                weekly_liability_pence=weekly_pence,
                effective_date=effective,
                calculation_id=calculation_id,
            ),
            clock=clock,
        )
    elif change in (rules.BenefitChange.TO_STANDARD, rules.BenefitChange.TO_NON_STANDARD):
        standard = change == rules.BenefitChange.TO_STANDARD
        deduction.deduction_type = (
            mop.BENEFIT_DEDUCTION_TYPE_STANDARD_FLAT_RATE
            if standard
            else mop.BENEFIT_DEDUCTION_TYPE_NON_STANDARD_FLAT_RATE
        )
        deduction.weekly_liability_pence = 0 if standard else weekly_pence
        _save_deduction(db, record, deduction, clock, announce=False)
        _instruct(
            db,
            row=record,
            kind="CHANGE_TYPE",
            request=dwp_api.ChangeDeductionTypeRequest(
                deduction_id=deduction.deduction_id,
                deduction_type=dwp_pb.DeductionType.ValueType(deduction.deduction_type),
                weekly_liability_pence=deduction.weekly_liability_pence,
                effective_date=effective,
                calculation_id=calculation_id,
            ),
            clock=clock,
        )


def on_deduction_decision(
    db: Session, *, event: dwp_ev.DeductionDecisionMade, clock: Clock
) -> None:
    """dwp-gateway's decision on a deduction: our record follows it (one started by the automated route is recorded
    now), and an accepted one becomes the method of payment. The case's summary is reported by the feeds."""
    row = db.scalar(
        select(BenefitDeductionRecord).where(
            BenefitDeductionRecord.deduction_id == event.deduction_id
        )
    )
    case_row = case_records.find(db, event.case_id) if event.case_id else None
    if case_row is None or case_row.state == case_records.CLOSED:
        return
    if row is None:
        # Sent, its answer not yet recorded (the decision overtook the pass), or the automated route's own.
        row = next(
            (
                r
                for r in _open_benefit_deductions(db, case_row.id)
                if not _deduction(r).deduction_id
                and r.state == BS.Name(mop.BENEFIT_DEDUCTION_STATE_REQUESTED)
            ),
            None,
        )
    if row is None:
        now = clock.now()
        record_id = new_id()
        fresh = mop.BenefitDeduction(
            name=f"cases/{case_row.id}/benefitDeductions/{record_id}",
            benefit=dwp_pb.BenefitType.Name(event.current_terms.benefit_type).removeprefix(
                "BENEFIT_TYPE_"
            ),
            deduction_type=mop.BenefitDeductionType.ValueType(event.current_terms.deduction_type),
            state=mop.BENEFIT_DEDUCTION_STATE_AWAITING_DECISION,
        )
        fresh.create_time.FromDatetime(now)
        row = BenefitDeductionRecord(
            id=record_id,
            case_id=case_row.id,
            deduction_id=None,
            state="",
            document=b"",
            created_at=now,
            updated_at=now,
        )
        _save_deduction(db, row, fresh, clock, announce=False)
        db.add(row)
    deduction = _deduction(row)
    deduction.deduction_id = event.deduction_id
    deduction.route = _ROUTE.get(event.decision.route, deduction.route)
    deduction.state = _DWP_STATE.get(event.state, deduction.state)
    if event.HasField("current_terms"):
        deduction.deduction_amount.CopyFrom(event.current_terms.deduction_amount)
        deduction.start_date.CopyFrom(event.current_terms.start_date)
    if event.decision.outcome == dwp_pb.DEDUCTION_OUTCOME_REJECTED:
        deduction.refusal = dwp_pb.DeductionRejectionReason.Name(
            event.decision.rejection_reason
        ).removeprefix("DEDUCTION_REJECTION_REASON_")
    set_up_accepted = (
        event.decision.outcome == dwp_pb.DEDUCTION_OUTCOME_ACCEPTED
        and event.decision.kind == dwp_pb.DEDUCTION_INSTRUCTION_KIND_SET_UP
    )
    if set_up_accepted and not deduction.calculation:
        # The automated route's own: accepted against the liability in force now.
        deduction.calculation = case_records.assemble(db, case_row).latest_calculation.calculation
    _save_deduction(db, row, deduction, clock, announce=True)
    if (
        event.decision.outcome == dwp_pb.DEDUCTION_OUTCOME_ACCEPTED
        and event.state == dwp_pb.DEDUCTION_STATE_ACTIVE
        and event.decision.kind == dwp_pb.DEDUCTION_INSTRUCTION_KIND_SET_UP
    ):
        _end_other_arrangements(db, case_id=case_row.id, clock=clock, keep=row.id)
        set_method(
            db,
            case_row=case_row,
            case=case_records.assemble(db, case_row),
            method=M.Value("METHOD_OF_PAYMENT_FROM_DEDUCTION_FROM_BENEFIT"),
            arrangement=deduction.name,
            clock=clock,
            report=False,
        )
    if set_up_accepted:
        # Asked for against an earlier calculation: a plan issued while the decision was awaited found the
        # deduction not yet active, so it is brought in line with the latest now.
        case = case_records.assemble(db, case_row)
        _follow_liability(
            db,
            record=row,
            case=case,
            weekly_pence=case.latest_calculation.weekly_amount_pence,
            clock=clock,
        )


def on_deduction_ended(db: Session, *, event: dwp_ev.DeductionEnded, clock: Clock) -> None:
    """DWP stopped a deduction (or confirmed our cancellation): our record ends with it."""
    row = db.scalar(
        select(BenefitDeductionRecord).where(
            BenefitDeductionRecord.deduction_id == event.deduction_id
        )
    )
    if row is None:
        return
    deduction = _deduction(row)
    if deduction.state in (
        mop.BENEFIT_DEDUCTION_STATE_CANCELLED,
        mop.BENEFIT_DEDUCTION_STATE_ENDED,
    ):
        return
    deduction.state = mop.BENEFIT_DEDUCTION_STATE_ENDED
    _save_deduction(db, row, deduction, clock, announce=True)


# -- instructions to dwp-gateway -----------------------------------------------------------------------------------


def pending_instructions(db: Session, *, limit: int = 100) -> list[str]:
    return list(
        db.scalars(
            select(BenefitInstructionRecord.id)
            .where(BenefitInstructionRecord.state == PENDING)
            .order_by(BenefitInstructionRecord.created_at, BenefitInstructionRecord.id)
            .limit(limit)
        )
    )


def instruction(db: Session, instruction_id: str) -> tuple[str, bytes] | None:
    """(kind, serialised request) of a pending instruction; None once it is done."""
    row = db.get(BenefitInstructionRecord, instruction_id)
    return (row.kind, row.request) if row is not None and row.state == PENDING else None


def instruction_done(
    db: Session,
    *,
    instruction_id: str,
    answer: dwp_pb.Deduction | None,
    refusal: str,
    clock: Clock,
) -> None:
    """The gateway answered an instruction (`answer`) or refused it (`refusal`): the deduction follows."""
    row = db.get(BenefitInstructionRecord, instruction_id, with_for_update=True)
    if row is None or row.state != PENDING:
        return
    row.state, row.sent_at, row.attempts = (
        (SENT if answer is not None else REFUSED),
        clock.now(),
        row.attempts + 1,
    )
    record = db.get(BenefitDeductionRecord, row.benefit_deduction_id, with_for_update=True)
    if record is None:
        return
    deduction = _deduction(record)
    deduction.pending_instructions = max(0, deduction.pending_instructions - 1)
    if answer is not None and row.kind == "SET_UP":
        deduction.deduction_id = answer.deduction_id
        deduction.route = _ROUTE.get(answer.route, deduction.route)
        if deduction.state == mop.BENEFIT_DEDUCTION_STATE_REQUESTED:
            deduction.state = _DWP_STATE.get(answer.state, deduction.state)
    elif answer is None and row.kind == "SET_UP":
        deduction.state = mop.BENEFIT_DEDUCTION_STATE_REFUSED
        deduction.refusal = refusal[:300]
    _save_deduction(db, record, deduction, clock, announce=True)


def instruction_failed(db: Session, *, instruction_id: str) -> None:
    """A transient failure: counted, and tried again on the next pass."""
    row = db.get(BenefitInstructionRecord, instruction_id, with_for_update=True)
    if row is not None:
        row.attempts += 1


def ensure_case_visible(db: Session, *, name: str, caller: Caller) -> None:
    """NOT_FOUND unless the caller may see the case named."""
    case_records.visible_case(db, name=name, caller=caller, field="parent")
