"""Write-offs, deaths and compliance (docs/domain/money.md, "Write-offs, deaths and compliance"), keyword-only functions
over an explicit session, each in the caller's transaction:

- a team leader's decision to write off a closed case's small arrears (MPA Regs 2009 as amended by SI 2024/87), posted
  on the account as a write-off adjustment, and the review job's service request for each case that qualifies;
- the claim against a deceased paying parent's estate for the arrears at the date of death, opened when the death
  closes the case, and its progress (lodged, paid, or the estate insolvent and the rest written off);
- a paying parent's compliance from the ledger, across their cases, which the reform's collection fees use.

The account is reached only through arrears.account."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms.casework.v1 import arrears_pb2 as apb
from cms.casework.v1 import arrears_service_pb2 as api
from cms.casework.v1 import money_events_pb2 as ev
from cms.casework.v1 import resources_pb2 as pb
from cms_platform.clock import Clock
from cms_platform.convert import pb_date
from cms_platform.db import one_page
from cms_platform.errors import InvalidArgument, NotFound, PermissionDenied
from cms_platform.identity import Caller

from ..access import rules as access_rules
from ..access import service as access
from ..case_records import service as case_records
from ..names import id_from, new_id
from ..service_requests import service as srs
from ..wording import long_date, pounds
from . import account, rules, service
from .models import EstateClaimRecord, WriteOffDecisionRecord

WRITE_OFF_REVIEW_SR = "Arrears Write-Off Review"
ESTATE_CLAIM_SR = "Estate Claim"

_ES = apb.EstateClaimState
_OPEN_CLAIM_STATES = (
    apb.ESTATE_CLAIM_STATE_OPEN,
    apb.ESTATE_CLAIM_STATE_LODGED,
    apb.ESTATE_CLAIM_STATE_PAID_IN_PART,
)

# The process's settings (CASEWORK_ARREARS_WRITE_OFF_*, CASEWORK_COMPLIANCE_WINDOW_DAYS, CASEWORK_ARREARS_GRACE_DAYS),
# set once by the app.
_write_off = rules.WRITE_OFF_DEFAULTS
_window_days = 90
_grace_days = 3


def configure(*, write_off: rules.WriteOffParameters, window_days: int, grace_days: int) -> None:
    global _write_off, _window_days, _grace_days
    _write_off, _window_days, _grace_days = write_off, window_days, grace_days


def _is_team_leader(caller: Caller) -> bool:
    return access_rules.role_of(caller) == access_rules.TEAM_LEADER


# -- write-offs ----------------------------------------------------------------------------------------------------


def _facts(db: Session, *, case_id: str, case: pb.Case) -> rules.WriteOffFacts:
    row = case_records.case_row(db, case_id)
    payer = row.paying_parent_client_id
    ongoing = bool(payer) and any(
        other.id != case_id and other.paying_parent_client_id == payer
        for other in case_records.cases_of_client(db, payer, open_only=True)
    )
    return rules.WriteOffFacts(
        case_closed=case.state == pb.CASE_STATE_CLOSED,
        owed_pence=account.owed(db, case_id=case_id),
        ongoing_liability=ongoing,
        last_payment=account.last_payment(db, case_id=case_id),
    )


def _record_write_off(
    db: Session,
    *,
    case_id: str,
    reason: apb.WriteOffReason.ValueType,
    amount_pence: int,
    note: str,
    caller: Caller,
    clock: Clock,
    estate_claim: str = "",
) -> apb.WriteOffDecision:
    decision_id = new_id()
    decision = apb.WriteOffDecision(
        name=f"cases/{case_id}/writeOffDecisions/{decision_id}",
        reason=reason,
        amount_pence=amount_pence,
        note=note,
        decided_by=caller.subject,
        estate_claim=estate_claim,
    )
    decision.decide_time.FromDatetime(clock.now())
    decision.adjustment = account.write_off(
        db,
        case_id=case_id,
        amount_pence=amount_pence,
        on=clock.today(),
        cause=decision.name,
        clock=clock,
    )
    db.add(
        WriteOffDecisionRecord(
            id=decision_id,
            case_id=case_id,
            document=decision.SerializeToString(),
            created_at=clock.now(),
        )
    )
    service.publish(
        db,
        case_id=case_id,
        clock=clock,
        message=ev.ArrearsWrittenOff(
            case_id=case_id,
            write_off_decision=decision.name,
            reason=reason,
            amount_pence=amount_pence,
            estate_claim=estate_claim,
        ),
    )
    return decision


def decide_write_off(
    db: Session, *, request: api.DecideWriteOffRequest, caller: Caller, clock: Clock
) -> apb.WriteOffDecision:
    """A team leader writes off a closed case's small arrears: every entry condition checked as of today."""
    note = request.note.strip()
    if not note:
        raise InvalidArgument.field("note", "is required: say why the arrears are written off")
    row = case_records.visible_case(
        db, name=request.parent, caller=caller, field="parent", lock=True
    )
    case = case_records.assemble(db, row)
    facts = _facts(db, case_id=row.id, case=case)
    refusal = rules.write_off_refusal(facts, today=clock.today(), params=_write_off)
    if refusal is not None:
        raise service.precondition(refusal.code, request.parent, refusal.description)
    decision = _record_write_off(
        db,
        case_id=row.id,
        reason=apb.WRITE_OFF_REASON_SMALL_ARREARS_CLOSED_CASE,
        amount_pence=facts.owed_pence,
        note=note,
        caller=caller,
        clock=clock,
    )
    access.audit(db, clock=clock, caller=caller, case_id=row.id, resource=decision.name)
    return decision


def get_write_off(db: Session, *, name: str, caller: Caller, clock: Clock) -> apb.WriteOffDecision:
    _, row = case_records.read_child(
        db,
        name=name,
        collection="writeOffDecisions",
        model=WriteOffDecisionRecord,
        what="write-off decision",
        caller=caller,
        clock=clock,
    )
    return apb.WriteOffDecision.FromString(row.document)


def list_write_offs(
    db: Session, *, case_id: str, size: int, offset: int
) -> tuple[list[apb.WriteOffDecision], bool]:
    rows, more = one_page(
        db,
        select(WriteOffDecisionRecord.document)
        .where(WriteOffDecisionRecord.case_id == case_id)
        .order_by(WriteOffDecisionRecord.created_at.desc(), WriteOffDecisionRecord.id),
        size=size,
        offset=offset,
    )
    return [apb.WriteOffDecision.FromString(d) for d in rows], more


def review_write_off(db: Session, *, case_id: str, as_of: dt.date, clock: Clock) -> bool:
    """A closed case whose arrears may be written off on `as_of` gets an "Arrears Write-Off Review" service request
    for a team leader's decision, unless one is still open. Returns whether one was raised."""
    row, case = case_records.load(db, case_id, lock=True)
    if case.state != pb.CASE_STATE_CLOSED:
        return False
    facts = _facts(db, case_id=case_id, case=case)
    if rules.write_off_refusal(facts, today=as_of, params=_write_off) is not None:
        return False
    if srs.has_open(db, case_id=case_id, sub_area=WRITE_OFF_REVIEW_SR):
        return False
    service.raise_sr(
        db,
        case_row=row,
        sub_area=WRITE_OFF_REVIEW_SR,
        description=(
            f"Arrears of {pounds(facts.owed_pence)} on a closed case may be written off (under "
            f"{pounds(_write_off.max_pence)}, no ongoing liability, no payment for {_write_off.quiet_days} days): "
            "decide (DecideWriteOff)"
        ),
        clock=clock,
    )
    return True


# -- estates -------------------------------------------------------------------------------------------------------


def _claim(row: EstateClaimRecord) -> apb.EstateClaim:
    return apb.EstateClaim.FromString(row.document)


def _position(claim: apb.EstateClaim) -> rules.ClaimPosition:
    return rules.ClaimPosition(claim.amount_pence, claim.paid_pence, claim.written_off_pence)


def _save_claim(row: EstateClaimRecord, claim: apb.EstateClaim, clock: Clock) -> None:
    claim.outstanding_pence = _position(claim).outstanding_pence
    claim.update_time.FromDatetime(clock.now())
    row.state = _ES.Name(claim.state)
    row.document, row.updated_at = claim.SerializeToString(), clock.now()


def paying_parent_died(db: Session, *, case_id: str, died_on: dt.date, clock: Clock) -> None:
    """A DEATH_OF_CLIENT change closed the case for the paying parent's death: liability ends from the date of death
    (the account's charges for days from then reversed), and what was owed at the date of death is claimed from the
    estate, with an "Estate Claim" service request. Once per case; nothing owed, no claim."""
    if db.scalars(select(EstateClaimRecord.id).where(EstateClaimRecord.case_id == case_id)).first():
        return
    account.end_liability(db, case_id=case_id, on=died_on, clock=clock)
    owed = account.owed_at(db, case_id=case_id, on=died_on)
    if owed <= 0:
        return
    claim_id = new_id()
    claim = apb.EstateClaim(
        name=f"cases/{case_id}/estateClaims/{claim_id}",
        state=apb.ESTATE_CLAIM_STATE_OPEN,
        date_of_death=pb_date(died_on),
        amount_pence=owed,
    )
    sr = service.raise_sr(
        db,
        case_row=case_records.case_row(db, case_id),
        sub_area=ESTATE_CLAIM_SR,
        description=(
            f"The paying parent died on {long_date(died_on)} owing {pounds(owed)}: lodge a claim with the personal "
            f"representatives ({claim.name})"
        ),
        clock=clock,
    )
    claim.service_request = sr.name
    claim.create_time.FromDatetime(clock.now())
    record = EstateClaimRecord(
        id=claim_id,
        case_id=case_id,
        state="",
        document=b"",
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    _save_claim(record, claim, clock)
    db.add(record)
    service.publish(
        db,
        case_id=case_id,
        clock=clock,
        message=ev.EstateClaimOpened(
            case_id=case_id,
            estate_claim=claim.name,
            amount_pence=owed,
            date_of_death=claim.date_of_death,
        ),
    )


def record_claim_progress(
    db: Session, *, request: api.RecordEstateClaimProgressRequest, caller: Caller, clock: Clock
) -> apb.EstateClaim:
    """A step of an estate claim: LODGED, a PAYMENT from the estate, or ESTATE_INSOLVENT (a team leader's write-off
    of what is outstanding, no more than the account still shows owed)."""
    action = request.action
    if action not in (
        apb.ESTATE_CLAIM_ACTION_LODGED,
        apb.ESTATE_CLAIM_ACTION_PAYMENT,
        apb.ESTATE_CLAIM_ACTION_ESTATE_INSOLVENT,
    ):
        raise InvalidArgument.field("action", "choose LODGED, PAYMENT or ESTATE_INSOLVENT")
    if action == apb.ESTATE_CLAIM_ACTION_PAYMENT and request.amount_pence <= 0:
        raise InvalidArgument.field(
            "amount_pence", "is required for a PAYMENT and must be more than nil"
        )
    if action != apb.ESTATE_CLAIM_ACTION_PAYMENT and request.amount_pence:
        raise InvalidArgument.field("amount_pence", "is only for a PAYMENT")
    case_row, row = case_records.visible_child(
        db,
        name=request.name,
        collection="estateClaims",
        model=EstateClaimRecord,
        what="estate claim",
        caller=caller,
        lock=True,
    )
    claim = _claim(row)
    if claim.state not in _OPEN_CLAIM_STATES:
        raise service.precondition(
            "CLAIM_CLOSED", request.name, "the claim is paid in full or written off"
        )
    position = _position(claim)
    note = request.note.strip()
    if action == apb.ESTATE_CLAIM_ACTION_LODGED:
        if claim.state == apb.ESTATE_CLAIM_STATE_OPEN:
            claim.state = apb.ESTATE_CLAIM_STATE_LODGED
    elif action == apb.ESTATE_CLAIM_ACTION_PAYMENT:
        try:
            position = rules.estate_payment(position, request.amount_pence)
        except ValueError:
            raise service.precondition(
                "MORE_THAN_OUTSTANDING",
                request.name,
                f"the payment is more than the {pounds(position.outstanding_pence)} outstanding",
            ) from None
        claim.paid_pence = position.paid_pence
        claim.state = (
            apb.ESTATE_CLAIM_STATE_PAID_IN_FULL
            if position.outstanding_pence == 0
            else apb.ESTATE_CLAIM_STATE_PAID_IN_PART
        )
    else:
        if not _is_team_leader(caller):
            raise PermissionDenied(
                "writing off an insolvent estate's claim is a team leader's decision",
                reason="WRITE_OFF_NEEDS_TEAM_LEADER",
            )
        remainder = min(position.outstanding_pence, account.owed(db, case_id=case_row.id))
        if remainder > 0:
            decision = _record_write_off(
                db,
                case_id=case_row.id,
                reason=apb.WRITE_OFF_REASON_ESTATE_INSOLVENT,
                amount_pence=remainder,
                note=note or "The estate is insolvent",
                caller=caller,
                clock=clock,
                estate_claim=claim.name,
            )
            claim.write_off_decision = decision.name
        claim.written_off_pence = position.outstanding_pence
        claim.state = apb.ESTATE_CLAIM_STATE_WRITTEN_OFF
    update = claim.updates.add(
        action=action, amount_pence=request.amount_pence, note=note, recorded_by=caller.subject
    )
    update.record_time.FromDatetime(clock.now())
    _save_claim(row, claim, clock)
    service.publish(
        db,
        case_id=case_row.id,
        clock=clock,
        message=ev.EstateClaimUpdated(
            case_id=case_row.id,
            estate_claim=claim.name,
            action=action,
            state=claim.state,
            paid_pence=claim.paid_pence,
            written_off_pence=claim.written_off_pence,
            outstanding_pence=claim.outstanding_pence,
        ),
    )
    access.audit(db, clock=clock, caller=caller, case_id=case_row.id, resource=claim.name)
    return claim


def get_claim(db: Session, *, name: str, caller: Caller, clock: Clock) -> apb.EstateClaim:
    _, row = case_records.read_child(
        db,
        name=name,
        collection="estateClaims",
        model=EstateClaimRecord,
        what="estate claim",
        caller=caller,
        clock=clock,
    )
    return _claim(row)


def list_claims(
    db: Session, *, case_id: str, size: int, offset: int
) -> tuple[list[apb.EstateClaim], bool]:
    rows, more = one_page(
        db,
        select(EstateClaimRecord)
        .where(EstateClaimRecord.case_id == case_id)
        .order_by(EstateClaimRecord.created_at.desc(), EstateClaimRecord.id),
        size=size,
        offset=offset,
    )
    return [_claim(r) for r in rows], more


# -- compliance ----------------------------------------------------------------------------------------------------


def _compliance_of(db: Session, client_id: str, on: dt.date) -> rules.Compliance:
    charges = [
        charge
        for row in case_records.cases_of_client(db, client_id)
        if row.paying_parent_client_id == client_id
        for charge in account.due_charges(db, case_id=row.id)
    ]
    return rules.compliance(charges, as_of=on, window_days=_window_days, grace_days=_grace_days)


def paying_parents_compliant(
    db: Session, client_ids: Iterable[str], on: dt.date
) -> dict[str, bool]:
    """`compliant` for many paying parents (client ids) at once: their cases in one query, those cases' ledgers in
    two, for a national run that asks a page of cases at a time."""
    wanted = list(dict.fromkeys(c for c in client_ids if c))
    if not wanted:
        return {}
    cases_of = case_records.cases_paid_by(db, wanted)
    due = account.due_charges_of_cases(db, [c for ids in cases_of.values() for c in ids])
    return {
        client_id: rules.counts_as_compliant(
            rules.compliance(
                [charge for case_id in ids for charge in due[case_id]],
                as_of=on,
                window_days=_window_days,
                grace_days=_grace_days,
            ).state
        )
        for client_id, ids in cases_of.items()
    }


def compliant(db: Session, case_id: str, on: dt.date) -> bool:
    """Whether the case's paying parent counts as compliant on `on` for the reform's collection fee
    (accounts.service.set_compliance_check): their ledger across all their cases over the window."""
    row = case_records.find(db, case_id)
    if row is None or not row.paying_parent_client_id:
        return True
    return rules.counts_as_compliant(_compliance_of(db, row.paying_parent_client_id, on).state)


def compliance_status(
    db: Session, *, request: api.GetComplianceStatusRequest, caller: Caller, clock: Clock
) -> apb.ComplianceStatus:
    """The paying parent's compliance today, from their cases' ledgers; the caller must see every one of those cases
    (NOT_FOUND otherwise, as for a case), and the read is audited on each."""
    client_id = id_from(request.client, "clients", "client")
    cases = [
        row
        for row in case_records.cases_of_client(db, client_id)
        if row.paying_parent_client_id == client_id
    ]
    if not cases:
        raise NotFound("paying parent", request.client)
    for row in cases:
        access.ensure_visible(caller, row, case_id=row.id, name=request.client)
    today = clock.today()
    found = _compliance_of(db, client_id, today)
    status = apb.ComplianceStatus(
        client=f"clients/{client_id}",
        state=apb.ComplianceState.Value(f"COMPLIANCE_STATE_{found.state}"),
        window_days=_window_days,
        window_start_date=pb_date(found.window_start),
        as_of_date=pb_date(today),
        grace_days=_grace_days,
        charges_due=found.charges_due,
        charges_paid_on_time=found.charges_paid_on_time,
        first_missed_due_date=pb_date(found.first_missed) if found.first_missed else None,
    )
    for row in cases:
        access.audit(db, clock=clock, caller=caller, case_id=row.id, resource=request.client)
    return status
