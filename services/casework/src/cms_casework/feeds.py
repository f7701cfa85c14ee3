"""Events in: the gateways' feeds become the right change of circumstances or service request on the case.

The consumer group records each event in the same transaction as what it raised (the platform's idempotent
consumer), and a change raised from a feed carries the event's CloudEvents id (unique per case), so a redelivered
event raises nothing twice. Changes from HMRC and CIS arrive verified at source (interface evidence); applying them
needs the calculation service, so it happens after the event's transaction, in a short background pass that
applies every case's feed changes until none are left: a crash between the two loses nothing."""

from __future__ import annotations

import datetime as dt
import uuid

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import resources_pb2 as pb
from cms.cra.v1 import events_pb2 as cra_ev
from cms.cra.v1 import resources_pb2 as cra_pb
from cms.dwp.v1 import events_pb2 as dwp_ev
from cms.dwp.v1 import resources_pb2 as dwp_pb
from cms.hmrc.v1 import events_pb2 as hmrc_ev
from cms_platform import cloudevents
from cms_platform.clock import Clock
from cms_platform.consumer import Subscription
from cms_platform.identity import bind_caller, reset_caller, service_caller
from cms_platform.scheduling import PeriodicJob

from . import store
from .changes import service as changes
from .downstream import Downstream
from .models import CaseRecord, ChangeRecord
from .service_requests import service as srs

log = structlog.get_logger(__name__)

GROUP = "casework-feeds"
FEEDS = service_caller("casework-feeds")
_VERIFIED = pb.ChangeOfCircumstancesState.Name(pb.CHANGE_OF_CIRCUMSTANCES_STATE_VERIFIED)
_BENEFIT_CHANGE = {
    dwp_ev.BENEFIT_CHANGE_KIND_AWARD_STARTED: pb.BENEFIT_CHANGE_STARTED,
    dwp_ev.BENEFIT_CHANGE_KIND_AWARD_ENDED: pb.BENEFIT_CHANGE_ENDED,
}


def _case(db: Session, case_id: str) -> tuple[CaseRecord, pb.Case] | None:
    row = db.get(CaseRecord, case_id) if case_id else None
    if row is None or row.state == "CASE_STATE_CLOSED":
        return None  # an interest outliving its case: nothing to do
    return row, store.assemble(db, row)


def _interface(
    change: pb.ChangeOfCircumstances, source: str, on: dt.date | None
) -> pb.ChangeOfCircumstances:
    change.evidence.add(
        kind=pb.EVIDENCE_KIND_INTERFACE, description=source, received_date=store.pb_date(on)
    )
    return change


def _report(
    db: Session,
    env: cloudevents.Envelope,
    case: pb.Case,
    change: pb.ChangeOfCircumstances,
    clock: Clock,
) -> None:
    if (
        db.scalar(
            select(ChangeRecord.id).where(
                ChangeRecord.case_id == case.name.removeprefix("cases/"),
                ChangeRecord.source_event_id == env.id,
            )
        )
        is not None
    ):
        return
    changes.report(
        db,
        request=api.ReportChangeOfCircumstancesRequest(
            parent=case.name, change_of_circumstances=change
        ),
        caller=FEEDS,
        clock=clock,
        source_event_id=env.id,
    )


def _sr(
    db: Session, row: CaseRecord, sub_area: str, description: str, origin: int, clock: Clock
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


def subscription(*, clock: Clock, group: str = GROUP) -> Subscription:
    def as_feed(handler):
        def run(db: Session, event: object, env: cloudevents.Envelope) -> None:
            token = bind_caller(FEEDS)
            try:
                handler(db, env)
            finally:
                reset_caller(token)

        return run

    def benefit_changed(db: Session, env: cloudevents.Envelope) -> None:
        event = dwp_ev.BenefitInformationChanged.FromString(env.data)
        found = _case(db, event.case_id)
        if found is None or event.role not in (
            dwp_pb.CASE_ROLE_PAYING_PARENT,
            dwp_pb.CASE_ROLE_PAYING_PARENT_PARTNER,
        ):
            return
        _, case = found
        kind = _BENEFIT_CHANGE.get(event.change_kind, pb.BENEFIT_CHANGE_CHANGED)
        _report(
            db,
            env,
            case,
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
                    ),
                ),
                "CIS benefit broadcast",
                clock.today(),
            ),
            clock,
        )

    def personal_details_changed(db: Session, env: cloudevents.Envelope) -> None:
        event = dwp_ev.PersonalDetailsChanged.FromString(env.data)
        found = _case(db, event.case_id)
        if found is None or event.cms_originated or not event.HasField("address"):
            return  # our own Send Update coming back is not news
        _, case = found
        client = (
            case.paying_parent
            if event.nino == case.paying_parent.identity.nino
            else case.receiving_parent
        )
        _report(
            db,
            env,
            case,
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

    def deduction_decided(db: Session, env: cloudevents.Envelope) -> None:
        event = dwp_ev.DeductionDecisionMade.FromString(env.data)
        found = _case(db, event.case_id)
        if found is None or event.decision.outcome != dwp_pb.DEDUCTION_OUTCOME_ACCEPTED:
            return
        _, case = found
        if case.method_of_payment_from == pb.METHOD_OF_PAYMENT_FROM_DEDUCTION_FROM_BENEFIT:
            return
        _report(
            db,
            env,
            case,
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

    def rti_income_changed(db: Session, env: cloudevents.Envelope) -> None:
        event = hmrc_ev.RtiCurrentIncomeChanged.FromString(env.data)
        found = _case(db, event.case_id)
        if found is None:
            return
        _, case = found
        _report(
            db,
            env,
            case,
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

    def child_benefit_ended(db: Session, env: cloudevents.Envelope) -> None:
        event = hmrc_ev.ChildBenefitEndDateNotified.FromString(env.data)
        found = _case(db, event.case_id)
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
                    case,
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

    def deo_employment_changed(db: Session, env: cloudevents.Envelope) -> None:
        event = hmrc_ev.DeoEmploymentChanged.FromString(env.data)
        found = _case(db, event.case_id)
        if found is not None:
            what = hmrc_ev.EmploymentChangeKind.Name(event.change_kind).removeprefix(
                "EMPLOYMENT_CHANGE_KIND_"
            )
            on = store.day_of(event.change_date)
            _sr(
                db,
                found[0],
                "DEO Employment Change",
                f"HMRC reports {what.lower().replace('_', ' ')} on {on}: review the deduction from earnings order",
                pb.SERVICE_REQUEST_ORIGIN_HMRC_INTERFACE,
                clock,
            )

    def surveillance_alert(db: Session, env: cloudevents.Envelope) -> None:
        event = cra_ev.CaseSurveillanceAlertRaised.FromString(env.data)
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

    def surveillance_review(db: Session, env: cloudevents.Envelope) -> None:
        event = cra_ev.CaseSurveillanceReviewDue.FromString(env.data)
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

    handlers = {
        dwp_ev.BenefitInformationChanged: benefit_changed,
        dwp_ev.PersonalDetailsChanged: personal_details_changed,
        dwp_ev.DeductionDecisionMade: deduction_decided,
        hmrc_ev.RtiCurrentIncomeChanged: rti_income_changed,
        hmrc_ev.ChildBenefitEndDateNotified: child_benefit_ended,
        hmrc_ev.DeoEmploymentChanged: deo_employment_changed,
        cra_ev.CaseSurveillanceAlertRaised: surveillance_alert,
        cra_ev.CaseSurveillanceReviewDue: surveillance_review,
    }
    return Subscription(group_id=group, handlers={k: as_feed(v) for k, v in handlers.items()})


def apply_feed_changes(*, sessions: sessionmaker, clock: Clock, downstream: Downstream) -> int:
    """Apply the verified changes feeds raised, case by case. Returns how many cases were brought up to date."""
    with sessions() as s:
        case_ids = sorted(
            set(
                s.scalars(
                    select(ChangeRecord.case_id).where(
                        ChangeRecord.state == _VERIFIED, ChangeRecord.source_event_id.is_not(None)
                    )
                )
            )
        )
    done = 0
    token = bind_caller(FEEDS)
    try:
        for case_id in case_ids:
            try:
                changes.apply_pending(
                    sessions=sessions,
                    request=api.ApplyChangesOfCircumstancesRequest(
                        request_id=str(uuid.uuid4()), parent=f"cases/{case_id}"
                    ),
                    caller=FEEDS,
                    clock=clock,
                    downstream=downstream,
                )
                done += 1
            except Exception as exc:  # noqa: BLE001 - this case waits for the next pass; the others go on
                log.warning(
                    "could not apply feed changes yet", case=f"cases/{case_id}", error=str(exc)
                )
    finally:
        reset_caller(token)
    return done


def applier(
    *, sessions: sessionmaker, clock: Clock, downstream: Downstream, interval_seconds: float
) -> PeriodicJob:
    return PeriodicJob(
        "casework-feed-changes",
        interval_seconds,
        lambda: apply_feed_changes(sessions=sessions, clock=clock, downstream=downstream),
    )
