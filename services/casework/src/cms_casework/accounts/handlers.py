"""Casework's own events the accounts act on (consumer group `casework-accounts`): a payment plan issued opens the
case's account and becomes its charge schedule; a case closed stops its charges. Each handler runs in the transaction
in which the platform's idempotent consumer records the event, and is idempotent itself (a plan is recorded once)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from cms.casework.v1 import events_pb2 as ev
from cms_platform import calls, cloudevents
from cms_platform.clock import Clock
from cms_platform.consumer import Handler, Subscription
from cms_platform.convert import day_of
from cms_platform.errors import NotFound
from cms_platform.identity import bind_caller, reset_caller, service_caller

from ..case_records import service as case_records
from ..payment_plans import service as payment_plans
from . import service

GROUP = "casework-accounts"
ACCOUNTS = service_caller(GROUP)


def on_payment_plan_issued(
    db: Session, event: ev.PaymentPlanIssued, env: cloudevents.Envelope, *, clock: Clock
) -> None:
    plan = payment_plans.plan_named(db, event.payment_plan)
    if plan is None:
        return  # not this database's case (a shared broker) or gone: nothing to open
    try:
        case_records.case_row(db, event.case_id)
    except NotFound:
        return
    service.record_plan(db, case_id=event.case_id, plan=plan, clock=clock)


def on_case_closed(
    db: Session, event: ev.CaseClosed, env: cloudevents.Envelope, *, clock: Clock
) -> None:
    closed_on = day_of(event.effective_date) or clock.today()
    service.case_closed(db, case_id=event.case_id, closed_on=closed_on, clock=clock)


HANDLERS: dict[type, Callable[..., None]] = {
    ev.PaymentPlanIssued: on_payment_plan_issued,
    ev.CaseClosed: on_case_closed,
}


def _bound(handler: Callable[..., None], clock: Clock) -> Handler:
    @functools.wraps(handler)
    def run(db: Session, event: Any, env: cloudevents.Envelope) -> None:
        token = bind_caller(ACCOUNTS)
        try:
            with calls.serving(GROUP):
                handler(db, event, env, clock=clock)
        finally:
            reset_caller(token)

    return run


def subscription(*, clock: Clock, group: str = GROUP) -> Subscription:
    return Subscription(
        group_id=group, handlers={cls: _bound(fn, clock) for cls, fn in HANDLERS.items()}
    )
