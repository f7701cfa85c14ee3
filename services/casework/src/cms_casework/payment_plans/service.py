"""Payment plans: issued the same day as the calculation they carry out (the schedule from payment_plans.rules),
superseding the plan before it, which keeps what falls due before the new one starts; read and listed behind the
case's visibility. Keyword-only functions over an explicit session."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms.calculation.v1 import resources_pb2 as calc_pb
from cms.casework.v1 import events_pb2 as ev
from cms.casework.v1 import resources_pb2 as pb
from cms_platform import outbox
from cms_platform.clock import Clock
from cms_platform.convert import day_of, pb_date
from cms_platform.identity import Caller

from ..case_records import service as case_records
from ..correspondence import service as correspondence
from ..liability.service import Rebuilt
from ..names import last_id, new_id
from . import rules
from .models import PaymentPlanRecord

CURRENT = pb.PaymentPlanState.Name(pb.PAYMENT_PLAN_STATE_CURRENT)
SUPERSEDED = pb.PaymentPlanState.Name(pb.PAYMENT_PLAN_STATE_SUPERSEDED)


def _document(row: PaymentPlanRecord) -> pb.PaymentPlan:
    return pb.PaymentPlan.FromString(row.document)


def _current(db: Session, case_id: str) -> list[PaymentPlanRecord]:
    return list(
        db.scalars(
            select(PaymentPlanRecord).where(
                PaymentPlanRecord.case_id == case_id, PaymentPlanRecord.state == CURRENT
            )
        )
    )


def terms(db: Session, name: str) -> tuple[int, int]:
    """(payment frequency, service type) of a payment plan; (0, 0) when there is none."""
    row = db.get(PaymentPlanRecord, last_id(name)) if name else None
    plan = _document(row) if row else pb.PaymentPlan()
    return plan.payment_frequency, plan.service_type


def plan_named(db: Session, name: str) -> pb.PaymentPlan | None:
    """A plan as issued, for casework's own consumers of PaymentPlanIssued (no caller, so not audited); None when
    there is none."""
    row = db.get(PaymentPlanRecord, last_id(name)) if name else None
    return _document(row) if row is not None else None


def supersede_current(db: Session, *, case_id: str) -> None:
    """The case closed: its current plan is superseded as it stands."""
    for row in _current(db, case_id):
        plan = _document(row)
        plan.state = pb.PAYMENT_PLAN_STATE_SUPERSEDED
        row.state, row.document = SUPERSEDED, plan.SerializeToString()


def issue(
    db: Session,
    *,
    case: pb.Case,
    paying_parent_nino: str,
    calculation: calc_pb.Calculation,
    share: calc_pb.ReceivingParentAmount,
    clock: Clock,
    backdated: Rebuilt | None = None,
    steps: Sequence[rules.Step] = (),
) -> str:
    """The plan runs from the calculation's effective date (or today, if later) to the day before the next annual
    review, issued today: the same day as the calculation. It says from when the liability it carries out is in force
    and what the decision's backdated days made due or overpaid (`backdated`: the liability timeline's rebuild); the
    schedule itself starts today at the latest, and the account books those amounts. `steps`: the weekly amounts of
    the calculations the decision made, each from its own date (the last is `share`'s), so one already decided for a
    later date (an expected change) changes the amounts from that date. Returns its name."""
    case_id = case.name.removeprefix("cases/")
    from_date = steps[0].start if steps else day_of(calculation.effective_date)
    start = max(from_date or clock.today(), clock.today())
    review = day_of(case.annual_review_date)
    plan_start, _ = rules.plan_period(start, review)
    plan = rules.build_plan(
        weekly_maintenance_pence=share.weekly_amount_pence,
        weekly_paying_parent_fee_pence=share.paying_parent_fee_weekly_pence,
        weekly_receiving_parent_fee_pence=share.receiving_parent_fee_weekly_pence,
        frequency=case.payment_frequency,
        start=plan_start,
        annual_review_date=review,
        service_type=case.service_type,
        method_of_payment_from=case.method_of_payment_from,
        calculation=calculation.name,
        steps=steps,
    )
    liability_start = (
        day_of(backdated.segments[0].start_date)
        if backdated is not None and backdated.segments
        else day_of(calculation.effective_date)
    )
    if liability_start is not None:
        plan.liability_start_date.CopyFrom(pb_date(liability_start))
    if backdated is not None:
        plan.backdated_amount_due_pence = backdated.amount_due_pence
        plan.backdated_amount_overpaid_pence = backdated.amount_overpaid_pence
    plan_id = new_id()
    plan.name = f"cases/{case_id}/paymentPlans/{plan_id}"
    plan.issue_time.FromDatetime(clock.now())
    superseded = ""
    for old in _current(db, case_id):
        document = _document(old)
        document.state = pb.PAYMENT_PLAN_STATE_SUPERSEDED
        # The old plan still holds what falls due before the new one starts (an annual review's plan starts on the
        # review date, 30 days on): it ends the day before, with those payments.
        kept = [p for p in document.payments if (day_of(p.due_date) or plan_start) < plan_start]
        del document.payments[:]
        document.payments.extend(kept)
        document.period.end_date.CopyFrom(pb_date(plan_start - dt.timedelta(days=1)))
        document.total_due_pence = rules.total_due(kept)
        old.state, old.document = SUPERSEDED, document.SerializeToString()
        superseded = document.name
    db.add(
        PaymentPlanRecord(
            id=plan_id,
            case_id=case_id,
            state=CURRENT,
            document=plan.SerializeToString(),
            issued_at=clock.now(),
        )
    )
    first = plan.payments[0] if plan.payments else pb.ScheduledPayment()
    outbox.publish(
        db,
        clock=clock,
        key=case.name,
        subject=case.name,
        message=ev.PaymentPlanIssued(
            case_id=case_id,
            payment_plan=plan.name,
            calculation=calculation.name,
            paying_parent_nino=paying_parent_nino,
            service_type=case.service_type,
            method_of_payment_from=case.method_of_payment_from,
            payment_frequency=case.payment_frequency,
            weekly_amount_pence=share.weekly_amount_pence,
            period=plan.period,
            first_due_date=first.due_date,
            amount_due_per_period_pence=first.amount_due_pence,
            payment_count=len(plan.payments),
            superseded_payment_plan=superseded,
        ),
    )
    correspondence.notify_parents(
        db, case=case, case_id=case_id, kind=pb.CORRESPONDENCE_KIND_PAYMENT_PLAN, clock=clock
    )
    return plan.name


def get(db: Session, *, name: str, caller: Caller, clock: Clock) -> pb.PaymentPlan:
    _, row = case_records.read_child(
        db,
        name=name,
        collection="paymentPlans",
        model=PaymentPlanRecord,
        what="payment plan",
        caller=caller,
        clock=clock,
    )
    return _document(row)


def list_for_case(
    db: Session, *, case_id: str, size: int, offset: int
) -> tuple[list[pb.PaymentPlan], bool]:
    """A page of the case's plans, newest first, and whether there is more."""
    rows = db.scalars(
        select(PaymentPlanRecord)
        .where(PaymentPlanRecord.case_id == case_id)
        .order_by(PaymentPlanRecord.issued_at.desc(), PaymentPlanRecord.id)
        .offset(offset)
        .limit(size + 1)
    ).all()
    return [_document(r) for r in rows[:size]], len(rows) > size
