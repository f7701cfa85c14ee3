"""Surveillance actions that write events as well as surveillances: stopping one, and checking files.

A check compares the file on a date with what the surveillance has seen (rules.compare); the memory, the alerts and
their outbox events are written in one transaction with the surveillance row locked, so each alert is raised exactly
once whichever replica checks and however often. The review date arriving publishes one review-due event. A stopped
surveillance is never checked again.

Checks run when a scenario change lands on a watched file (in the change's own transaction), from the periodic pass
as the clock moves, and on demand (RunSurveillanceChecks).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from google.protobuf.message import Message
from sqlalchemy.orm import Session, sessionmaker

from cms.cra.v1 import cra_service_pb2 as api
from cms.cra.v1 import events_pb2 as ev
from cms.cra.v1 import resources_pb2 as pb
from cms_platform import outbox
from cms_platform.clock import Clock
from cms_platform.errors import InvalidArgument

from ..port import CreditReferencePort
from . import rules, service
from .models import SurveillanceAlertRecord, SurveillanceRecord
from .rules import DEFAULTS, SurveillanceParameters


def _publish(db: Session, clock: Clock, surveillance_id: str, message: Message) -> None:
    outbox.publish(
        db,
        clock=clock,
        key=f"case-surveillances/{surveillance_id}",
        subject=f"case-surveillances/{surveillance_id}",
        message=message,
    )


def stop(
    db: Session, *, request: api.StopCaseSurveillanceRequest, clock: Clock
) -> pb.CaseSurveillance:
    """Stop for good, with the reason; publishes CaseSurveillanceStopped."""
    if request.reason not in pb.SurveillanceStopReason.values() or not request.reason:
        raise InvalidArgument.field("reason", "choose why surveillance stops")
    row = service.load(
        db,
        surveillance_id=request.surveillance_id,
        case_reference=request.legal_basis.case_reference,
        lock=True,
    )
    if row.state == rules.STOPPED:
        raise service.stopped_error(row, "the surveillance has already been stopped")
    s = pb.CaseSurveillance.FromString(row.surveillance)
    s.state, s.stop_reason = pb.CASE_SURVEILLANCE_STATE_STOPPED, request.reason
    s.stop_time.FromDatetime(clock.now())
    row.state, row.surveillance = rules.STOPPED, s.SerializeToString()
    _publish(
        db,
        clock,
        row.id,
        ev.CaseSurveillanceStopped(
            surveillance_id=s.surveillance_id,
            case_reference=s.case_reference,
            nino=row.nino,
            reason=request.reason,
            start_time=s.start_time,
            stop_time=s.stop_time,
            alert_count=s.alert_count,
        ),
    )
    return s


@dataclass
class CheckResult:
    alerts: list[pb.SurveillanceAlert]
    review_due: bool = False


def check(
    db: Session,
    *,
    row: SurveillanceRecord,
    file: pb.CreditFile | None,
    on: dt.date,
    clock: Clock,
    params: SurveillanceParameters = DEFAULTS,
    review: bool = True,
) -> CheckResult:
    """Compare the file on `on` with what the surveillance has seen; raise alerts and the review-due event. The
    caller holds `row` locked in the transaction the results are written in."""
    if row.state == rules.STOPPED:
        return CheckResult([])
    s = pb.CaseSurveillance.FromString(row.surveillance)
    findings, memory = rules.compare(
        rules.Memory.from_json(row.seen), file, watched=s.watched_kinds, params=params
    )
    now = clock.now()
    # No file, no findings: rules.compare finds nothing on a file the agency does not hold.
    alerts = (
        []
        if file is None
        else [
            rules.alert(
                finding,
                file,
                alert_id=str(uuid.uuid4()),
                surveillance_id=row.id,
                case_reference=row.case_reference,
                detected=now,
                on=on,
            )
            for finding in findings
        ]
    )
    for alert in alerts:
        db.add(
            SurveillanceAlertRecord(
                alert_id=alert.alert_id,
                surveillance_id=row.id,
                detect_time=now,
                alert=alert.SerializeToString(),
            )
        )
        _publish(
            db,
            clock,
            row.id,
            ev.CaseSurveillanceAlertRaised(
                surveillance_id=row.id,
                case_reference=row.case_reference,
                nino=row.nino,
                alert=alert,
                review_date=s.review_date,
            ),
        )
    if alerts:
        s.alert_count += len(alerts)
        s.last_alert_time.FromDatetime(now)
        memory.since_review.extend(a.kind for a in alerts)

    due = review and rules.review_due(row.state, row.review_date, on)
    if due:
        since = memory.since_review
        _publish(
            db,
            clock,
            row.id,
            ev.CaseSurveillanceReviewDue(
                surveillance_id=row.id,
                case_reference=row.case_reference,
                nino=row.nino,
                review_date=s.review_date,
                start_time=s.start_time,
                alert_count=s.alert_count,
                alerts_since_last_review_count=len(since),
                alert_kinds_since_last_review=sorted(set(since)),
            ),
        )
        memory.since_review = []
        s.state, row.state = pb.CASE_SURVEILLANCE_STATE_REVIEW_DUE, rules.REVIEW_DUE

    row.seen, row.surveillance = memory.to_json(), s.SerializeToString()
    return CheckResult(alerts, due)


def check_person(
    db: Session,
    *,
    nino: str,
    file: pb.CreditFile | None,
    on: dt.date,
    clock: Clock,
    params: SurveillanceParameters = DEFAULTS,
) -> list[pb.SurveillanceAlert]:
    """After a change to a person's file, in the change's transaction: alerts for every surveillance watching it."""
    out: list[pb.SurveillanceAlert] = []
    for row in service.watching(db, nino=nino):
        out.extend(
            check(db, row=row, file=file, on=on, clock=clock, params=params, review=False).alerts
        )
    return out


def run_due(
    *,
    sessions: sessionmaker,
    cra: CreditReferencePort,
    clock: Clock,
    on: dt.date | None = None,
    params: SurveillanceParameters = DEFAULTS,
    batch: int = 200,
) -> tuple[int, int, int]:
    """Check every surveillance not stopped against the file the agency's monitoring shows on `on` (default: today),
    one transaction each (a crash loses nothing and repeats nothing). Returns (checked, alerts raised, reviews due)."""
    on = on or clock.today()
    checked = raised = reviews = 0
    after = ""
    while True:
        with sessions() as s:
            ids = service.not_stopped_after(s, after=after, limit=batch)
        if not ids:
            return checked, raised, reviews
        for surveillance_id in ids:
            with sessions.begin() as s:
                row = s.get(SurveillanceRecord, surveillance_id, with_for_update=True)
                if row is None or row.state == rules.STOPPED:
                    continue
                result = check(
                    s,
                    row=row,
                    file=cra.monitor(row.nino, on=on),
                    on=on,
                    clock=clock,
                    params=params,
                )
                checked += 1
                raised += len(result.alerts)
                reviews += result.review_due
        after = ids[-1]
