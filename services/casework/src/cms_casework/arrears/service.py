"""Arrears on a case, keyword-only functions over an explicit session: arrears agreements and their compliance, Direct
Pay missed payment reports, suspensions, and the arrears check's work on one case at a time (docs/domain/money.md §8).

Each state change publishes its event (money_events.proto, keyed by the case) in the caller's transaction. The account
is reached only through arrears.account."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from google.protobuf.message import Message
from sqlalchemy import select
from sqlalchemy.orm import Session

from cms.casework.v1 import arrears_pb2 as apb
from cms.casework.v1 import arrears_service_pb2 as api
from cms.casework.v1 import money_events_pb2 as ev
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms_platform import outbox
from cms_platform.clock import Clock
from cms_platform.convert import day_of, pb_date, strict_date
from cms_platform.db import one_page
from cms_platform.errors import (
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    PermissionDenied,
    PreconditionViolation,
)
from cms_platform.identity import Caller

from ..access import rules as access_rules
from ..access import service as access
from ..case_records import service as case_records
from ..correspondence import service as correspondence
from ..names import new_id
from ..service_requests import service as srs
from ..wording import long_date, pounds
from . import account, rules

if TYPE_CHECKING:  # the row's type only: its table is case_records' own
    from ..case_records.models import CaseRecord
from .models import (
    ArrearsAgreementRecord,
    ArrearsPositionRecord,
    ArrearsSuspensionRecord,
    MissedPaymentRecord,
    MissedPaymentReportRecord,
)

PROCESS, AREA = "Case Maintenance", "Arrears"
MISSED_PAYMENT_SR = "Missed Payment"
AGREEMENT_BROKEN_SR = "Arrears Agreement Broken"
DIRECT_PAY_SR = "Direct Pay Missed Payments"
OVERPAYMENT_SR = "Overpayment Decision"
SUSPENDED_SR = "Suspended Arrears"
SUSPENSION_REVIEW_SR = "Suspended Arrears Review"

_AS = apb.ArrearsAgreementState
ACTIVE = _AS.Name(apb.ARREARS_AGREEMENT_STATE_ACTIVE)
SUSPENDED = apb.ArrearsSuspensionState.Name(apb.ARREARS_SUSPENSION_STATE_ACTIVE)
REPORTED = apb.MissedPaymentReportState.Name(apb.MISSED_PAYMENT_REPORT_STATE_REPORTED)


def precondition(code: str, subject: str, description: str) -> FailedPrecondition:
    return FailedPrecondition(PreconditionViolation(code, subject, description), reason=code)


def invalid(violations: Sequence[rules.Violation], prefix: str = "") -> InvalidArgument:
    """The rules' violations as INVALID_ARGUMENT, each field under `prefix` (e.g. `arrears_agreement.`)."""
    return InvalidArgument(
        [
            FieldViolation(f"{prefix}{v.field}" if v.field else prefix.rstrip("."), v.description)
            for v in violations
        ]
    )


def publish(db: Session, *, case_id: str, message: Message, clock: Clock) -> None:
    # Keyed by the case, unlike the accounts' events (money_events.proto, "Arrears").
    name = f"cases/{case_id}"
    outbox.publish(db, clock=clock, key=name, subject=name, message=message)


def raise_sr(
    db: Session,
    *,
    case_row: CaseRecord,
    sub_area: str,
    description: str,
    clock: Clock,
    caller: Caller | None = None,
) -> pb.ServiceRequest:
    """An arrears service request on the case; raised by the system unless a caller is named."""
    _, sr = srs.raise_sr(
        db,
        case_row=case_row,
        process=PROCESS,
        area=AREA,
        sub_area=sub_area,
        description=description,
        origin=srs.origin_of(caller) if caller else pb.SERVICE_REQUEST_ORIGIN_SYSTEM,
        clock=clock,
    )
    return sr


def _live_case(db: Session, *, name: str, caller: Caller, field: str) -> tuple[CaseRecord, pb.Case]:
    row = case_records.visible_case(db, name=name, caller=caller, field=field, lock=True)
    case = case_records.assemble(db, row)
    case_records.ensure_open(case)
    return row, case


# -- arrears agreements --------------------------------------------------------------------------------------------


def _agreement(row: ArrearsAgreementRecord) -> apb.ArrearsAgreement:
    return apb.ArrearsAgreement.FromString(row.document)


def _save_agreement(
    row: ArrearsAgreementRecord, agreement: apb.ArrearsAgreement, clock: Clock
) -> None:
    agreement.update_time.FromDatetime(clock.now())
    row.state = _AS.Name(agreement.state)
    row.document, row.updated_at = agreement.SerializeToString(), clock.now()


def payments_of(agreement: apb.ArrearsAgreement) -> list[rules.Payment]:
    return [
        rules.Payment(
            due=day_of(i.due_date) or dt.date.min,
            amount_pence=i.amount_pence,
            paid_pence=i.paid_pence,
            lump_sum=i.lump_sum,
        )
        for i in agreement.instalments
    ]


def _set_payments(agreement: apb.ArrearsAgreement, payments: Sequence[rules.Payment]) -> None:
    del agreement.instalments[:]
    for p in payments:
        agreement.instalments.add(
            due_date=pb_date(p.due),
            amount_pence=p.amount_pence,
            paid_pence=p.paid_pence,
            lump_sum=p.lump_sum,
        )


def _active_agreement(db: Session, case_id: str) -> ArrearsAgreementRecord | None:
    return db.scalars(
        select(ArrearsAgreementRecord)
        .where(ArrearsAgreementRecord.case_id == case_id, ArrearsAgreementRecord.state == ACTIVE)
        .with_for_update()
    ).first()


def _dates_of(
    given: apb.ArrearsAgreement,
) -> tuple[dict[str, dt.date | None], list[rules.Violation]]:
    """The agreement's dates, and those that are not calendar dates."""
    dates: dict[str, dt.date | None] = {}
    bad: list[rules.Violation] = []
    for field in ("lump_sum_due_date", "first_instalment_date"):
        try:
            dates[field] = strict_date(getattr(given, field))
        except ValueError:
            dates[field] = None
            bad.append(rules.Violation(field, "must be a full calendar date"))
    return dates, bad


def create_agreement(
    db: Session,
    *,
    request: api.CreateArrearsAgreementRequest,
    caller: Caller,
    clock: Clock,
    params: rules.AgreementParameters = rules.DEFAULTS,
) -> apb.ArrearsAgreement:
    """An agreement for the arrears on the account today, one in force at a time; both parents get its terms."""
    row, case = _live_case(db, name=request.parent, caller=caller, field="parent")
    today = clock.today()
    given = request.arrears_agreement
    dates, bad = _dates_of(given)
    if bad:
        raise invalid(bad, "arrears_agreement.")
    if _active_agreement(db, row.id) is not None:
        raise precondition(
            "AGREEMENT_IN_FORCE",
            request.parent,
            "the case already has an arrears agreement in force",
        )
    arrears = account.arrears(db, case_id=row.id, as_of=today)
    if arrears <= 0:
        raise precondition("NO_ARREARS", request.parent, "the account shows no arrears to agree")
    terms = rules.Terms(
        arrears_pence=arrears,
        lump_sum_pence=given.lump_sum_pence,
        lump_sum_due=dates["lump_sum_due_date"],
        instalment_pence=given.instalment_amount_pence,
        frequency=given.payment_frequency,
        first_instalment=dates["first_instalment_date"],
        extension_reason=given.extension_reason,
    )
    violations = rules.check_terms(terms, today=today, params=params)
    if violations:
        raise invalid(violations, "arrears_agreement.")
    payments = rules.schedule(terms)
    agreement_id = new_id()
    agreement = apb.ArrearsAgreement(
        name=f"cases/{row.id}/arrearsAgreements/{agreement_id}",
        state=apb.ARREARS_AGREEMENT_STATE_ACTIVE,
        arrears_pence=arrears,
        lump_sum_pence=min(terms.lump_sum_pence, arrears),
        lump_sum_due_date=pb_date(terms.lump_sum_due) if terms.lump_sum_pence else None,
        instalment_amount_pence=terms.instalment_pence,
        payment_frequency=(
            given.payment_frequency
            if terms.instalment_pence
            else common.PAYMENT_FREQUENCY_UNSPECIFIED
        ),
        first_instalment_date=pb_date(terms.first_instalment) if terms.instalment_pence else None,
        extension_reason=given.extension_reason.strip(),
        final_due_date=pb_date(payments[-1].due),
    )
    _set_payments(agreement, payments)
    agreement.create_time.FromDatetime(clock.now())
    record = ArrearsAgreementRecord(
        id=agreement_id,
        case_id=row.id,
        state="",
        document=b"",
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    _save_agreement(record, agreement, clock)
    db.add(record)
    publish(
        db,
        case_id=row.id,
        clock=clock,
        message=ev.ArrearsAgreementMade(
            case_id=row.id,
            arrears_agreement=agreement.name,
            arrears_pence=arrears,
            lump_sum_pence=agreement.lump_sum_pence,
            instalment_count=sum(1 for p in payments if not p.lump_sum),
            final_due_date=agreement.final_due_date,
        ),
    )
    correspondence.notify_parents(
        db, case=case, case_id=row.id, kind=pb.CORRESPONDENCE_KIND_ARREARS_AGREEMENT, clock=clock
    )
    access.audit(db, clock=clock, caller=caller, case_id=row.id, resource=agreement.name)
    return agreement


def get_agreement(db: Session, *, name: str, caller: Caller, clock: Clock) -> apb.ArrearsAgreement:
    _, row = case_records.read_child(
        db,
        name=name,
        collection="arrearsAgreements",
        model=ArrearsAgreementRecord,
        what="arrears agreement",
        caller=caller,
        clock=clock,
    )
    return _agreement(row)


def list_agreements(
    db: Session, *, case_id: str, size: int, offset: int
) -> tuple[list[apb.ArrearsAgreement], bool]:
    """A page of the case's agreements, newest first, and whether there is more."""
    rows, more = one_page(
        db,
        select(ArrearsAgreementRecord)
        .where(ArrearsAgreementRecord.case_id == case_id)
        .order_by(ArrearsAgreementRecord.created_at.desc(), ArrearsAgreementRecord.id),
        size=size,
        offset=offset,
    )
    return [_agreement(r) for r in rows], more


def apply_receipt(
    db: Session, *, case_id: str, amount_pence: int, received_on: dt.date | None, clock: Clock
) -> None:
    """A receipt on the case pays its agreement in force, oldest payment first (docs/domain/money.md §8: every
    receipt after the agreement was made counts towards it); all paid completes it."""
    row = _active_agreement(db, case_id)
    if row is None or amount_pence <= 0:
        return
    agreement = _agreement(row)
    if received_on is not None and received_on < agreement.create_time.ToDatetime().date():
        return  # paid before the agreement: already in the arrears it was made for
    payments, _ = rules.pay(payments_of(agreement), amount_pence)
    _set_payments(agreement, payments)
    if rules.completed(payments):
        agreement.state = apb.ARREARS_AGREEMENT_STATE_COMPLETED
        publish(
            db,
            case_id=case_id,
            clock=clock,
            message=ev.ArrearsAgreementCompleted(case_id=case_id, arrears_agreement=agreement.name),
        )
    _save_agreement(row, agreement, clock)


def agreements_in_force(db: Session) -> list[str]:
    """The ids of the agreements in force, for the arrears check."""
    return list(
        db.scalars(select(ArrearsAgreementRecord.id).where(ArrearsAgreementRecord.state == ACTIVE))
    )


def check_agreement(
    db: Session, *, agreement_id: str, as_of: dt.date, grace_days: int, clock: Clock
) -> bool:
    """An agreement with a payment unpaid after its due date and the grace period is broken: a service request and
    ArrearsAgreementBroken. Returns whether it broke."""
    row = db.get(ArrearsAgreementRecord, agreement_id, with_for_update=True)
    if row is None or row.state != ACTIVE:
        return False
    agreement = _agreement(row)
    missed = rules.first_missed(payments_of(agreement), as_of=as_of, grace_days=grace_days)
    if missed is None:
        return False
    sr = raise_sr(
        db,
        case_row=case_records.case_row(db, row.case_id),
        sub_area=AGREEMENT_BROKEN_SR,
        description=(
            f"Arrears agreement broken: {pounds(missed.unpaid_pence)} due {long_date(missed.due)} unpaid "
            f"({agreement.name})"
        ),
        clock=clock,
    )
    agreement.state = apb.ARREARS_AGREEMENT_STATE_BROKEN
    agreement.service_request = sr.name
    _save_agreement(row, agreement, clock)
    publish(
        db,
        case_id=row.case_id,
        clock=clock,
        message=ev.ArrearsAgreementBroken(
            case_id=row.case_id,
            arrears_agreement=agreement.name,
            missed_due_date=pb_date(missed.due),
            unpaid_pence=missed.unpaid_pence,
            service_request=sr.name,
        ),
    )
    return True


# -- Direct Pay missed payments ------------------------------------------------------------------------------------


def report_document(row: MissedPaymentReportRecord) -> apb.MissedPaymentReport:
    return apb.MissedPaymentReport.FromString(row.document)


def save_report(
    row: MissedPaymentReportRecord, report: apb.MissedPaymentReport, clock: Clock
) -> None:
    row.state = apb.MissedPaymentReportState.Name(report.state)
    row.document, row.updated_at = report.SerializeToString(), clock.now()


def report_missed(
    db: Session, *, request: api.ReportDirectPayMissedPaymentsRequest, caller: Caller, clock: Clock
) -> apb.MissedPaymentReport:
    """The receiving parent's report (or a caseworker's for them) on a Direct Pay case: a "Direct Pay Missed
    Payments" service request for a caseworker to decide on."""
    row, case = _live_case(db, name=request.parent, caller=caller, field="parent")
    if access_rules.role_of(caller) == access_rules.CLIENT and (
        f"clients/{access_rules.client_id_of(caller)}" != case.receiving_parent.name
    ):
        raise PermissionDenied(
            "only the receiving parent reports Direct Pay missed payments",
            reason="NOT_RECEIVING_PARENT",
        )
    items = []
    bad: list[rules.Violation] = []
    for i, m in enumerate(request.missed_payments):
        try:
            due = strict_date(m.due_date)
        except ValueError:
            due = None
            bad.append(
                rules.Violation(f"missed_payments[{i}].due_date", "must be a full calendar date")
            )
        items.append(rules.Reported(due, m.expected_pence, m.received_pence))
    bad += [v for v in rules.check_reported(items, today=clock.today()) if v not in bad]
    if bad:
        raise invalid(bad)
    if case.service_type != pb.SERVICE_TYPE_DIRECT_PAY:
        raise precondition("NOT_DIRECT_PAY", request.parent, "the case is not on Direct Pay")
    shortfall = rules.shortfall(items)
    report_id = new_id()
    report = apb.MissedPaymentReport(
        name=f"cases/{row.id}/missedPaymentReports/{report_id}",
        state=apb.MISSED_PAYMENT_REPORT_STATE_REPORTED,
        missed_payments=sorted(
            request.missed_payments,
            key=lambda m: (m.due_date.year, m.due_date.month, m.due_date.day),
        ),
        shortfall_pence=shortfall,
        reported_by=(
            f"clients/{access_rules.client_id_of(caller)}"
            if access_rules.role_of(caller) == access_rules.CLIENT
            else caller.subject
        ),
        note=request.note.strip(),
    )
    sr = raise_sr(
        db,
        case_row=row,
        sub_area=DIRECT_PAY_SR,
        description=(
            f"Direct Pay missed payments reported: {len(items)} payment{'s' if len(items) != 1 else ''}, "
            f"{pounds(shortfall)} short ({report.name}). Decide whether to move the case to Collect & Pay."
        ),
        clock=clock,
        caller=caller,
    )
    report.service_request = sr.name
    report.create_time.FromDatetime(clock.now())
    record = MissedPaymentReportRecord(
        id=report_id,
        case_id=row.id,
        state="",
        document=b"",
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    save_report(record, report, clock)
    db.add(record)
    publish(
        db,
        case_id=row.id,
        clock=clock,
        message=ev.DirectPayMissedPaymentsReported(
            case_id=row.id,
            missed_payment_report=report.name,
            shortfall_pence=shortfall,
            service_request=sr.name,
        ),
    )
    access.audit(db, clock=clock, caller=caller, case_id=row.id, resource=report.name)
    return report


def visible_report(
    db: Session, *, name: str, caller: Caller, lock: bool = False
) -> tuple[CaseRecord, MissedPaymentReportRecord]:
    return case_records.visible_child(
        db,
        name=name,
        collection="missedPaymentReports",
        model=MissedPaymentReportRecord,
        what="missed payment report",
        caller=caller,
        lock=lock,
    )


def get_report(db: Session, *, name: str, caller: Caller, clock: Clock) -> apb.MissedPaymentReport:
    case_row, row = visible_report(db, name=name, caller=caller)
    access.audit(db, clock=clock, caller=caller, case_id=case_row.id, resource=name)
    return report_document(row)


# -- suspended arrears ---------------------------------------------------------------------------------------------


def _suspension(row: ArrearsSuspensionRecord) -> apb.ArrearsSuspension:
    return apb.ArrearsSuspension.FromString(row.document)


def _save_suspension(
    row: ArrearsSuspensionRecord, item: apb.ArrearsSuspension, clock: Clock
) -> None:
    row.state = apb.ArrearsSuspensionState.Name(item.state)
    row.document, row.updated_at = item.SerializeToString(), clock.now()


def suspended(db: Session, *, case_id: str) -> ArrearsSuspensionRecord | None:
    """The case's suspension in force, if any."""
    return db.scalars(
        select(ArrearsSuspensionRecord).where(
            ArrearsSuspensionRecord.case_id == case_id, ArrearsSuspensionRecord.state == SUSPENDED
        )
    ).first()


def suspend(
    db: Session, *, request: api.SuspendArrearsRequest, caller: Caller, clock: Clock
) -> apb.ArrearsSuspension:
    """Collection of the case's arrears suspended until the review date, one suspension at a time, with its
    "Suspended Arrears" service request (which the arrears check brings back on the review date)."""
    try:
        review = strict_date(request.review_date)
    except ValueError:
        raise InvalidArgument.field("review_date", "must be a full calendar date") from None
    if review is None or review <= clock.today():
        raise InvalidArgument.field("review_date", "must be after today")
    row, _ = _live_case(db, name=request.parent, caller=caller, field="parent")
    if suspended(db, case_id=row.id) is not None:
        raise precondition(
            "ARREARS_ALREADY_SUSPENDED",
            request.parent,
            "collection of the arrears is already suspended",
        )
    suspension_id = new_id()
    item = apb.ArrearsSuspension(
        name=f"cases/{row.id}/arrearsSuspensions/{suspension_id}",
        state=apb.ARREARS_SUSPENSION_STATE_ACTIVE,
        reason=request.reason,
        note=request.note.strip(),
        review_date=pb_date(review),
        suspended_by=caller.subject,
    )
    sr = raise_sr(
        db,
        case_row=row,
        sub_area=SUSPENDED_SR,
        description=(
            f"Collection of arrears suspended "
            f"({apb.ArrearsSuspensionReason.Name(request.reason).removeprefix('ARREARS_SUSPENSION_REASON_').lower()}"
            f"), review on {long_date(review)} ({item.name})"
        ),
        clock=clock,
        caller=caller,
    )
    item.service_request = sr.name
    item.create_time.FromDatetime(clock.now())
    record = ArrearsSuspensionRecord(
        id=suspension_id,
        case_id=row.id,
        state="",
        review_date=review,
        review_raised=False,
        document=b"",
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    _save_suspension(record, item, clock)
    db.add(record)
    publish(
        db,
        case_id=row.id,
        clock=clock,
        message=ev.ArrearsSuspended(
            case_id=row.id,
            arrears_suspension=item.name,
            reason=request.reason,
            review_date=item.review_date,
        ),
    )
    access.audit(db, clock=clock, caller=caller, case_id=row.id, resource=item.name)
    return item


def resume(
    db: Session, *, request: api.ResumeArrearsRequest, caller: Caller, clock: Clock
) -> apb.ArrearsSuspension:
    """The suspension ends; collection of the arrears resumes."""
    case_row, row = case_records.visible_child(
        db,
        name=request.name,
        collection="arrearsSuspensions",
        model=ArrearsSuspensionRecord,
        what="arrears suspension",
        caller=caller,
        lock=True,
    )
    item = _suspension(row)
    if row.state != SUSPENDED:
        raise precondition("SUSPENSION_ENDED", request.name, "the suspension has already ended")
    item.state = apb.ARREARS_SUSPENSION_STATE_ENDED
    item.resumed_by = caller.subject
    if request.note.strip():
        item.note = f"{item.note}\n{request.note.strip()}".strip()[:2000]
    item.end_time.FromDatetime(clock.now())
    _save_suspension(row, item, clock)
    publish(
        db,
        case_id=case_row.id,
        clock=clock,
        message=ev.ArrearsResumed(case_id=case_row.id, arrears_suspension=item.name),
    )
    access.audit(db, clock=clock, caller=caller, case_id=case_row.id, resource=item.name)
    return item


def reviews_due(db: Session, *, as_of: dt.date) -> list[str]:
    """Suspensions in force whose review date has come and whose review SR is not raised yet."""
    return list(
        db.scalars(
            select(ArrearsSuspensionRecord.id).where(
                ArrearsSuspensionRecord.state == SUSPENDED,
                ArrearsSuspensionRecord.review_date <= as_of,
                ArrearsSuspensionRecord.review_raised.is_(False),
            )
        )
    )


def raise_review(db: Session, *, suspension_id: str, clock: Clock) -> None:
    """The review date came: the "Suspended Arrears Review" service request, once."""
    row = db.get(ArrearsSuspensionRecord, suspension_id, with_for_update=True)
    if row is None or row.state != SUSPENDED or row.review_raised:
        return
    item = _suspension(row)
    sr = raise_sr(
        db,
        case_row=case_records.case_row(db, row.case_id),
        sub_area=SUSPENSION_REVIEW_SR,
        description=f"Review date reached: decide whether to resume collecting the arrears ({item.name})",
        clock=clock,
    )
    item.review_service_request = sr.name
    row.review_raised = True
    _save_suspension(row, item, clock)


# -- the arrears check on one Collect & Pay case -------------------------------------------------------------------


def check_case(db: Session, *, case_id: str, as_of: dt.date, grace_days: int, clock: Clock) -> None:
    """What is overdue (charges due on or before as_of less the grace period) against what the last check found: a
    move is ArrearsChanged; a rise is a missed payment (PaymentMissed, a "Missed Payment" SR, an arrears notice to the
    paying parent: MPA Regs 2009 reg 3), once per cut-off date. While the arrears are suspended the missed payment is
    recorded and announced but no SR or notice goes out (the suspension's review brings the case back). Credit on the
    account that rose since the last check raises an "Overpayment Decision" SR (a backdated change overpaid)."""
    row, case = case_records.load(db, case_id, lock=True)
    if case.state != pb.CASE_STATE_LIVE or case.service_type != pb.SERVICE_TYPE_COLLECT_AND_PAY:
        return
    cutoff = rules.cutoff(as_of, grace_days)
    overdue = account.overdue(db, case_id=case_id, on=cutoff)
    credit = account.in_credit(db, case_id=case_id, as_of=as_of)
    position = db.get(ArrearsPositionRecord, case_id, with_for_update=True)
    if position is None:
        position = ArrearsPositionRecord(
            case_id=case_id,
            overdue_pence=0,
            credit_pence=0,
            overpayment_service_request="",
            checked_on=as_of,
            updated_at=clock.now(),
        )
        db.add(position)
    previous, previous_credit = position.overdue_pence, position.credit_pence
    if overdue != previous:
        publish(
            db,
            case_id=case_id,
            clock=clock,
            message=ev.ArrearsChanged(
                case_id=case_id,
                arrears_pence=overdue,
                previous_arrears_pence=previous,
                as_of_date=pb_date(as_of),
            ),
        )
    missed = rules.newly_missed(previous, overdue)
    already = db.scalars(
        select(MissedPaymentRecord.id).where(
            MissedPaymentRecord.case_id == case_id, MissedPaymentRecord.due_on_or_before == cutoff
        )
    ).first()
    if missed > 0 and already is None:
        sr_name = ""
        if suspended(db, case_id=case_id) is None:
            sr = raise_sr(
                db,
                case_row=row,
                sub_area=MISSED_PAYMENT_SR,
                description=(
                    f"Payment missed: {pounds(missed)} due on or before {long_date(cutoff)} unpaid; arrears now "
                    f"{pounds(overdue)}"
                ),
                clock=clock,
            )
            sr_name = sr.name
            correspondence.schedule(
                db,
                case_id=case_id,
                kind=pb.CORRESPONDENCE_KIND_ARREARS_NOTICE,
                recipient=case.paying_parent.name,
                clock=clock,
                service_request=sr_name,
            )
        db.add(
            MissedPaymentRecord(
                id=new_id(),
                case_id=case_id,
                due_on_or_before=cutoff,
                missed_pence=missed,
                arrears_pence=overdue,
                service_request=sr_name,
                created_at=clock.now(),
            )
        )
        publish(
            db,
            case_id=case_id,
            clock=clock,
            message=ev.PaymentMissed(
                case_id=case_id,
                due_on_or_before=pb_date(cutoff),
                missed_pence=missed,
                arrears_pence=overdue,
                service_request=sr_name,
            ),
        )
    if credit > previous_credit and not srs.has_open(db, case_id=case_id, sub_area=OVERPAYMENT_SR):
        sr = raise_sr(
            db,
            case_row=row,
            sub_area=OVERPAYMENT_SR,
            description=(
                f"The account is {pounds(credit)} in credit (overpaid): make a Regulation 8 decision "
                "(DecideOverpayment)"
            ),
            clock=clock,
        )
        position.overpayment_service_request = sr.name
    position.overdue_pence, position.credit_pence = overdue, credit
    position.checked_on, position.updated_at = as_of, clock.now()


def overpayment_service_request(db: Session, *, case_id: str) -> str:
    """The open "Overpayment Decision" service request the check raised and no decision has taken up yet ("" when
    none); taken up by the caller's decision."""
    position = db.get(ArrearsPositionRecord, case_id, with_for_update=True)
    if position is None or not position.overpayment_service_request:
        return ""
    name, position.overpayment_service_request = position.overpayment_service_request, ""
    row = srs.row_named(db, name)
    return name if row is not None and row.status in srs.OPEN_STATUSES else ""
