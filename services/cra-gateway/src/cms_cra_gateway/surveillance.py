"""CRA Case Surveillance: an enforcement case's paying parent is watched until a review date.

Each surveillance remembers which entries of the file it has seen (addresses, accounts, employment hints, property
indicators, public records, a deceased flag) and each current account's turnover baseline. A check compares the file
on a date against that memory: every unseen entry of a watched kind is one alert, a turnover that has risen by the
threshold is one alert, and the review date arriving is one review-due event. The memory, the alerts and their
outbox events are written in one transaction with the surveillance row locked, so each alert is raised exactly once
whichever replica checks and however often. A stopped surveillance is never checked again.

Checks run when a scenario change lands on a watched file (in the change's own transaction), from the scheduler as
the clock moves, and on demand (RunSurveillanceChecks).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cms.cra.v1 import cra_service_pb2 as api
from cms.cra.v1 import events_pb2 as ev
from cms.cra.v1 import resources_pb2 as pb
from cms_platform import outbox
from cms_platform.clock import Clock
from cms_platform.convert import date_or_violation, day_of, pb_date
from cms_platform.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PreconditionViolation,
    ViolationCollector,
)
from cms_platform.events import topic_of
from cms_platform.paging import page
from cms_platform.scheduling import PeriodicJob
from cms_simulation.population import normalise_nino, valid_nino

from .assessment import rules as assessment
from .models import SurveillanceAlertRecord, SurveillanceRecord
from .port import CreditReferencePort

log = structlog.get_logger(__name__)

TOPIC = topic_of(ev.CaseSurveillanceAlertRaised)

ALL_KINDS = tuple(k for k in pb.SurveillanceAlertKind.values() if k)
ACTIVE, REVIEW_DUE_STATE, STOPPED_STATE = "ACTIVE", "REVIEW_DUE", "STOPPED"
_STATE = {
    ACTIVE: pb.CASE_SURVEILLANCE_STATE_ACTIVE,
    REVIEW_DUE_STATE: pb.CASE_SURVEILLANCE_STATE_REVIEW_DUE,
    STOPPED_STATE: pb.CASE_SURVEILLANCE_STATE_STOPPED,
}


@dataclass(frozen=True)
class SurveillanceParameters:
    # A current account's average monthly credit turnover this much above its baseline is actionable [D] ...
    turnover_increase_percent: int = 25
    # ... and by at least this much, so small accounts do not alert on noise [D].
    turnover_increase_minimum_pence: int = 200_00


DEFAULTS = SurveillanceParameters()


# -- what a file holds, as surveillance sees it --------------------------------------------------------------------


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def entries(f: pb.CreditFile | None) -> Iterator[tuple[str, int, str, object, dt.date | None]]:
    """(key, alert kind, finding field, finding, effective date) for every alertable entry on a file."""
    if f is None:
        return
    for link in f.address_links:
        a = link.address
        key = f"address:{_norm(a.postcode).replace(' ', '')}|{_norm(a.lines[0] if a.lines else '')}"
        yield (
            key,
            pb.SURVEILLANCE_ALERT_KIND_NEW_ADDRESS,
            "address_link",
            link,
            day_of(link.first_seen_date),
        )
    for a in f.current_accounts:
        yield (
            f"current:{a.account_id}",
            pb.SURVEILLANCE_ALERT_KIND_NEW_CURRENT_ACCOUNT,
            "current_account",
            a,
            day_of(a.opened_date),
        )
    for a in f.credit_accounts:
        yield (
            f"credit:{a.account_id}",
            pb.SURVEILLANCE_ALERT_KIND_NEW_CREDIT_ACCOUNT,
            "credit_account",
            a,
            day_of(a.opened_date),
        )
    for h in f.employment_hints:
        yield (
            f"hint:{h.hint_id}",
            pb.SURVEILLANCE_ALERT_KIND_NEW_EMPLOYMENT_HINT,
            "employment_hint",
            h,
            day_of(h.last_seen_date),
        )
    for p in f.property_indicators:
        yield (
            f"property:{p.indicator_id}",
            pb.SURVEILLANCE_ALERT_KIND_NEW_PROPERTY_INDICATOR,
            "property_indicator",
            p,
            day_of(p.first_seen_date),
        )
    for r in f.public_records:
        yield (
            f"record:{r.record_id}",
            pb.SURVEILLANCE_ALERT_KIND_NEW_PUBLIC_RECORD,
            "public_record",
            r,
            day_of(r.record_date),
        )
    if f.date_of_death.year:
        yield (
            "deceased",
            pb.SURVEILLANCE_ALERT_KIND_DECEASED,
            "date_of_death",
            f.date_of_death,
            day_of(f.date_of_death),
        )


def _open(a: pb.CurrentAccount) -> bool:
    return not a.closed_date.year and a.status != pb.ACCOUNT_STATUS_SETTLED


def snapshot(f: pb.CreditFile | None) -> dict:
    return {
        "entries": sorted(key for key, *_ in entries(f)),
        "turnover": {
            a.account_id: assessment.average_monthly_turnover(a)
            for a in (f.current_accounts if f is not None else ())
            if _open(a)
        },
        "since_review": [],
    }


# -- the surveillance itself ---------------------------------------------------------------------------------------


def _load(
    db: Session, surveillance_id: str, case_reference: str, *, lock: bool = False
) -> SurveillanceRecord:
    row = (
        db.get(SurveillanceRecord, surveillance_id, with_for_update=lock)
        if is_surveillance_id(surveillance_id)
        else None
    )
    if (
        row is None or row.case_reference != case_reference
    ):  # another case's surveillance is not this caller's
        raise NotFound("case surveillance", f"case-surveillances/{surveillance_id}")
    return row


def is_surveillance_id(text: str) -> bool:
    try:
        uuid.UUID(text)
        return True
    except ValueError:
        return False


def _review_date(request, today: dt.date) -> dt.date:
    v = ViolationCollector()
    review = date_or_violation(request.review_date, "review_date", v)
    v.raise_if_any()
    if review <= today:
        raise InvalidArgument.field("review_date", f"must be after today ({today.isoformat()})")
    return review


def start(
    db: Session,
    *,
    request: api.StartCaseSurveillanceRequest,
    file: pb.CreditFile | None,
    clock: Clock,
) -> pb.CaseSurveillance:
    """`file` is the person's file today (None when the agency holds none): what it already holds is the starting
    point, not news."""
    v = ViolationCollector()
    nino = normalise_nino(request.person.nino)
    if not valid_nino(nino):
        v.add("person.nino", "is not a valid National Insurance number")
    date_or_violation(request.person.date_of_birth, "person.date_of_birth", v)
    for i, kind in enumerate(request.watched_kinds):
        if kind not in ALL_KINDS:
            v.add(f"watched_kinds[{i}]", "is not a surveillance alert kind")
    v.raise_if_any()
    today = clock.today()
    review = _review_date(request, today)
    case = request.legal_basis.case_reference
    existing = db.scalar(
        select(SurveillanceRecord).where(
            SurveillanceRecord.case_reference == case,
            SurveillanceRecord.nino == nino,
            SurveillanceRecord.state != STOPPED_STATE,
        )
    )
    if existing is not None:
        raise AlreadyExists(
            "case surveillance",
            f"case-surveillances/{existing.id}",
            "this case already has a surveillance on this paying parent",
        )
    s = pb.CaseSurveillance(
        surveillance_id=str(uuid.uuid4()),
        case_reference=case,
        person=request.person,
        review_date=pb_date(review),
        state=pb.CASE_SURVEILLANCE_STATE_ACTIVE,
        watched_kinds=sorted(set(request.watched_kinds)) or ALL_KINDS,
    )
    s.person.nino = nino
    s.start_time.FromDatetime(clock.now())
    db.add(
        SurveillanceRecord(
            id=s.surveillance_id,
            case_reference=case,
            nino=nino,
            state=ACTIVE,
            review_date=review,
            surveillance=s.SerializeToString(),
            seen=json.dumps(snapshot(file)),
            created_at=clock.now(),
        )
    )
    return s


def reschedule(
    db: Session, *, request: api.RescheduleCaseSurveillanceReviewRequest, clock: Clock
) -> pb.CaseSurveillance:
    review = _review_date(request, clock.today())
    row = _load(db, request.surveillance_id, request.legal_basis.case_reference, lock=True)
    if row.state == STOPPED_STATE:
        raise FailedPrecondition(
            PreconditionViolation(
                "SURVEILLANCE_STOPPED",
                f"case-surveillances/{row.id}",
                "the surveillance has been stopped",
            ),
            reason="SURVEILLANCE_STOPPED",
        )
    s = pb.CaseSurveillance.FromString(row.surveillance)
    s.review_date.CopyFrom(pb_date(review))
    s.state = pb.CASE_SURVEILLANCE_STATE_ACTIVE
    row.state, row.review_date, row.surveillance = ACTIVE, review, s.SerializeToString()
    return s


def stop(
    db: Session, *, request: api.StopCaseSurveillanceRequest, clock: Clock
) -> pb.CaseSurveillance:
    if request.reason not in pb.SurveillanceStopReason.values() or not request.reason:
        raise InvalidArgument.field("reason", "choose why surveillance stops")
    row = _load(db, request.surveillance_id, request.legal_basis.case_reference, lock=True)
    if row.state == STOPPED_STATE:
        raise FailedPrecondition(
            PreconditionViolation(
                "SURVEILLANCE_STOPPED",
                f"case-surveillances/{row.id}",
                "the surveillance has already been stopped",
            ),
            reason="SURVEILLANCE_STOPPED",
        )
    s = pb.CaseSurveillance.FromString(row.surveillance)
    s.state, s.stop_reason = pb.CASE_SURVEILLANCE_STATE_STOPPED, request.reason
    s.stop_time.FromDatetime(clock.now())
    row.state, row.surveillance = STOPPED_STATE, s.SerializeToString()
    event = ev.CaseSurveillanceStopped(
        surveillance_id=s.surveillance_id,
        case_reference=s.case_reference,
        nino=row.nino,
        reason=request.reason,
        start_time=s.start_time,
        stop_time=s.stop_time,
        alert_count=s.alert_count,
    )
    _publish(db, clock, row.id, event)
    return s


def get(db: Session, *, case_reference: str, surveillance_id: str) -> pb.CaseSurveillance:
    return pb.CaseSurveillance.FromString(_load(db, surveillance_id, case_reference).surveillance)


def list_for_case(
    db: Session, *, request: api.ListCaseSurveillancesRequest
) -> api.ListCaseSurveillancesResponse:
    size, offset = page(request.page_size, request.page_token, maximum=500)
    q = select(SurveillanceRecord).where(
        SurveillanceRecord.case_reference == request.legal_basis.case_reference
    )
    if not request.show_stopped:
        q = q.where(SurveillanceRecord.state != STOPPED_STATE)
    rows = db.scalars(
        q.order_by(SurveillanceRecord.created_at.desc(), SurveillanceRecord.id)
        .offset(offset)
        .limit(size + 1)
    ).all()
    return api.ListCaseSurveillancesResponse(
        case_surveillances=[pb.CaseSurveillance.FromString(r.surveillance) for r in rows[:size]],
        next_page_token=str(offset + size) if len(rows) > size else "",
    )


def list_alerts(
    db: Session, *, request: api.ListSurveillanceAlertsRequest
) -> api.ListSurveillanceAlertsResponse:
    row = _load(db, request.surveillance_id, request.legal_basis.case_reference)
    size, offset = page(request.page_size, request.page_token, maximum=500)
    rows = db.scalars(
        select(SurveillanceAlertRecord)
        .where(SurveillanceAlertRecord.surveillance_id == row.id)
        .order_by(SurveillanceAlertRecord.detect_time.desc(), SurveillanceAlertRecord.alert_id)
        .offset(offset)
        .limit(size + 1)
    ).all()
    return api.ListSurveillanceAlertsResponse(
        surveillance_alerts=[pb.SurveillanceAlert.FromString(r.alert) for r in rows[:size]],
        next_page_token=str(offset + size) if len(rows) > size else "",
    )


# -- checks --------------------------------------------------------------------------------------------------------


@dataclass
class CheckResult:
    alerts: list[pb.SurveillanceAlert]
    review_due: bool = False


def _publish(db: Session, clock: Clock, surveillance_id: str, message) -> None:
    outbox.publish(
        db,
        clock=clock,
        key=surveillance_id,
        subject=f"case-surveillances/{surveillance_id}",
        message=message,
    )


def check(
    db: Session,
    row: SurveillanceRecord,
    f: pb.CreditFile | None,
    *,
    on: dt.date,
    clock: Clock,
    params: SurveillanceParameters = DEFAULTS,
    review: bool = True,
) -> CheckResult:
    """Compare the file on `on` with what the surveillance has seen; raise alerts and the review-due event. The
    caller holds `row` locked in the transaction the results are written in."""
    if row.state == STOPPED_STATE:
        return CheckResult([])
    s = pb.CaseSurveillance.FromString(row.surveillance)
    memory = json.loads(row.seen)
    seen, baselines = set(memory["entries"]), memory["turnover"]
    watched = set(s.watched_kinds) or set(ALL_KINDS)
    now = clock.now()
    alerts: list[pb.SurveillanceAlert] = []

    def raise_alert(kind: int, field: str, finding, effective: dt.date | None) -> None:
        alert = pb.SurveillanceAlert(
            alert_id=str(uuid.uuid4()),
            surveillance_id=row.id,
            case_reference=row.case_reference,
            kind=kind,
            effective_date=pb_date(min(effective or on, on)),
        )
        alert.detect_time.FromDatetime(now)
        getattr(alert, field).CopyFrom(finding)
        alert.assessment.CopyFrom(assessment.assess_alert(kind, alert, f, on=on))
        alerts.append(alert)

    for key, kind, field, finding, effective in entries(f):
        if key in seen:
            continue
        seen.add(key)
        if kind in watched:
            raise_alert(kind, field, finding, effective)
    for a in f.current_accounts if f is not None else ():
        if not _open(a):
            continue
        average = assessment.average_monthly_turnover(a)
        base = baselines.get(a.account_id)
        if base is None:
            baselines[a.account_id] = average
        elif (
            average * 100 >= base * (100 + params.turnover_increase_percent)
            and average - base >= params.turnover_increase_minimum_pence
        ):
            baselines[a.account_id] = average  # the next alert needs a further rise from here
            if pb.SURVEILLANCE_ALERT_KIND_TURNOVER_INCREASE in watched:
                latest = a.monthly_turnover[0].month if a.monthly_turnover else None
                raise_alert(
                    pb.SURVEILLANCE_ALERT_KIND_TURNOVER_INCREASE,
                    "current_account",
                    a,
                    dt.date(latest.year, latest.month, 1) if latest else on,
                )
        else:
            baselines[a.account_id] = min(
                base, average
            )  # a fall resets the baseline: a rise counts from the trough

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
        memory["since_review"] = memory.get("since_review", []) + [a.kind for a in alerts]

    due = review and row.state == ACTIVE and row.review_date <= on
    if due:
        since = memory.get("since_review", [])
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
        memory["since_review"] = []
        s.state, row.state = pb.CASE_SURVEILLANCE_STATE_REVIEW_DUE, REVIEW_DUE_STATE

    memory["entries"], memory["turnover"] = sorted(seen), baselines
    row.seen, row.surveillance = json.dumps(memory), s.SerializeToString()
    return CheckResult(alerts, due)


def check_person(
    db: Session,
    nino: str,
    f: pb.CreditFile | None,
    *,
    on: dt.date,
    clock: Clock,
    params: SurveillanceParameters = DEFAULTS,
) -> list[pb.SurveillanceAlert]:
    """After a change to a person's file, in the change's transaction: alerts for every surveillance watching it."""
    rows = db.scalars(
        select(SurveillanceRecord)
        .where(SurveillanceRecord.nino == nino, SurveillanceRecord.state != STOPPED_STATE)
        .order_by(SurveillanceRecord.id)
        .with_for_update()
    ).all()
    out: list[pb.SurveillanceAlert] = []
    for row in rows:
        out.extend(check(db, row, f, on=on, clock=clock, params=params, review=False).alerts)
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
    """Check every surveillance not stopped, one transaction each (a crash loses nothing and repeats nothing).
    Returns (checked, alerts raised, reviews due)."""
    on = on or clock.today()
    checked = raised = reviews = 0
    after = ""
    while True:
        with sessions() as s:
            ids = list(
                s.scalars(
                    select(SurveillanceRecord.id)
                    .where(SurveillanceRecord.state != STOPPED_STATE, SurveillanceRecord.id > after)
                    .order_by(SurveillanceRecord.id)
                    .limit(batch)
                )
            )
        if not ids:
            return checked, raised, reviews
        for surveillance_id in ids:
            with sessions.begin() as s:
                row = s.get(SurveillanceRecord, surveillance_id, with_for_update=True)
                if row is None or row.state == STOPPED_STATE:
                    continue
                result = check(
                    s, row, cra.monitor(row.nino, on=on), on=on, clock=clock, params=params
                )
                checked += 1
                raised += len(result.alerts)
                reviews += result.review_due
        after = ids[-1]


def surveillance_scheduler(
    *,
    sessions: sessionmaker,
    cra: CreditReferencePort,
    clock: Clock,
    interval_seconds: float,
    params: SurveillanceParameters = DEFAULTS,
) -> PeriodicJob:
    """Checks at the clock's date every `interval_seconds` (agencies send monitoring alerts daily; a shorter
    interval notices a moved clock soon)."""

    def run() -> None:
        checked, raised, reviews = run_due(sessions=sessions, cra=cra, clock=clock, params=params)
        if raised or reviews:
            log.info("surveillance checks ran", checked=checked, alerts=raised, reviews_due=reviews)

    return PeriodicJob("cra-surveillance", interval_seconds, run)
