"""The events methods of payment follow, in their own consumer group: employers' remittance lines (ReceiptRecorded
with an earnings deduction) recorded against their deduction orders; a payment plan issued (a default standing order
where the paying parent chose none, and a deduction from benefit kept in step with the flat-rate liability); a case
closed (its deductions cancelled, its orders ended); DWP ending a deduction. Each handler runs in the transaction in
which the platform's idempotent consumer records the event, so a redelivered event changes nothing twice. The
deductions' decisions and HMRC's employment alerts reach this context through the feeds' handlers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from google.protobuf.message import Message
from sqlalchemy.event import listen
from sqlalchemy.orm import Session

from cms.casework.v1 import events_pb2 as ev
from cms.casework.v1 import money_events_pb2 as money_ev
from cms.dwp.v1 import events_pb2 as dwp_ev
from cms_platform import calls, cloudevents
from cms_platform.clock import Clock
from cms_platform.consumer import Handler, Subscription
from cms_platform.identity import bind_caller, reset_caller

from . import service

GROUP = "casework-methods-of-payment"


def on_receipt_recorded(
    db: Session, event: money_ev.ReceiptRecorded, env: cloudevents.Envelope, *, clock: Clock
) -> None:
    if event.HasField("earnings_deduction"):
        service.record_pay_day(
            db,
            case_id=event.case_id,
            deduction=event.earnings_deduction,
            receipt=event.receipt,
            clock=clock,
        )


def on_payment_plan_issued(
    db: Session, event: ev.PaymentPlanIssued, env: cloudevents.Envelope, *, clock: Clock
) -> None:
    service.default_standing_order(db, case_id=event.case_id, clock=clock)
    service.on_liability_changed(
        db,
        case_id=event.case_id,
        calculation=event.calculation,
        weekly_pence=event.weekly_amount_pence,
        clock=clock,
    )


def on_case_closed(
    db: Session, event: ev.CaseClosed, env: cloudevents.Envelope, *, clock: Clock
) -> None:
    service.on_case_closed(db, case_id=event.case_id, clock=clock)


def on_deduction_ended(
    db: Session, event: dwp_ev.DeductionEnded, env: cloudevents.Envelope, *, clock: Clock
) -> None:
    service.on_deduction_ended(db, event=event, clock=clock)


HANDLERS: dict[type[Message], Callable[..., None]] = {
    money_ev.ReceiptRecorded: on_receipt_recorded,
    ev.PaymentPlanIssued: on_payment_plan_issued,
    ev.CaseClosed: on_case_closed,
    dwp_ev.DeductionEnded: on_deduction_ended,
}


def _bound(handler: Callable[..., None], clock: Clock, wake: Callable[[], None] | None) -> Handler:
    """The handler run as methods of payment's own caller and operation; `wake` (the instructions pass) is called
    once the consumer's transaction has committed, for the instructions it may have recorded."""

    @functools.wraps(handler)
    def run(db: Session, event: Any, env: cloudevents.Envelope) -> None:
        token = bind_caller(service.METHODS_OF_PAYMENT)
        try:
            with calls.serving(GROUP):
                handler(db, event, env, clock=clock)
        finally:
            reset_caller(token)
        if wake is not None:
            listen(db, "after_commit", lambda _session: wake(), once=True)

    return run


def subscription(
    *, clock: Clock, group: str = GROUP, wake: Callable[[], None] | None = None
) -> Subscription:
    return Subscription(
        group_id=group, handlers={cls: _bound(fn, clock, wake) for cls, fn in HANDLERS.items()}
    )
