"""Enforcement of a case's arrears over its tables (docs/domain/money.md, "Enforcement"): enforcement cases, the
steps of the ladder taken on them with their entry conditions (rules.py), their letters, service requests, events and
enforcement charges. Keyword-only functions over an explicit session; each change publishes its event (money_events
.proto, "Enforcement", keyed by the case) in the caller's transaction.

The account is reached only through accounts.service, arrears agreements through arrears.service, case surveillance
through cases.service."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING

from google.protobuf.message import Message
from sqlalchemy import select
from sqlalchemy.orm import Session

from cms.casework.v1 import casework_service_pb2 as case_api
from cms.casework.v1 import enforcement_pb2 as epb
from cms.casework.v1 import enforcement_service_pb2 as api
from cms.casework.v1 import money_events_pb2 as ev
from cms.casework.v1 import resources_pb2 as pb
from cms_platform import outbox
from cms_platform.clock import Clock
from cms_platform.convert import pb_date, strict_date
from cms_platform.errors import (
    FailedPrecondition,
    InvalidArgument,
    PermissionDenied,
    PreconditionViolation,
    ViolationCollector,
)
from cms_platform.identity import Caller

from ..access import rules as access_rules
from ..access import service as access
from ..accounts import service as accounts
from ..arrears import service as arrears
from ..case_records import service as case_records
from ..cases import service as cases
from ..correspondence import service as correspondence
from ..names import new_id
from ..service_requests import service as srs
from . import rules
from .models import EnforcementActionRecord, EnforcementCaseRecord

if TYPE_CHECKING:  # the row's type only: its table is case_records' own
    from ..case_records.models import CaseRecord

PROCESS, AREA = "Case Maintenance", "Enforcement"
S = epb.EnforcementStep
AS = epb.EnforcementActionState
OPEN = epb.EnforcementCaseState.Name(epb.ENFORCEMENT_CASE_STATE_OPEN)
CLOSED = epb.EnforcementCaseState.Name(epb.ENFORCEMENT_CASE_STATE_CLOSED)
ALERT_PREFIX = "SURVEILLANCE_ALERT_KIND_"


class Settings:
    """The process's enforcement settings (app.py configures them)."""

    administrative_liability_orders_from: dt.date | None = None
    surveillance_review_days: int = 90
    rdo: rules.RdoParameters = rules.RDO_DEFAULTS


settings = Settings()


def configure(
    *,
    administrative_liability_orders_from: dt.date | None,
    surveillance_review_days: int,
) -> None:
    settings.administrative_liability_orders_from = administrative_liability_orders_from
    settings.surveillance_review_days = surveillance_review_days


def precondition(code: str, subject: str, description: str) -> FailedPrecondition:
    return FailedPrecondition(PreconditionViolation(code, subject, description), reason=code)


def publish(db: Session, *, case_id: str, message: Message, clock: Clock) -> None:
    name = f"cases/{case_id}"
    outbox.publish(db, clock=clock, key=name, subject=name, message=message)


def _step_name(step: int) -> str:
    return S.Name(S.ValueType(step)).removeprefix("ENFORCEMENT_STEP_").replace("_", " ").title()


def _decides(caller: Caller, decider: str, what: str) -> None:
    if not rules.may_decide(decider, access_rules.role_of(caller)):
        raise PermissionDenied(f"{what} is a team leader's decision", reason="TEAM_LEADER_DECISION")


# -- rows ------------------------------------------------------------------------------------------------------------


def _case_doc(row: EnforcementCaseRecord) -> epb.EnforcementCase:
    return epb.EnforcementCase.FromString(row.document)


def _save_case(row: EnforcementCaseRecord, doc: epb.EnforcementCase, clock: Clock) -> None:
    doc.update_time.FromDatetime(clock.now())
    row.state = epb.EnforcementCaseState.Name(doc.state)
    row.document, row.updated_at = doc.SerializeToString(), clock.now()


def _action_doc(row: EnforcementActionRecord) -> epb.EnforcementAction:
    return epb.EnforcementAction.FromString(row.document)


def _save_action(row: EnforcementActionRecord, doc: epb.EnforcementAction, clock: Clock) -> None:
    doc.update_time.FromDatetime(clock.now())
    row.state = AS.Name(doc.state)
    row.document, row.updated_at = doc.SerializeToString(), clock.now()


def _open_case_of(db: Session, case_id: str) -> EnforcementCaseRecord | None:
    return db.scalars(
        select(EnforcementCaseRecord)
        .where(EnforcementCaseRecord.case_id == case_id, EnforcementCaseRecord.state == OPEN)
        .with_for_update()
    ).first()


def _visible_enforcement_case(
    db: Session, *, name: str, caller: Caller, field: str = "name"
) -> tuple[CaseRecord, EnforcementCaseRecord]:
    case_row, row = case_records.visible_child(
        db,
        name=name,
        collection="enforcementCases",
        model=EnforcementCaseRecord,
        what="enforcement case",
        caller=caller,
        field=field,
    )
    db.refresh(row, with_for_update=True)
    return case_row, row


def _visible_action(
    db: Session, *, name: str, caller: Caller
) -> tuple[CaseRecord, EnforcementActionRecord]:
    case_row, row = case_records.visible_child(
        db,
        name=name,
        collection="enforcementActions",
        model=EnforcementActionRecord,
        what="enforcement action",
        caller=caller,
    )
    db.refresh(row, with_for_update=True)
    return case_row, row


def surveillance_request(
    case_name: str, *, request_id: str, active: bool, today: dt.date
) -> case_api.SetCaseSurveillanceRequest:
    """The SetCaseSurveillance request enforcement makes of casework's own surveillance (cases.service)."""
    return case_api.SetCaseSurveillanceRequest(
        request_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"enforcement/{request_id}/{active}")),
        name=case_name,
        active=active,
        review_date=(
            pb_date(today + dt.timedelta(days=settings.surveillance_review_days))
            if active
            else None
        ),
    )


# -- enforcement cases -----------------------------------------------------------------------------------------------


def check_open(
    db: Session, *, request: api.OpenEnforcementCaseRequest, caller: Caller, clock: Clock
) -> tuple[CaseRecord, pb.Case, int]:
    """The case and its arrears, if enforcement may start: arrears on the account and no enforcement case open."""
    row = case_records.visible_case(
        db, name=request.parent, caller=caller, field="parent", lock=True
    )
    case = case_records.assemble(db, row)
    if _open_case_of(db, row.id) is not None:
        raise precondition(
            "ENFORCEMENT_OPEN", request.parent, "the case already has an enforcement case open"
        )
    owed = accounts.balances(db, case_id=row.id, as_of=clock.today()).arrears
    if owed <= 0:
        raise precondition("NO_ARREARS", request.parent, "the account shows no arrears to enforce")
    return row, case, owed


def open_case(
    db: Session,
    *,
    request: api.OpenEnforcementCaseRequest,
    caller: Caller,
    clock: Clock,
    surveil: bool,
) -> epb.EnforcementCase:
    """An enforcement case for the arrears on the account; case surveillance recorded when the agency started it
    (`surveil`: the case is open)."""
    row, case, owed = check_open(db, request=request, caller=caller, clock=clock)
    enforcement_id = new_id()
    doc = epb.EnforcementCase(
        name=f"cases/{row.id}/enforcementCases/{enforcement_id}",
        state=epb.ENFORCEMENT_CASE_STATE_OPEN,
        arrears_pence=owed,
        surveillance_active=surveil,
        note=request.note,
    )
    doc.create_time.FromDatetime(clock.now())
    record = EnforcementCaseRecord(
        id=enforcement_id,
        case_id=row.id,
        state="",
        document=b"",
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    _save_case(record, doc, clock)
    db.add(record)
    if surveil:
        cases.record_surveillance(
            db,
            request=surveillance_request(
                case.name, request_id=request.request_id, active=True, today=clock.today()
            ),
            caller=caller,
            clock=clock,
        )
    publish(
        db,
        case_id=row.id,
        clock=clock,
        message=ev.EnforcementCaseOpened(
            case_id=row.id, enforcement_case=doc.name, arrears_pence=owed
        ),
    )
    access.audit(db, clock=clock, caller=caller, case_id=row.id, resource=doc.name)
    return doc


def get_case(db: Session, *, name: str, caller: Caller, clock: Clock) -> epb.EnforcementCase:
    _, row = case_records.read_child(
        db,
        name=name,
        collection="enforcementCases",
        model=EnforcementCaseRecord,
        what="enforcement case",
        caller=caller,
        clock=clock,
    )
    return _case_doc(row)


def check_close(
    db: Session, *, request: api.CloseEnforcementCaseRequest, caller: Caller
) -> tuple[CaseRecord, pb.Case, EnforcementCaseRecord]:
    if not request.reason.strip():
        raise InvalidArgument.field("reason", "is required and must not be empty")
    case_row, row = _visible_enforcement_case(db, name=request.name, caller=caller)
    if row.state != OPEN:
        raise precondition("ENFORCEMENT_CLOSED", request.name, "the enforcement case is closed")
    return case_row, case_records.assemble(db, case_row), row


def close_case(
    db: Session, *, request: api.CloseEnforcementCaseRequest, caller: Caller, clock: Clock
) -> epb.EnforcementCase:
    """Enforcement ends; the surveillance it started is recorded as stopped (the agency was told first)."""
    case_row, case, row = check_close(db, request=request, caller=caller)
    doc = _case_doc(row)
    doc.state = epb.ENFORCEMENT_CASE_STATE_CLOSED
    doc.close_reason = request.reason.strip()
    if doc.surveillance_active and case.state != pb.CASE_STATE_CLOSED:
        cases.record_surveillance(
            db,
            request=surveillance_request(
                case.name, request_id=request.request_id, active=False, today=clock.today()
            ),
            caller=caller,
            clock=clock,
        )
    doc.surveillance_active = False
    _save_case(row, doc, clock)
    publish(
        db,
        case_id=case_row.id,
        clock=clock,
        message=ev.EnforcementCaseClosed(case_id=case_row.id, enforcement_case=doc.name),
    )
    access.audit(db, clock=clock, caller=caller, case_id=case_row.id, resource=doc.name)
    return doc


def record_finding(
    db: Session, *, request: api.RecordWilfulRefusalFindingRequest, caller: Caller, clock: Clock
) -> epb.EnforcementCase:
    """A team leader's finding of wilful refusal or culpable neglect (CSA 1991 s39A(3)), which sanctions need."""
    if not request.note.strip():
        raise InvalidArgument.field("note", "is required and must not be empty")
    _decides(caller, rules.FINDING_DECIDER, "a finding of wilful refusal or culpable neglect")
    case_row, row = _visible_enforcement_case(db, name=request.name, caller=caller)
    if row.state != OPEN:
        raise precondition("ENFORCEMENT_CLOSED", request.name, "the enforcement case is closed")
    doc = _case_doc(row)
    doc.wilful_refusal_finding.CopyFrom(
        epb.WilfulRefusalFinding(
            finding_date=pb_date(clock.today()),
            recorded_by=caller.subject,
            note=request.note.strip(),
        )
    )
    _save_case(row, doc, clock)
    access.audit(db, clock=clock, caller=caller, case_id=case_row.id, resource=doc.name)
    return doc


def surveillance_alert(db: Session, *, case_id: str, kind: str, clock: Clock) -> bool:
    """A CRA surveillance alert on a case under enforcement is recorded on its enforcement case; False when none is
    open."""
    row = _open_case_of(db, case_id)
    if row is None:
        return False
    doc = _case_doc(row)
    note = doc.surveillance_alerts.add(kind=kind.removeprefix(ALERT_PREFIX))
    note.raise_time.FromDatetime(clock.now())
    _save_case(row, doc, clock)
    return True


# -- actions ---------------------------------------------------------------------------------------------------------


def _actions_of(db: Session, enforcement_case_id: str) -> list[epb.EnforcementAction]:
    return [
        _action_doc(r)
        for r in db.scalars(
            select(EnforcementActionRecord)
            .where(EnforcementActionRecord.enforcement_case_id == enforcement_case_id)
            .order_by(EnforcementActionRecord.created_at, EnforcementActionRecord.id)
        )
    ]


def situation(
    db: Session, *, case_row: CaseRecord, case: pb.Case, row: EnforcementCaseRecord, today: dt.date
) -> rules.Situation:
    done = _actions_of(db, row.id)
    lo_granted = any(
        a.step in rules.LIABILITY_ORDER_STEPS and a.state == epb.ENFORCEMENT_ACTION_STATE_GRANTED
        for a in done
    )
    return rules.Situation(
        arrears_pence=accounts.balances(db, case_id=case_row.id, as_of=today).arrears,
        negotiation_recorded=any(
            a.step == S.ENFORCEMENT_STEP_CONTACT_AND_NEGOTIATION for a in done
        ),
        ongoing_liability=case.state != pb.CASE_STATE_CLOSED,
        liability_order_granted=lo_granted,
        charging_order_made=any(a.step == S.ENFORCEMENT_STEP_CHARGING_ORDER for a in done),
        finding_recorded=_case_doc(row).HasField("wilful_refusal_finding"),
        administrative_liability_orders_available=rules.administrative_liability_orders_available(
            settings.administrative_liability_orders_from, today
        ),
    )


def _check_fields(given: epb.EnforcementAction, *, arrears_pence: int) -> None:
    v = ViolationCollector()
    step = given.step
    prefix = "enforcement_action."
    if step in (
        S.ENFORCEMENT_STEP_DEDUCTION_FROM_EARNINGS_ORDER,
        S.ENFORCEMENT_STEP_DEDUCTION_FROM_EARNINGS_REQUEST,
    ):
        if not given.deduction_order.startswith("cases/"):
            v.add(f"{prefix}deduction_order", "must name the deduction order made")
    elif step == S.ENFORCEMENT_STEP_REGULAR_DEDUCTION_ORDER:
        if given.deduction_amount_pence <= 0:
            v.add(f"{prefix}deduction_amount_pence", "must be more than 0")
        if given.deduction_frequency not in rules.RDO_FREQUENCIES:
            v.add(f"{prefix}deduction_frequency", "must be weekly or monthly")
        try:
            strict_date(given.representations_date)
        except ValueError:
            v.add(f"{prefix}representations_date", "must be a full calendar date")
    elif step == S.ENFORCEMENT_STEP_LUMP_SUM_DEDUCTION_ORDER and given.lump_sum_pence <= 0:
        v.add(f"{prefix}lump_sum_pence", "must be more than 0")
    v.raise_if_any()


def check_action(
    db: Session, *, request: api.TakeEnforcementActionRequest, caller: Caller, clock: Clock
) -> tuple[CaseRecord, pb.Case, EnforcementCaseRecord, rules.Step]:
    """Whether the step may be taken: a known step, the caller may decide it, its fields and entry conditions."""
    given = request.enforcement_action
    if given.step not in rules.LADDER:
        raise InvalidArgument.field("enforcement_action.step", "must be a step of the ladder")
    step = rules.LADDER[given.step]
    _decides(caller, step.decider, _step_name(given.step))
    case_row, row = _visible_enforcement_case(
        db, name=request.parent, caller=caller, field="parent"
    )
    if row.state != OPEN:
        raise precondition("ENFORCEMENT_CLOSED", request.parent, "the enforcement case is closed")
    case = case_records.assemble(db, case_row)
    today = clock.today()
    now = situation(db, case_row=case_row, case=case, row=row, today=today)
    refused = rules.refusal(given.step, now)
    if refused is not None:
        raise precondition(refused.code, request.parent, refused.description)
    _check_fields(given, arrears_pence=now.arrears_pence)
    if (
        given.step == S.ENFORCEMENT_STEP_LUMP_SUM_DEDUCTION_ORDER
        and given.lump_sum_pence > now.arrears_pence
    ):
        raise precondition(
            "MORE_THAN_ARREARS",
            "enforcement_action.lump_sum_pence",
            "a lump sum deduction order takes arrears only",
        )
    if (
        given.step == S.ENFORCEMENT_STEP_REGULAR_DEDUCTION_ORDER
        and given.joint_account
        and not given.representations_date.year
    ):
        raise precondition(
            "NO_REPRESENTATIONS",
            "enforcement_action.representations_date",
            "an order on a joint account needs the account holders' representations recorded first",
        )
    if given.step == S.ENFORCEMENT_STEP_CONTACT_AND_NEGOTIATION and not given.note.strip():
        found, _ = arrears.list_agreements(db, case_id=case_row.id, size=1, offset=0)
        if not found:
            raise precondition(
                "NO_NEGOTIATION",
                request.parent,
                "no arrears agreement was made: the note must say how one was tried",
            )
    return case_row, case, row, step


def _raise_sr(
    db: Session,
    *,
    case_row: CaseRecord,
    sub_area: str,
    description: str,
    caller: Caller,
    clock: Clock,
) -> str:
    _, sr = srs.raise_sr(
        db,
        case_row=case_row,
        process=PROCESS,
        area=AREA,
        sub_area=sub_area,
        description=description,
        origin=srs.origin_of(caller),
        clock=clock,
    )
    return sr.name


def _letter(
    db: Session, *, case: pb.Case, case_id: str, kind: int, clock: Clock, sr: str = ""
) -> None:
    correspondence.schedule(
        db,
        case_id=case_id,
        kind=pb.CorrespondenceKind.ValueType(kind),
        recipient=case.paying_parent.name,
        clock=clock,
        service_request=sr,
    )


def _charge(
    db: Session,
    *,
    case: pb.Case,
    case_id: str,
    action: epb.EnforcementAction,
    clock: Clock,
) -> None:
    """The step's enforcement charge on the account (Fees Regs 2014 reg 10), due today."""
    amount = rules.LADDER[action.step].charge_pence
    if not amount:
        return
    action.charge = accounts.post_enforcement_charge(
        db,
        case_id=case_id,
        amount_pence=amount,
        due=clock.today(),
        cause=f"Enforcement charge: {_step_name(action.step)}",
        clock=clock,
    )
    action.charge_pence = amount
    publish(
        db,
        case_id=case_id,
        clock=clock,
        message=ev.EnforcementChargeApplied(
            case_id=case_id,
            enforcement_action=action.name,
            step=action.step,
            charge=action.charge,
            amount_pence=amount,
        ),
    )
    _letter(
        db,
        case=case,
        case_id=case_id,
        kind=pb.CORRESPONDENCE_KIND_ENFORCEMENT_CHARGE_NOTICE,
        clock=clock,
    )


def _taken(db: Session, *, case_id: str, action: epb.EnforcementAction, clock: Clock) -> None:
    publish(
        db,
        case_id=case_id,
        clock=clock,
        message=ev.EnforcementActionTaken(
            case_id=case_id,
            enforcement_case=action.enforcement_case,
            enforcement_action=action.name,
            step=action.step,
            state=action.state,
        ),
    )


def take_action(
    db: Session,
    *,
    request: api.TakeEnforcementActionRequest,
    caller: Caller,
    clock: Clock,
    financial_data: epb.EnforcementFinancialData | None = None,
) -> epb.EnforcementAction:
    """Takes the step (check_action's conditions), with its service request, letter, event and charge; the financial
    data obtained for it (flows) is recorded on it."""
    case_row, case, row, step = check_action(db, request=request, caller=caller, clock=clock)
    given = request.enforcement_action
    action_id = new_id()
    action = epb.EnforcementAction(
        name=f"cases/{case_row.id}/enforcementActions/{action_id}",
        enforcement_case=_case_doc(row).name,
        step=given.step,
        state=epb.ENFORCEMENT_ACTION_STATE_TAKEN,
        decided_by=caller.subject,
        note=given.note.strip(),
    )
    if financial_data is not None:
        action.financial_data.CopyFrom(financial_data)
    if given.step == S.ENFORCEMENT_STEP_CONTACT_AND_NEGOTIATION:
        found, _ = arrears.list_agreements(db, case_id=case_row.id, size=1, offset=0)
        action.arrears_agreement = found[0].name if found else ""
    elif given.step in (
        S.ENFORCEMENT_STEP_DEDUCTION_FROM_EARNINGS_ORDER,
        S.ENFORCEMENT_STEP_DEDUCTION_FROM_EARNINGS_REQUEST,
    ):
        if given.deduction_order.split("/")[1] != case_row.id:
            raise InvalidArgument.field(
                "enforcement_action.deduction_order", "must be a deduction order of this case"
            )
        action.deduction_order = given.deduction_order
    elif given.step == S.ENFORCEMENT_STEP_REGULAR_DEDUCTION_ORDER:
        action.deduction_amount_pence = given.deduction_amount_pence
        action.deduction_frequency = given.deduction_frequency
        action.joint_account = given.joint_account
        if given.representations_date.year:
            action.representations_date.CopyFrom(given.representations_date)
    elif given.step == S.ENFORCEMENT_STEP_LUMP_SUM_DEDUCTION_ORDER:
        action.lump_sum_pence = given.lump_sum_pence
        action.state = epb.ENFORCEMENT_ACTION_STATE_INTERIM_ORDER
    elif given.step == S.ENFORCEMENT_STEP_LIABILITY_ORDER:
        action.state = epb.ENFORCEMENT_ACTION_STATE_APPLIED
    elif given.step == S.ENFORCEMENT_STEP_ADMINISTRATIVE_LIABILITY_ORDER:
        action.state = epb.ENFORCEMENT_ACTION_STATE_GRANTED
        action.liability_order_outcome = epb.LIABILITY_ORDER_OUTCOME_GRANTED
    action.service_request = _raise_sr(
        db,
        case_row=case_row,
        sub_area=_step_name(given.step),
        description=f"Enforcement: {_step_name(given.step)}",
        caller=caller,
        clock=clock,
    )
    action.create_time.FromDatetime(clock.now())
    record = EnforcementActionRecord(
        id=action_id,
        case_id=case_row.id,
        enforcement_case_id=row.id,
        step=S.Name(given.step),
        state="",
        document=b"",
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    charged_now = (
        not step.charged_when_granted and given.step != S.ENFORCEMENT_STEP_LUMP_SUM_DEDUCTION_ORDER
    )
    if charged_now:
        _charge(db, case=case, case_id=case_row.id, action=action, clock=clock)
    _letter(
        db,
        case=case,
        case_id=case_row.id,
        kind=(
            pb.CORRESPONDENCE_KIND_LIABILITY_ORDER_APPLICATION_NOTICE
            if given.step == S.ENFORCEMENT_STEP_LIABILITY_ORDER
            else pb.CORRESPONDENCE_KIND_ENFORCEMENT_ACTION_NOTICE
        ),
        clock=clock,
        sr=action.service_request,
    )
    _save_action(record, action, clock)
    db.add(record)
    doc = _case_doc(row)
    doc.actions.append(action.name)
    _save_case(row, doc, clock)
    _taken(db, case_id=case_row.id, action=action, clock=clock)
    access.audit(db, clock=clock, caller=caller, case_id=case_row.id, resource=action.name)
    return action


def get_action(db: Session, *, name: str, caller: Caller, clock: Clock) -> epb.EnforcementAction:
    _, row = case_records.read_child(
        db,
        name=name,
        collection="enforcementActions",
        model=EnforcementActionRecord,
        what="enforcement action",
        caller=caller,
        clock=clock,
    )
    return _action_doc(row)


def _action_for(
    db: Session, *, name: str, caller: Caller, step: int, state: int, code: str, description: str
) -> tuple[CaseRecord, pb.Case, EnforcementActionRecord, epb.EnforcementAction]:
    case_row, row = _visible_action(db, name=name, caller=caller)
    action = _action_doc(row)
    if action.step != step:
        raise precondition("WRONG_STEP", name, f"the action is not a {_step_name(step).lower()}")
    if action.state != state:
        raise precondition(code, name, description)
    return case_row, case_records.assemble(db, case_row), row, action


def record_outcome(
    db: Session, *, request: api.RecordLiabilityOrderOutcomeRequest, caller: Caller, clock: Clock
) -> epb.EnforcementAction:
    """The court's outcome of a liability order application; granted brings the £300 charge (Fees Regs 2014
    reg 10)."""
    if request.outcome not in (
        epb.LIABILITY_ORDER_OUTCOME_GRANTED,
        epb.LIABILITY_ORDER_OUTCOME_REFUSED,
    ):
        raise InvalidArgument.field("outcome", "must be granted or refused")
    _decides(caller, rules.TEAM_LEADER, "a liability order")
    case_row, case, row, action = _action_for(
        db,
        name=request.name,
        caller=caller,
        step=S.ENFORCEMENT_STEP_LIABILITY_ORDER,
        state=epb.ENFORCEMENT_ACTION_STATE_APPLIED,
        code="OUTCOME_RECORDED",
        description="the application's outcome is already recorded",
    )
    action.liability_order_outcome = request.outcome
    granted = request.outcome == epb.LIABILITY_ORDER_OUTCOME_GRANTED
    action.state = (
        epb.ENFORCEMENT_ACTION_STATE_GRANTED if granted else epb.ENFORCEMENT_ACTION_STATE_REFUSED
    )
    if request.note.strip():
        action.note = request.note.strip()
    if granted:
        _charge(db, case=case, case_id=case_row.id, action=action, clock=clock)
    _letter(
        db,
        case=case,
        case_id=case_row.id,
        kind=pb.CORRESPONDENCE_KIND_ENFORCEMENT_ACTION_NOTICE,
        clock=clock,
    )
    _save_action(row, action, clock)
    _taken(db, case_id=case_row.id, action=action, clock=clock)
    access.audit(db, clock=clock, caller=caller, case_id=case_row.id, resource=action.name)
    return action


def _receipt(
    db: Session,
    *,
    case_id: str,
    method: int,
    amount: int,
    reference: str,
    on: dt.date,
    clock: Clock,
) -> str:
    return accounts.record_receipt(
        db,
        payment_reference=case_id,
        amount_pence=amount,
        method=method,
        external_reference=reference,
        received_on=on,
        clock=clock,
    )


def final_lsdo(
    db: Session, *, request: api.MakeFinalLumpSumDeductionOrderRequest, caller: Caller, clock: Clock
) -> epb.EnforcementAction:
    """The final order takes what the interim order froze (CSA 1991 s32F): a receipt on the account, then the £200
    charge."""
    _decides(caller, rules.TEAM_LEADER, "a lump sum deduction order")
    case_row, case, row, action = _action_for(
        db,
        name=request.name,
        caller=caller,
        step=S.ENFORCEMENT_STEP_LUMP_SUM_DEDUCTION_ORDER,
        state=epb.ENFORCEMENT_ACTION_STATE_INTERIM_ORDER,
        code="NOT_INTERIM",
        description="only an interim order can be made final",
    )
    action.receipt = _receipt(
        db,
        case_id=case_row.id,
        method=ev.RECEIPT_METHOD_LUMP_SUM_DEDUCTION_ORDER,
        amount=action.lump_sum_pence,
        reference=f"lsdo:{row.id}",
        on=clock.today(),
        clock=clock,
    )
    action.state = epb.ENFORCEMENT_ACTION_STATE_FINAL_ORDER
    if request.note.strip():
        action.note = request.note.strip()
    _charge(db, case=case, case_id=case_row.id, action=action, clock=clock)
    _save_action(row, action, clock)
    _taken(db, case_id=case_row.id, action=action, clock=clock)
    access.audit(db, clock=clock, caller=caller, case_id=case_row.id, resource=action.name)
    return action


def record_deduction(
    db: Session, *, request: api.RecordRegularDeductionRequest, caller: Caller, clock: Clock
) -> epb.RegularDeduction:
    """A regular deduction order's deduction date: what rules.regular_deduction takes, recorded as a receipt."""
    v = ViolationCollector()
    try:
        on = strict_date(request.deduction_date)
    except ValueError:
        on = None
        v.add("deduction_date", "must be a full calendar date")
    if on is None and not v.violations:
        v.add("deduction_date", "is required")
    if on is not None and on > clock.today():
        v.add("deduction_date", "must not be after today")
    if request.balance_pence < 0:
        v.add("balance_pence", "must not be negative")
    if request.net_weekly_income_pence < 0:
        v.add("net_weekly_income_pence", "must not be negative")
    v.raise_if_any()
    assert on is not None
    case_row, _, row, action = _action_for(
        db,
        name=request.name,
        caller=caller,
        step=S.ENFORCEMENT_STEP_REGULAR_DEDUCTION_ORDER,
        state=epb.ENFORCEMENT_ACTION_STATE_TAKEN,
        code="ORDER_NOT_IN_FORCE",
        description="the order is not in force",
    )
    if any(d.deduction_date == pb_date(on) for d in action.deductions):
        raise precondition(
            "DEDUCTION_RECORDED", "deduction_date", "a deduction is already recorded for that date"
        )
    owed = accounts.balances(db, case_id=case_row.id, as_of=on).owed
    taken = rules.regular_deduction(
        order_pence=action.deduction_amount_pence,
        frequency=action.deduction_frequency,
        balance_pence=request.balance_pence,
        net_weekly_income_pence=request.net_weekly_income_pence,
        owed_pence=owed,
        params=settings.rdo,
    )
    deduction = action.deductions.add(
        deduction_date=pb_date(on),
        balance_pence=request.balance_pence,
        net_weekly_income_pence=request.net_weekly_income_pence,
        taken_pence=taken.taken_pence,
        limited_by=taken.limited_by,
    )
    if taken.taken_pence:
        deduction.receipt = _receipt(
            db,
            case_id=case_row.id,
            method=ev.RECEIPT_METHOD_REGULAR_DEDUCTION_ORDER,
            amount=taken.taken_pence,
            reference=f"rdo:{row.id}:{on.isoformat()}",
            on=on,
            clock=clock,
        )
    _save_action(row, action, clock)
    access.audit(db, clock=clock, caller=caller, case_id=case_row.id, resource=action.name)
    return deduction


def waive_charge(
    db: Session, *, request: api.WaiveEnforcementChargeRequest, caller: Caller, clock: Clock
) -> epb.EnforcementAction:
    """A team leader waives an action's charge on a ground of Fees Regs 2014 reg 12."""
    if request.ground not in epb.ChargeWaiverGround.values() or not request.ground:
        raise InvalidArgument.field("ground", "must be a ground of Fees Regs 2014 reg 12")
    _decides(caller, rules.WAIVER_DECIDER, "waiving an enforcement charge")
    case_row, row = _visible_action(db, name=request.name, caller=caller)
    action = _action_doc(row)
    if not action.charge:
        raise precondition("NO_CHARGE", request.name, "the action brought no enforcement charge")
    if action.charge_waiver_ground:
        raise precondition("CHARGE_WAIVED", request.name, "the charge is already waived")
    _, waived = accounts.waive_enforcement_charge(
        db,
        case_id=case_row.id,
        charge=action.charge,
        effective_date=clock.today(),
        cause=f"Enforcement charge waived: {epb.ChargeWaiverGround.Name(request.ground).removeprefix('CHARGE_WAIVER_GROUND_').replace('_', ' ').lower()}",
        clock=clock,
    )
    action.charge_waiver_ground = request.ground
    action.waived_pence = waived
    if request.note.strip():
        action.note = request.note.strip()
    _save_action(row, action, clock)
    publish(
        db,
        case_id=case_row.id,
        clock=clock,
        message=ev.EnforcementChargeWaived(
            case_id=case_row.id,
            enforcement_action=action.name,
            charge=action.charge,
            waived_pence=waived,
            ground=request.ground,
        ),
    )
    case = case_records.assemble(db, case_row)
    _letter(
        db,
        case=case,
        case_id=case_row.id,
        kind=pb.CORRESPONDENCE_KIND_ENFORCEMENT_CHARGE_WAIVER_NOTICE,
        clock=clock,
    )
    access.audit(db, clock=clock, caller=caller, case_id=case_row.id, resource=action.name)
    return action
