"""The arrears context's consumer: ReceiptRecorded (money_events.proto) pays the case's arrears agreement in force with
what the account allocated of it to arrears (the whole receipt from a producer that does not say); CaseClosed
(events.proto) for the paying parent's death opens the claim against the estate (arrears.estates). Run
in the transaction in which the platform's idempotent consumer records the event for the group, so a redelivered
receipt pays nothing twice."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cms.casework.v1 import events_pb2 as case_ev
from cms.casework.v1 import money_events_pb2 as money_ev
from cms.casework.v1 import resources_pb2 as pb
from cms_platform import cloudevents
from cms_platform.clock import Clock
from cms_platform.consumer import Subscription
from cms_platform.convert import day_of

from ..case_records import service as case_records
from . import estates, service

GROUP = "casework-arrears"


def subscription(*, clock: Clock, group: str = GROUP) -> Subscription:
    def on_receipt_recorded(
        db: Session, event: money_ev.ReceiptRecorded, env: cloudevents.Envelope
    ) -> None:
        if not event.case_id:
            return  # a receipt held in suspense, on no case yet
        service.apply_receipt(
            db,
            case_id=event.case_id,
            amount_pence=(
                event.arrears_allocated_pence
                if event.HasField("arrears_allocated_pence")
                else event.amount_pence
            ),
            received_on=day_of(event.received_date),
            clock=clock,
        )

    def on_case_closed(db: Session, event: case_ev.CaseClosed, env: cloudevents.Envelope) -> None:
        if event.reason != pb.CASE_CLOSURE_REASON_DEATH_OF_PAYING_PARENT:
            return
        if case_records.find(db, event.case_id) is None:
            return  # not this database's case (a shared broker)
        estates.paying_parent_died(
            db,
            case_id=event.case_id,
            died_on=day_of(event.effective_date) or clock.today(),
            clock=clock,
        )

    return Subscription(
        group_id=group,
        handlers={
            money_ev.ReceiptRecorded: on_receipt_recorded,
            case_ev.CaseClosed: on_case_closed,
        },
    )
