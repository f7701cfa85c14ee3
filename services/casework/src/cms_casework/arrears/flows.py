"""Arrears decisions that reach beyond the arrears tables, each in the caller's one transaction: a Direct Pay report
decided (a change of service type through the change-of-circumstances path, the shortfall recognised on the account)
and a Regulation 8 decision on an overpayment (the offset posted on the account, or a reduction of the amount payable
recorded, with its service request and a notice)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms.casework.v1 import arrears_pb2 as apb
from cms.casework.v1 import arrears_service_pb2 as api
from cms.casework.v1 import casework_service_pb2 as case_api
from cms.casework.v1 import money_events_pb2 as ev
from cms.casework.v1 import resources_pb2 as pb
from cms_platform.clock import Clock
from cms_platform.convert import day_of, pb_date, strict_date
from cms_platform.errors import InvalidArgument
from cms_platform.identity import Caller

from ..access import service as access
from ..case_records import service as case_records
from ..changes import service as changes
from ..correspondence import service as correspondence
from ..names import new_id
from ..payment_plans import service as payment_plans
from ..wording import pounds
from . import account, rules, service
from .models import OverpaymentDecisionRecord

_D = apb.DirectPayDecision


def decide_direct_pay(
    db: Session, *, request: api.DecideDirectPayMissedPaymentsRequest, caller: Caller, clock: Clock
) -> apb.MissedPaymentReport:
    """MOVE_TO_COLLECT_AND_PAY: a change of service type to Collect & Pay is reported from today (the caseworker
    verifies and applies it as any change: the new payment plan follows) and the shortfall is recognised as arrears on
    the account. NO_FURTHER_ACTION: the report closes. Either way its service request is left to the caseworker,
    with the decision noted on the report."""
    if not request.reason.strip():
        raise InvalidArgument.field("reason", "is required")
    case_row, row = service.visible_report(db, name=request.name, caller=caller, lock=True)
    report = service.report_document(row)
    if report.state != apb.MISSED_PAYMENT_REPORT_STATE_REPORTED:
        raise service.precondition(
            "REPORT_DECIDED", request.name, "the report has already been decided"
        )
    case = case_records.assemble(db, case_row)
    case_records.ensure_open(case)
    recognised = 0
    if request.decision == _D.Value("DIRECT_PAY_DECISION_MOVE_TO_COLLECT_AND_PAY"):
        if case.service_type != pb.SERVICE_TYPE_DIRECT_PAY:
            raise service.precondition("NOT_DIRECT_PAY", case.name, "the case is not on Direct Pay")
        change = changes.report(
            db,
            request=case_api.ReportChangeOfCircumstancesRequest(
                parent=case.name,
                change_of_circumstances=pb.ChangeOfCircumstances(
                    type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_TO_SERVICE_TYPE,
                    effective_date=pb_date(clock.today()),
                    reported_by=pb.REPORTER_CMS,
                    payment_arrangement_change=pb.PaymentArrangementChange(
                        service_type=pb.SERVICE_TYPE_COLLECT_AND_PAY
                    ),
                    note=f"Direct Pay missed payments: moving to Collect & Pay ({report.name})",
                ),
            ),
            caller=caller,
            clock=clock,
        )
        report.change_of_circumstances = change.name
        recognised = report.shortfall_pence
        # Each missed payment's shortfall was due on its own date, so it is arrears from then (oldest paid first).
        for missed in report.missed_payments:
            shortfall = missed.expected_pence - missed.received_pence
            if shortfall > 0:
                account.recognise_direct_pay_shortfall(
                    db,
                    case_id=case_row.id,
                    amount_pence=shortfall,
                    on=min(day_of(missed.due_date) or clock.today(), clock.today()),
                    cause=report.name,
                    clock=clock,
                )
        report.state = apb.MISSED_PAYMENT_REPORT_STATE_MOVED_TO_COLLECT_AND_PAY
    else:
        report.state = apb.MISSED_PAYMENT_REPORT_STATE_NO_FURTHER_ACTION
    report.decision = request.decision
    report.decision_reason = request.reason.strip()
    report.decided_by = caller.subject
    report.decide_time.FromDatetime(clock.now())
    service.save_report(row, report, clock)
    service.publish(
        db,
        case_id=case_row.id,
        clock=clock,
        message=ev.DirectPayMissedPaymentsDecided(
            case_id=case_row.id,
            missed_payment_report=report.name,
            decision=request.decision,
            recognised_arrears_pence=recognised,
            change_of_circumstances=report.change_of_circumstances,
        ),
    )
    access.audit(db, clock=clock, caller=caller, case_id=case_row.id, resource=report.name)
    return report


def _amount_payable(
    db: Session, *, case: pb.Case, start: dt.date, caller: Caller, clock: Clock
) -> int:
    """The maintenance due in the current plan's first period due on or after `start` (0 when none)."""
    if not case.current_payment_plan:
        return 0
    plan = payment_plans.get(db, name=case.current_payment_plan, caller=caller, clock=clock)
    for payment in plan.payments:
        due = day_of(payment.due_date)
        if due is not None and due >= start:
            return payment.maintenance_pence
    return 0


def decide_overpayment(
    db: Session, *, request: api.DecideOverpaymentRequest, caller: Caller, clock: Clock
) -> apb.OverpaymentDecision:
    """A Regulation 8 decision on the credit the account holds (MPA Regs 2009 regs 8-9), explained step by step, with
    its "Overpayment Decision" service request and a notice to both parents."""
    outcome = request.outcome
    reduce = outcome == apb.OVERPAYMENT_OUTCOME_REDUCE_AMOUNT_PAYABLE
    today = clock.today()
    v: list[rules.Violation] = []
    if not request.reason.strip():
        v.append(rules.Violation("reason", "is required"))
    start = None
    if reduce:
        if request.reduction_per_period_pence <= 0:
            v.append(
                rules.Violation(
                    "reduction_per_period_pence", "is required to reduce the amount payable"
                )
            )
        try:
            start = strict_date(request.reduction_start_date)
        except ValueError:
            v.append(rules.Violation("reduction_start_date", "must be a full calendar date"))
        else:
            if start is None:
                v.append(
                    rules.Violation(
                        "reduction_start_date", "is required to reduce the amount payable"
                    )
                )
            elif start < today:
                v.append(rules.Violation("reduction_start_date", "must be today or later"))
    else:
        if request.reduction_per_period_pence:
            v.append(
                rules.Violation("reduction_per_period_pence", "is only for REDUCE_AMOUNT_PAYABLE")
            )
        if request.HasField("reduction_start_date"):
            v.append(rules.Violation("reduction_start_date", "is only for REDUCE_AMOUNT_PAYABLE"))
    if v:
        raise service.invalid(v)
    case_row = case_records.visible_case(
        db, name=request.parent, caller=caller, field="parent", lock=True
    )
    case = case_records.assemble(db, case_row)
    case_records.ensure_open(case)
    overpaid = account.in_credit(db, case_id=case_row.id, as_of=today)
    if overpaid <= 0:
        raise service.precondition(
            "NOT_IN_CREDIT", request.parent, "the account holds no overpayment"
        )
    arrears = account.arrears(db, case_id=case_row.id, as_of=today)
    decision_id = new_id()
    decision = apb.OverpaymentDecision(
        name=f"cases/{case_row.id}/overpaymentDecisions/{decision_id}",
        outcome=outcome,
        overpaid_pence=overpaid,
        arrears_pence=arrears,
        reason=request.reason.strip(),
        decided_by=caller.subject,
    )
    if reduce:
        assert start is not None
        payable = _amount_payable(db, case=case, start=start, caller=caller, clock=clock)
        if payable <= 0:
            raise service.precondition(
                "NOTHING_PAYABLE", request.parent, "no amount is payable from that date to reduce"
            )
        cut = rules.reduce_amount_payable(
            overpaid_pence=overpaid,
            amount_payable_pence=payable,
            reduction_pence=request.reduction_per_period_pence,
            start=start,
        )
        decision.amount_payable_per_period_pence = payable
        decision.reduction_per_period_pence = cut.reduction_pence
        decision.reduced_amount_per_period_pence = cut.reduced_amount_pence
        decision.reduction_periods = cut.periods
        decision.final_reduction_pence = cut.final_reduction_pence
        decision.reduction_start_date.CopyFrom(pb_date(start))
        decision.explanation.extend(cut.explanation)
    else:
        if arrears <= 0:
            raise service.precondition(
                "NO_ARREARS",
                request.parent,
                "there are no arrears to offset the overpayment against",
            )
        offset = rules.offset_against_arrears(overpaid_pence=overpaid, arrears_pence=arrears)
        decision.offset_pence = offset.offset_pence
        decision.explanation.extend(offset.explanation)
        account.offset_overpayment(
            db,
            case_id=case_row.id,
            amount_pence=offset.offset_pence,
            on=today,
            cause=decision.name,
            clock=clock,
        )
    # The service request the arrears check raised for this credit, if still open; else one of its own.
    sr_name = (
        service.overpayment_service_request(db, case_id=case_row.id)
        or service.raise_sr(
            db,
            case_row=case_row,
            sub_area=service.OVERPAYMENT_SR,
            description=(
                f"Overpayment of {pounds(overpaid)} decided: "
                f"{apb.OverpaymentOutcome.Name(outcome).removeprefix('OVERPAYMENT_OUTCOME_').replace('_', ' ').lower()} "
                f"({decision.name})"
            ),
            clock=clock,
            caller=caller,
        ).name
    )
    decision.service_request = sr_name
    decision.create_time.FromDatetime(clock.now())
    db.add(
        OverpaymentDecisionRecord(
            id=decision_id,
            case_id=case_row.id,
            document=decision.SerializeToString(),
            created_at=clock.now(),
        )
    )
    service.publish(
        db,
        case_id=case_row.id,
        clock=clock,
        message=ev.OverpaymentDecided(
            case_id=case_row.id,
            overpayment_decision=decision.name,
            outcome=outcome,
            overpaid_pence=overpaid,
            offset_pence=decision.offset_pence,
            reduction_per_period_pence=decision.reduction_per_period_pence,
            reduction_periods=decision.reduction_periods,
            reduction_start_date=decision.reduction_start_date if reduce else None,
        ),
    )
    correspondence.notify_parents(
        db,
        case=case,
        case_id=case_row.id,
        kind=pb.CORRESPONDENCE_KIND_OVERPAYMENT_DECISION_NOTICE,
        clock=clock,
        service_request=sr_name,
    )
    access.audit(db, clock=clock, caller=caller, case_id=case_row.id, resource=decision.name)
    return decision


def get_overpayment_decision(
    db: Session, *, name: str, caller: Caller, clock: Clock
) -> apb.OverpaymentDecision:
    _, row = case_records.read_child(
        db,
        name=name,
        collection="overpaymentDecisions",
        model=OverpaymentDecisionRecord,
        what="overpayment decision",
        caller=caller,
        clock=clock,
    )
    return apb.OverpaymentDecision.FromString(row.document)


def reductions_due(db: Session, *, case_id: str) -> list[apb.OverpaymentDecision]:
    """The case's REDUCE_AMOUNT_PAYABLE decisions, oldest first: what the account's charging would apply (each
    period's charge from reduction_start_date reduced by reduction_per_period_pence, reduction_periods times, the
    last by final_reduction_pence)."""
    return [
        d
        for d in (
            apb.OverpaymentDecision.FromString(doc)
            for doc in db.scalars(
                select(OverpaymentDecisionRecord.document)
                .where(OverpaymentDecisionRecord.case_id == case_id)
                .order_by(OverpaymentDecisionRecord.created_at)
            )
        )
        if d.outcome == apb.OVERPAYMENT_OUTCOME_REDUCE_AMOUNT_PAYABLE
    ]


def amounts_payable_reduced(
    db: Session, case_ids: Sequence[str]
) -> dict[str, list[tuple[dt.date, int]]]:
    """The REDUCE_AMOUNT_PAYABLE decisions of the cases, oldest first, as (first due date, reduction per period):
    what the account's charge run applies (accounts.service.set_reductions), each period until the overpayment is
    recovered (MPA Regs 2009 reg 9)."""
    out: dict[str, list[tuple[dt.date, int]]] = {}
    if not case_ids:
        return out
    for case_id, doc in db.execute(
        select(OverpaymentDecisionRecord.case_id, OverpaymentDecisionRecord.document)
        .where(OverpaymentDecisionRecord.case_id.in_(list(case_ids)))
        .order_by(OverpaymentDecisionRecord.created_at, OverpaymentDecisionRecord.id)
    ):
        decision = apb.OverpaymentDecision.FromString(doc)
        start = day_of(decision.reduction_start_date)
        if decision.outcome == apb.OVERPAYMENT_OUTCOME_REDUCE_AMOUNT_PAYABLE and start is not None:
            out.setdefault(case_id, []).append((start, decision.reduction_per_period_pence))
    return out
