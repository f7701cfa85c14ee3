"""Applying changes of circumstances, and what a change's service request being cancelled does to the change.

Applying gathers outside any transaction (the case, its verified changes, the paying parent's other live cases; then
what they do, worked out on copies by changes.apply; then one calculation per distinct effective date among the
applied changes that can move the liability, in date order, each on the circumstances as they stand from that date:
s.17(4) of the Child Support Act 1991 and reg 18 of SI 2012/2677, each change from its own date) and records
everything in one transaction: the case and its clients, the calculations as the case's liability timeline (rebuilt
from the earliest of those dates, ending at the closure when a change closes the case) and the new payment plan the
same day, each change's outcome and its service request, an outcome letter (the last of the day's replacing earlier
ones), one call after the last of several changes, and the case's closure when a change closes it (its other service
requests closed as Not Required, its payment plan superseded).

"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from cms.calculation.v1 import resources_pb2 as calc_pb
from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import events_pb2 as ev
from cms.casework.v1 import resources_pb2 as pb
from cms_platform import conflicts, outbox
from cms_platform.clock import Clock
from cms_platform.convert import day_of, pb_date
from cms_platform.errors import Conflict
from cms_platform.idempotency import remember, replay
from cms_platform.identity import Caller

from ..access import service as access
from ..calculations import flows as recording
from ..calculations import rules as calculation_rules
from ..calculations import service as calculations
from ..case_records import service as case_records
from ..case_records.models import CaseRecord
from ..clients import service as clients
from ..correspondence import service as correspondence
from ..downstream import Downstream
from ..liability import rules as liability_rules
from ..liability import service as liability
from ..payment_plans import service as payment_plans
from ..service_requests import service as srs
from . import apply, rules, service
from .service import S

_RESOLUTION = {
    pb.CHANGE_OF_CIRCUMSTANCES_STATE_APPLIED: pb.SERVICE_REQUEST_RESOLUTION_CODE_ACCEPTED,
    pb.CHANGE_OF_CIRCUMSTANCES_STATE_TOLERANCE_NOT_BREACHED: pb.SERVICE_REQUEST_RESOLUTION_CODE_TOLERANCE_NOT_BREACHED,
    pb.CHANGE_OF_CIRCUMSTANCES_STATE_SUPERSEDED: pb.SERVICE_REQUEST_RESOLUTION_CODE_SUPERSEDED,
}

_RESPONSE = api.ApplyChangesOfCircumstancesResponse


def apply_pending(
    *,
    sessions: sessionmaker,
    request: api.ApplyChangesOfCircumstancesRequest,
    caller: Caller,
    clock: Clock,
    downstream: Downstream,
) -> api.ApplyChangesOfCircumstancesResponse:
    """ApplyChangesOfCircumstances: every verified change of the case, once per request id."""
    with sessions() as s:
        previous = replay(s, request=request, response_type=_RESPONSE)
        if previous is not None:
            return previous
        row = case_records.visible_case(s, name=request.parent, caller=caller, field="parent")
        read = _read(s, row, service.verified_of(s, row.id))
    return _apply(
        sessions=sessions,
        request=request,
        read=read,
        caller=caller,
        clock=clock,
        downstream=downstream,
    )


@dataclass(frozen=True)
class _Read:
    """What an application reads before it gathers: the case as read (its id and version), its verified changes,
    the paying parent's other live cases the calculation covers and the segments in force."""

    case_id: str
    version: int
    case: pb.Case
    pending: list[pb.ChangeOfCircumstances]
    covered: list[pb.Case]
    in_force: list[liability.Start]


def _read(s: Session, row: CaseRecord, pending: list[pb.ChangeOfCircumstances]) -> _Read:
    return _Read(
        case_id=row.id,
        version=row.version,
        case=case_records.assemble(s, row),
        pending=pending,
        covered=[case_records.assemble(s, r) for r in calculations.live_cases_of(s, row)[1:]],
        in_force=liability.current_starts(s, case_id=row.id),
    )


def _apply(
    *,
    sessions: sessionmaker,
    request: api.ApplyChangesOfCircumstancesRequest,
    read: _Read,
    caller: Caller,
    clock: Clock,
    downstream: Downstream,
) -> api.ApplyChangesOfCircumstancesResponse:
    """Gather outside any transaction, then record in one (refused when the case moved on since `read`)."""
    case, pending, covered = read.case, read.pending, read.covered
    parties = {
        case.paying_parent.name: case.paying_parent,
        case.receiving_parent.name: case.receiving_parent,
    }
    case_records.ensure_open(case)
    out = apply.plan_application(case, parties, pending)
    timeline: list[Dated] = []
    dates = _dates(case, out, today=clock.today(), in_force=read.in_force)
    if case.HasField("latest_calculation") and dates:
        gathered = calculations.gather_income(out.case, downstream=downstream)
        for on, started in dates:
            partial = apply.plan_application(
                case, parties, apply.applied_by(pending, out, on, floor=_floor(case, clock.today()))
            )
            calculation = _recalculate(
                case,
                partial,
                on=on,
                income=gathered,
                covered=covered,
                downstream=downstream,
                request=request,
            )
            timeline.append(Dated(on, calculation, started))
    closes = _closes_on(case, out, today=clock.today())
    after = (
        recording.gather_after_closure(
            sessions,
            closing=read.case_id,
            on=closes,
            request_id=request.request_id,
            downstream=downstream,
            payer=out.clients.get(case.paying_parent.name),
        )
        if closes is not None
        else None
    )
    with sessions.begin() as s:
        previous = replay(s, request=request, response_type=_RESPONSE)
        if previous is not None:
            return previous
        row = case_records.case_row(s, read.case_id, lock=True)
        if row.version != read.version:
            raise Conflict("the case changed while its changes were being applied; apply again")
        recording.ensure_unchanged(s, after)
        response = _record_application(
            s, row=row, out=out, timeline=timeline, after=after, caller=caller, clock=clock
        )
        remember(s, request=request, response=response, clock=clock)
        return response


def apply_pending_for_system(
    *,
    sessions: sessionmaker,
    parent: str,
    caller: Caller,
    clock: Clock,
    downstream: Downstream,
    attempts: int = 3,
) -> api.ApplyChangesOfCircumstancesResponse:
    """apply_pending for casework's own jobs (the scheduler, the feed applier), which have no client to retry for
    them. The request id is derived from the case's version and the changes waiting on it, so a pass that dies after
    the calculation service stored its decision asks again under the same id and gets that decision back rather than
    storing a second one. A pass that loses a race to another (Conflict, nothing stored) applies again from a fresh
    read, finding what the winner left, under the id of what is then waiting. The read that derives the id is the
    application's own read (one session, the case and its changes read once)."""

    def attempt() -> api.ApplyChangesOfCircumstancesResponse:
        with sessions() as s:
            row = case_records.visible_case(s, name=parent, caller=caller, field="parent")
            pending = service.verified_of(s, row.id)
            request = api.ApplyChangesOfCircumstancesRequest(
                request_id=_system_request_id(parent, row.version, pending), parent=parent
            )
            previous = replay(s, request=request, response_type=_RESPONSE)
            if previous is not None:
                return previous
            read = _read(s, row, pending)
        return _apply(
            sessions=sessions,
            request=request,
            read=read,
            caller=caller,
            clock=clock,
            downstream=downstream,
        )

    return conflicts.retrying(attempt, attempts=attempts)


_SYSTEM_APPLY = uuid.UUID("5f0c6d1e-3b0a-4c55-9a59-0d6c0f3e6a11")


def _system_request_id(parent: str, version: int, waiting: list[pb.ChangeOfCircumstances]) -> str:
    names = sorted(c.name for c in waiting)
    return str(uuid.uuid5(_SYSTEM_APPLY, f"{parent}|{version}|{','.join(names)}"))


@dataclass(frozen=True)
class Dated:
    """One calculation of an application: in force from `on`, started by the changes named."""

    on: dt.date
    calculation: calc_pb.Calculation
    changes: list[str]


def _floor(case: pb.Case, today: dt.date) -> dt.date:
    """No change takes effect before the case's initial effective date (reg 12 of SI 2012/2677; a case recorded
    without one: its calculation's date)."""
    return (
        day_of(case.initial_effective_date)
        or day_of(case.latest_calculation.effective_date)
        or today
    )


def _dates(
    case: pb.Case,
    out: apply.Outcome,
    *,
    today: dt.date,
    in_force: list[liability.Start],
) -> list[tuple[dt.date, list[str]]]:
    """The distinct dates the applied changes take effect from (each its own, never before the initial effective
    date), earliest first, with the changes starting on each; only those before the closure when a change closes the
    case. A change that asks for a new schedule without moving the liability (a payment frequency) is from today.
    Segments in force that start after the earliest of those dates (`in_force`: their starts and the changes that
    started them) are calculated again from their own starts, with this application's changes in effect by then."""
    floor = _floor(case, today)
    by_date: dict[dt.date, list[str]] = {}
    for name, on in out.starts.items():
        by_date.setdefault(max(on, floor), []).append(name)
    if out.needs_calculation and not by_date:
        by_date[max(today, floor)] = []
    if by_date:
        earliest = min(by_date)
        for start, names in liability_rules.later_starts(
            [(s.start, s.changes) for s in in_force], earliest
        ):
            by_date.setdefault(start, []).extend(n for n in names if n not in by_date[start])
    closes = _closes_on(case, out, today=today)
    return sorted((on, names) for on, names in by_date.items() if closes is None or on < closes)


def _closes_on(case: pb.Case, out: apply.Outcome, *, today: dt.date) -> dt.date | None:
    """The date the case closes from, when a change closes it (never before the initial effective date)."""
    if out.closure is None:
        return None
    return max(out.closure[1], _floor(case, today))


def _recalculate(
    case: pb.Case,
    out: apply.Outcome,
    *,
    on: dt.date,
    income: calculation_rules.Income,
    covered: list[pb.Case],
    downstream: Downstream,
    request: api.ApplyChangesOfCircumstancesRequest,
) -> calc_pb.Calculation:
    """The calculation in force from `on`, on the case as `out` leaves it (the changes in effect by then applied), with
    the HMRC figure and DWP's benefits gathered once for the application (calculation_input adds the benefit starts
    and ends verified, these among them, from the paying parent's record)."""
    return calculations.calculation_on(
        case=out.case,
        payer=out.clients[case.paying_parent.name],
        covered=covered,
        income=income,
        on=on,
        in_place=out.current_income_in_place
        or case.latest_calculation.income_basis in calculations.IN_PLACE,
        reason=out.calculation_reason,
        request_id=f"{request.request_id}/{on.isoformat()}",
        downstream=downstream,
    )


def _record_application(
    s: Session,
    *,
    row: CaseRecord,
    out: apply.Outcome,
    timeline: list[Dated],
    after: recording.AfterClosure | None,
    caller: Caller,
    clock: Clock,
) -> api.ApplyChangesOfCircumstancesResponse:
    response = api.ApplyChangesOfCircumstancesResponse()
    # Both parents locked in one statement (in id order).
    client_rows = clients.client_rows(
        s, [name.removeprefix("clients/") for name in out.clients], lock=True
    )
    for name, client in out.clients.items():
        clients.save(client_rows[name.removeprefix("clients/")], client, clock)
    for client_name, died in out.deaths:
        client_id = client_name.removeprefix("clients/")
        on_cases = case_records.cases_of_client(s, client_id)
        outbox.publish(
            s,
            clock=clock,
            key=client_name,
            subject=client_name,
            message=ev.ClientDeathRecorded(
                client_id=client_id,
                nino=out.clients[client_name].identity.nino,
                date_of_death=pb_date(died),
                cases=[f"cases/{r.id}" for r in on_cases],
            ),
        )  # every case the client is on (the contract)
    case_records.save(row, out.case, clock)
    plan = ""
    closes = _closes_on(out.case, out, today=clock.today())
    calculation_of: dict[str, str] = {}
    recorded: pb.Case | None = None  # the case as recording the calculation left it
    if timeline:
        before = out.case.latest_calculation.weekly_amount_pence
        *earlier, last = timeline
        recorded, plan = recording.record_calculation(
            s,
            row=row,
            calculation=last.calculation,
            reason=out.calculation_reason,
            clock=clock,
            earlier=[(d.calculation, d.changes) for d in earlier],
            changes=last.changes,
            ends=closes,
        )
        moved = recorded.latest_calculation.weekly_amount_pence != before or bool(plan)
        # Each change is answered by the calculation in force from its date.
        calculation_of = {name: d.calculation.name for d in timeline for name in d.changes}
    else:
        moved = False
        if closes is not None:
            liability.end_timeline(s, case_id=row.id, on=closes, clock=clock)
    completed_for: dict[str, list[dt.datetime]] = {}
    for change in out.changes:
        change_row = service.row_named(s, change.name)
        if (
            change.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_APPLIED
            and change.name in calculation_of
            and rules.kind_of(change.type).moves_liability
        ):
            change.liability_changed, change.calculation = moved, calculation_of[change.name]
        service.close_sr(
            s,
            change=change,
            resolution=_RESOLUTION[change.state],
            clock=clock,
            note=S.Name(change.state)
            .removeprefix("CHANGE_OF_CIRCUMSTANCES_STATE_")
            .lower()
            .replace("_", " "),
        )
        service.completed(s, case_id=row.id, change=change, clock=clock)
        if change_row is not None:
            service.save(change_row, change, clock)
        response.changes_of_circumstances.append(change)
        recipient = change.reporting_client or ""
        if recipient and change.state != pb.CHANGE_OF_CIRCUMSTANCES_STATE_SUPERSEDED:
            letter = correspondence.schedule(
                s,
                case_id=row.id,
                kind=pb.CORRESPONDENCE_KIND_CHANGE_OUTCOME,
                recipient=recipient,
                clock=clock,
                service_request=change.service_request,
            )
            # Several changes done the same day: the last outcome letter says it all.
            correspondence.cancel_redundant(
                s,
                case_id=row.id,
                kinds=(pb.CORRESPONDENCE_KIND_CHANGE_OUTCOME,),
                recipient=recipient,
                superseded_by=letter.name,
                clock=clock,
            )
            completed_for.setdefault(recipient, []).append(clock.now())
    if out.closure is not None:
        # After the changes' own SRs are closed with their resolutions: closing the case closes whatever SR is still
        # open as Not Required. Changes not yet verified are superseded by the closure too.
        reason, on, closing = out.closure
        _supersede_unverified(s, case_id=row.id, closing=closing, clock=clock)
        srs.close_open(s, case_id=row.id, clock=clock, keep_change=closing)
        payment_plans.supersede_current(s, case_id=row.id)
        case_records.close(
            s,
            row=row,
            case=case_records.assemble(s, row),
            reason=reason,
            effective=on,
            note="",
            clock=clock,
            change=closing,
        )
        # One calculation covers the paying parent's live cases: the others are calculated again from the closure.
        recording.record_after_closure(s, after, clock=clock)
    if plan:
        response.payment_plan = plan
    # Everything this application made redundant: earlier outcome letters, and the notices and plans a new
    # calculation replaced (cancelled where they were superseded, in calculations.flows.record_calculation).
    response.cancelled_correspondence.extend(dict.fromkeys(correspondence.cancelled_in(s)))
    response.client_call = _schedule_call(s, row=row, completed_for=completed_for, clock=clock)
    # Nothing after the recording touched the case or its clients unless it closed.
    response.updated_case.CopyFrom(
        recorded if recorded is not None and out.closure is None else case_records.assemble(s, row)
    )
    access.audit(s, clock=clock, caller=caller, case_id=row.id, resource=f"cases/{row.id}")
    return response


def _supersede_unverified(s: Session, *, case_id: str, closing: str, clock: Clock) -> None:
    for change_row in service.pending_of(s, case_id):
        change = service.document(
            change_row
        )  # those this application dealt with are no longer pending
        change.state, change.superseded_by = pb.CHANGE_OF_CIRCUMSTANCES_STATE_SUPERSEDED, closing
        service.close_sr(
            s,
            change=change,
            resolution=pb.SERVICE_REQUEST_RESOLUTION_CODE_SUPERSEDED,
            clock=clock,
            note="superseded by case closure",
        )
        service.completed(s, case_id=case_id, change=change, clock=clock)
        service.save(change_row, change, clock)


def _schedule_call(
    s: Session, *, row: CaseRecord, completed_for: dict[str, list[dt.datetime]], clock: Clock
) -> str:
    """One call after the last of several changes completed within three days: earlier calls still waiting for the
    same client are cancelled in favour of one after this completion."""
    name = ""
    window = dt.timedelta(days=rules.DEFAULTS.client_call_window_days)
    for recipient, times in completed_for.items():
        waiting = correspondence.waiting_calls(s, case_id=row.id, recipient=recipient)
        earlier = [r.created_at for r in waiting]
        due = rules.client_call_due([*earlier, *times]) or clock.now()
        call = correspondence.schedule(
            s,
            case_id=row.id,
            kind=pb.CORRESPONDENCE_KIND_CLIENT_CALL,
            recipient=recipient,
            clock=clock,
            due=max(due, clock.now()) + dt.timedelta(hours=1),
        )
        correspondence.supersede(
            [r for r in waiting if clock.now() - r.created_at <= window], superseded_by=call.name
        )
        name = call.name
    return name


def update_service_request_status(
    db: Session, *, request: api.UpdateServiceRequestStatusRequest, caller: Caller, clock: Clock
) -> pb.ServiceRequest:
    """UpdateServiceRequestStatus: cancelling the service request of a change withdraws the change."""
    sr = srs.update_status(db, request=request, caller=caller, clock=clock)
    if request.status == pb.SERVICE_REQUEST_STATUS_CANCELLED and sr.change_of_circumstances:
        service.withdraw(db, name=sr.change_of_circumstances, clock=clock)
    return sr
