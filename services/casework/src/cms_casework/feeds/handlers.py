"""The gateways' feed events, each turned into the right change of circumstances or service request on its case.

One module-level handler per event message (HANDLERS), each run in the transaction in which the platform's idempotent
consumer records the event for the group; a change raised from a feed also carries the event's CloudEvents id
(unique per case), so a redelivered event raises nothing twice. Changes from HMRC and CIS arrive verified at source
(interface evidence); they are applied afterwards (feeds.service), since applying needs the calculation service: the
applier is woken as the event's transaction commits (never for one that rolls back, which raised nothing)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from google.protobuf.message import Message
from sqlalchemy.event import listen
from sqlalchemy.orm import Session

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import resources_pb2 as pb
from cms.cra.v1 import events_pb2 as cra_ev
from cms.cra.v1 import resources_pb2 as cra_pb
from cms.dwp.v1 import events_pb2 as dwp_ev
from cms.dwp.v1 import resources_pb2 as dwp_pb
from cms.hmrc.v1 import events_pb2 as hmrc_ev
from cms_platform import calls, cloudevents
from cms_platform.clock import Clock
from cms_platform.consumer import Handler, Subscription
from cms_platform.convert import day_of, pb_date
from cms_platform.identity import bind_caller, reset_caller

from ..case_records import service as case_records
from ..case_records.models import CaseRecord
from ..changes import service as changes
from ..enforcement import service as enforcement
from ..methods_of_payment import service as methods_of_payment
from ..service_requests import service as srs
from .service import FEEDS

GROUP = "casework-feeds"
# Session.info key: the handler raised a change the feed applier applies (one verified at source).
_TO_APPLY = "casework.feeds.to_apply"
_BENEFIT_CHANGE = {
    dwp_ev.BENEFIT_CHANGE_KIND_AWARD_STARTED: pb.BENEFIT_CHANGE_STARTED,
    dwp_ev.BENEFIT_CHANGE_KIND_AWARD_ENDED: pb.BENEFIT_CHANGE_ENDED,
}


def _case(db: Session, case_id: str, *, lock: bool = False) -> tuple[CaseRecord, pb.Case] | None:
    """The case and its row, unless it is gone or closed. `lock`: FOR UPDATE, as reporting a change on it needs (the
    report then reads neither again)."""
    row = db.get(CaseRecord, case_id, with_for_update=lock) if case_id else None
    if row is None or row.state == case_records.CLOSED:
        return None  # an interest outliving its case: nothing to do
    return row, case_records.assemble(db, row)


def _interface(
    change: pb.ChangeOfCircumstances, source: str, on: dt.date | None
) -> pb.ChangeOfCircumstances:
    change.evidence.add(
        kind=pb.EVIDENCE_KIND_INTERFACE, description=source, received_date=pb_date(on)
    )
    return change


def _report(
    db: Session,
    env: cloudevents.Envelope,
    found: tuple[CaseRecord, pb.Case],
    change: pb.ChangeOfCircumstances,
    clock: Clock,
) -> None:
    """Report the change on the case `found` (read locked by `_case`), once per event."""
    row, case = found
    if changes.raised_from(db, case_id=row.id, source_event_id=env.id):
        return
    raised = changes.report(
        db,
        request=api.ReportChangeOfCircumstancesRequest(
            parent=case.name, change_of_circumstances=change
        ),
        caller=FEEDS,
        clock=clock,
        source_event_id=env.id,
        locked=found,
    )
    if raised.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_VERIFIED:  # not one held for a team leader
        db.info[_TO_APPLY] = True


def _sr(
    db: Session,
    row: CaseRecord,
    sub_area: str,
    description: str,
    origin: pb.ServiceRequestOrigin.ValueType,
    clock: Clock,
) -> None:
    srs.raise_sr(
        db,
        case_row=row,
        process="Case Maintenance",
        area="Interface Update",
        sub_area=sub_area,
        description=description,
        origin=origin,
        clock=clock,
    )


# -- DWP -----------------------------------------------------------------------------------------------------------


def on_benefit_information_changed(
    db: Session,
    event: dwp_ev.BenefitInformationChanged,
    env: cloudevents.Envelope,
    *,
    clock: Clock,
) -> None:
    if event.role not in (
        dwp_pb.CASE_ROLE_PAYING_PARENT,
        dwp_pb.CASE_ROLE_PAYING_PARENT_PARTNER,
    ):
        return
    found = _case(db, event.case_id, lock=True)
    if found is None:
        return
    kind = _BENEFIT_CHANGE.get(event.change_kind, pb.BENEFIT_CHANGE_CHANGED)
    _report(
        db,
        env,
        found,
        _interface(
            pb.ChangeOfCircumstances(
                type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_BENEFIT_DETAILS,
                effective_date=event.effective_date,
                reported_by=pb.REPORTER_CIS,
                benefit_details_change=pb.BenefitDetailsChange(
                    benefit=dwp_pb.BenefitType.Name(event.award.benefit_type).removeprefix(
                        "BENEFIT_TYPE_"
                    ),
                    change=kind,
                    partner_award=event.award.nino != event.nino
                    or event.role == dwp_pb.CASE_ROLE_PAYING_PARENT_PARTNER,
                    universal_credit_earned_income=event.award.benefit_type
                    == dwp_pb.BENEFIT_TYPE_UNIVERSAL_CREDIT
                    and event.award.universal_credit.earned_income_in_assessment_period,
                ),
            ),
            "CIS benefit broadcast",
            clock.today(),
        ),
        clock,
    )


def on_personal_details_changed(
    db: Session,
    event: dwp_ev.PersonalDetailsChanged,
    env: cloudevents.Envelope,
    *,
    clock: Clock,
) -> None:
    if event.cms_originated or not event.HasField("address"):
        return  # our own Send Update coming back is not news
    found = _case(db, event.case_id, lock=True)
    if found is None:
        return
    _, case = found
    client = (
        case.paying_parent
        if event.nino == case.paying_parent.identity.nino
        else case.receiving_parent
    )
    _report(
        db,
        env,
        found,
        _interface(
            pb.ChangeOfCircumstances(
                type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_ADDRESS_DETAILS,
                effective_date=event.effective_date,
                reported_by=pb.REPORTER_CIS,
                address_change=pb.AddressChange(
                    client=client.name, new_address=event.address.address
                ),
            ),
            "CIS personal details broadcast",
            clock.today(),
        ),
        clock,
    )


def on_deduction_decision_made(
    db: Session,
    event: dwp_ev.DeductionDecisionMade,
    env: cloudevents.Envelope,
    *,
    clock: Clock,
) -> None:
    methods_of_payment.on_deduction_decision(db, event=event, clock=clock)
    if event.decision.outcome != dwp_pb.DEDUCTION_OUTCOME_ACCEPTED:
        return
    found = _case(db, event.case_id, lock=True)
    if found is None:
        return
    _, case = found
    if case.method_of_payment_from == pb.METHOD_OF_PAYMENT_FROM_DEDUCTION_FROM_BENEFIT:
        return
    _report(
        db,
        env,
        found,
        _interface(
            pb.ChangeOfCircumstances(
                type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_TO_METHOD_OF_PAYMENT_FROM,
                effective_date=event.decision.decision_date,
                reported_by=pb.REPORTER_CIS,
                payment_arrangement_change=pb.PaymentArrangementChange(
                    method_of_payment_from=pb.METHOD_OF_PAYMENT_FROM_DEDUCTION_FROM_BENEFIT
                ),
            ),
            "Jobcentre Plus deduction decision",
            clock.today(),
        ),
        clock,
    )


# -- HMRC ----------------------------------------------------------------------------------------------------------


def on_rti_current_income_changed(
    db: Session,
    event: hmrc_ev.RtiCurrentIncomeChanged,
    env: cloudevents.Envelope,
    *,
    clock: Clock,
) -> None:
    found = _case(db, event.case_id, lock=True)
    if found is None:
        return
    _report(
        db,
        env,
        found,
        _interface(
            pb.ChangeOfCircumstances(
                type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_INCOME,
                reported_by=pb.REPORTER_HMRC,
                income_change=pb.IncomeChange(
                    current_gross_weekly_income_pence=event.current_weekly_income_pence,
                    source=pb.INCOME_SOURCE_RTI,
                ),
            ),
            "HMRC RTI current income",
            clock.today(),
        ),
        clock,
    )


def on_child_benefit_end_date_notified(
    db: Session,
    event: hmrc_ev.ChildBenefitEndDateNotified,
    env: cloudevents.Envelope,
    *,
    clock: Clock,
) -> None:
    found = _case(db, event.case_id, lock=True)
    if found is None:
        return
    _, case = found
    wanted = event.child_status.child
    for child in case.qualifying_children:
        same = (
            wanted.child_reference_number
            and child.child_reference_number == wanted.child_reference_number
        ) or (
            child.name.forenames == wanted.name.forenames
            and child.date_of_birth == wanted.date_of_birth
        )
        if same and not child.end_date.year:
            _report(
                db,
                env,
                found,
                _interface(
                    pb.ChangeOfCircumstances(
                        type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_QC_NOT_IN_FULL_TIME_EDUCATION,
                        effective_date=event.child_status.end_date,
                        reported_by=pb.REPORTER_HMRC,
                        child_change=pb.ChildChange(child_id=child.child_id),
                    ),
                    "HMRC Child Benefit end date",
                    clock.today(),
                ),
                clock,
            )


def on_deo_employment_changed(
    db: Session,
    event: hmrc_ev.DeoEmploymentChanged,
    env: cloudevents.Envelope,
    *,
    clock: Clock,
) -> None:
    found = _case(db, event.case_id)
    ended = day_of(event.change_date) or clock.today()
    if (
        found is not None
        and event.change_kind == hmrc_ev.EMPLOYMENT_CHANGE_KIND_EMPLOYMENT_ENDED
        and methods_of_payment.employment_ended_by_hmrc(
            db, case_id=found[0].id, leaving=ended, clock=clock
        )
    ):
        return  # the deduction order is under review, with its own service request
    if found is not None:
        what = hmrc_ev.EmploymentChangeKind.Name(event.change_kind).removeprefix(
            "EMPLOYMENT_CHANGE_KIND_"
        )
        on = day_of(event.change_date)
        _sr(
            db,
            found[0],
            "DEO Employment Change",
            f"HMRC reports {what.lower().replace('_', ' ')} on {on}: review the deduction from earnings order",
            pb.SERVICE_REQUEST_ORIGIN_HMRC_INTERFACE,
            clock,
        )


# -- the credit reference agency -----------------------------------------------------------------------------------


def on_case_surveillance_alert_raised(
    db: Session,
    event: cra_ev.CaseSurveillanceAlertRaised,
    env: cloudevents.Envelope,
    *,
    clock: Clock,
) -> None:
    found = _case(db, event.case_reference)
    if found is not None:
        _sr(
            db,
            found[0],
            "Case Surveillance Alert",
            "Credit reference agency alert: "
            + cra_pb.SurveillanceAlertKind.Name(event.alert.kind)
            .removeprefix("SURVEILLANCE_ALERT_KIND_")
            .lower(),
            pb.SERVICE_REQUEST_ORIGIN_CRA_INTERFACE,
            clock,
        )
        # A case under enforcement records the alert on its enforcement case (docs/domain/money.md, "Enforcement").
        enforcement.surveillance_alert(
            db,
            case_id=found[0].id,
            kind=cra_pb.SurveillanceAlertKind.Name(event.alert.kind),
            clock=clock,
        )


def on_case_surveillance_review_due(
    db: Session,
    event: cra_ev.CaseSurveillanceReviewDue,
    env: cloudevents.Envelope,
    *,
    clock: Clock,
) -> None:
    found = _case(db, event.case_reference)
    if found is not None:
        _sr(
            db,
            found[0],
            "Case Surveillance Review",
            f"Surveillance review date reached with {event.alerts_since_last_review_count} alerts since the last review",
            pb.SERVICE_REQUEST_ORIGIN_CRA_INTERFACE,
            clock,
        )


# Each handler takes the clock as well: `subscription` binds it.
HANDLERS: dict[type[Message], Callable[..., None]] = {
    dwp_ev.BenefitInformationChanged: on_benefit_information_changed,
    dwp_ev.PersonalDetailsChanged: on_personal_details_changed,
    dwp_ev.DeductionDecisionMade: on_deduction_decision_made,
    hmrc_ev.RtiCurrentIncomeChanged: on_rti_current_income_changed,
    hmrc_ev.ChildBenefitEndDateNotified: on_child_benefit_end_date_notified,
    hmrc_ev.DeoEmploymentChanged: on_deo_employment_changed,
    cra_ev.CaseSurveillanceAlertRaised: on_case_surveillance_alert_raised,
    cra_ev.CaseSurveillanceReviewDue: on_case_surveillance_review_due,
}


def _as_feed(
    handler: Callable[..., None], clock: Clock, wake: Callable[[], None] | None
) -> Handler:
    """The handler run as the feeds' own caller and operation (what it reports is audited under them); when it
    raised a change to apply, `wake` is called once the consumer's transaction has committed."""

    @functools.wraps(handler)
    def run(db: Session, event: Any, env: cloudevents.Envelope) -> None:
        token = bind_caller(FEEDS)
        try:
            with calls.serving(GROUP):
                handler(db, event, env, clock=clock)
        finally:
            reset_caller(token)
        if wake is not None and db.info.pop(_TO_APPLY, False):
            listen(db, "after_commit", lambda _session: wake(), once=True)

    return run


def subscription(
    *, clock: Clock, group: str = GROUP, wake: Callable[[], None] | None = None
) -> Subscription:
    """The feeds' consumer; `wake` starts the feed applier (the PeriodicJob feeds.service.applier makes)."""
    return Subscription(
        group_id=group,
        handlers={cls: _as_feed(fn, clock, wake) for cls, fn in HANDLERS.items()},
    )
