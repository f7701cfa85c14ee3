"""The broadcasts business interests drive: a change CIS records for a person (an award started, changed,
suspended, resumed or ended; an address the CMS sent with Send Update) becomes one event per active interest that
covers it, written through the outbox in the same transaction as the change. No interest, no broadcast (as on CIS).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from cms.common.v1 import types_pb2 as common
from cms.dwp.v1 import dwp_service_pb2 as api
from cms.dwp.v1 import events_pb2 as ev
from cms.dwp.v1 import resources_pb2 as pb
from cms_platform import outbox
from cms_platform.clock import Clock
from cms_platform.convert import pb_date
from cms_platform.errors import FailedPrecondition, NotFound, PreconditionViolation
from cms_platform.identifiers import normalise_nino

from .. import convert as records
from ..benefits import FACTS
from ..port import AwardChange, BenefitAward, CisPort, UpdateOutcome
from . import service

_CHANGE_KIND = {
    AwardChange.AWARD_STARTED: ev.BENEFIT_CHANGE_KIND_AWARD_STARTED,
    AwardChange.AMOUNT_CHANGED: ev.BENEFIT_CHANGE_KIND_AMOUNT_CHANGED,
    AwardChange.SUSPENDED: ev.BENEFIT_CHANGE_KIND_SUSPENDED,
    AwardChange.RESUMED: ev.BENEFIT_CHANGE_KIND_RESUMED,
    AwardChange.AWARD_ENDED: ev.BENEFIT_CHANGE_KIND_AWARD_ENDED,
}


def broadcast_award_change(
    db: Session,
    *,
    award: BenefitAward,
    change: AwardChange,
    effective: dt.date,
    clock: Clock,
    previous: BenefitAward | None = None,
) -> int:
    """BenefitInformationChanged to every active interest on the claimant or partner covering the award's business
    (with the amount before the change, when given); an award CIS does not notify (UC, IIDB, DBS payments,
    PIP/DLA) is never broadcast. Returns how many events were written."""
    business = FACTS[award.benefit_type].business
    if business is None:
        return 0
    sent = 0
    for nino in filter(None, {award.claimant_nino, award.partner_nino}):
        for interest in service.covering(db, nino=nino, business=business):
            event = ev.BenefitInformationChanged(
                interest_id=interest.interest_id,
                case_id=interest.case_id,
                role=interest.role,
                person_id=interest.person_id,
                nino=nino,
                change_kind=_CHANGE_KIND[change],
                effective_date=pb_date(effective),
                award=records.award(award, nino, effective),
            )
            if previous is not None:
                event.previous_amount.CopyFrom(records.amount(previous))
            event.change_time.FromDatetime(clock.now())
            _publish(db, clock, interest, event)
            sent += 1
    return sent


def send_update(
    db: Session, *, request: api.SendPersonUpdateRequest, cis: CisPort, clock: Clock
) -> api.SendPersonUpdateResponse:
    """CIS Send Update (a change of address reported to the CMS). Applied to the record — or referred to DWP staff
    for a restricted record — and broadcast to every interested case, marked as the CMS's own (cms_originated)."""
    nino = normalise_nino(request.nino)
    if cis.person(nino) is None:
        raise NotFound("person", "people/unknown", "CIS holds no record for this NINO")
    update = records.address_update(request)
    result = cis.send_update(update)
    if result.outcome is UpdateOutcome.ADDRESS_MISMATCH:
        raise FailedPrecondition(
            PreconditionViolation(
                "ADDRESS_MISMATCH",
                "address_change.old_address_line_1",
                "the old address line 1 and postcode do not identify the address CIS holds",
            ),
            reason="ADDRESS_MISMATCH",
        )
    applied = result.outcome is UpdateOutcome.APPLIED
    response = api.SendPersonUpdateResponse(
        update_reference=result.reference,
        outcome=api.UPDATE_OUTCOME_APPLIED if applied else api.UPDATE_OUTCOME_REFERRED,
    )
    response.apply_time.FromDatetime(clock.now())
    if applied:
        change = request.address_change
        address = pb.PersonAddress(
            address=change.new_address,
            type=change.address_type or pb.ADDRESS_TYPE_RESIDENTIAL,
            period=common.DateRange(start_date=pb_date(update.effective)),
        )
        for interest in service.active(db, nino=nino):
            event = ev.PersonalDetailsChanged(
                interest_id=interest.interest_id,
                case_id=interest.case_id,
                role=interest.role,
                person_id=interest.person_id,
                nino=nino,
                change_kinds=[ev.PERSONAL_DETAILS_CHANGE_KIND_ADDRESS],
                effective_date=pb_date(update.effective),
                address=address,
                cms_originated=True,
            )
            event.change_time.FromDatetime(clock.now())
            _publish(db, clock, interest, event)
    return response


def broadcast_personal_details(
    db: Session, *, nino: str, change: ev.PersonalDetailsChanged, clock: Clock
) -> int:
    """A change CIS recorded to a person's details (`change`: its kinds, date and new values) to every active
    interest on them, as PersonalDetailsChanged. Returns how many events were written."""
    sent = 0
    for interest in service.active(db, nino=nino):
        event = ev.PersonalDetailsChanged()
        event.CopyFrom(change)
        event.interest_id, event.case_id = interest.interest_id, interest.case_id
        event.role, event.person_id, event.nino = interest.role, interest.person_id, nino
        event.change_time.FromDatetime(clock.now())
        _publish(db, clock, interest, event)
        sent += 1
    return sent


def _publish(
    db: Session,
    clock: Clock,
    interest: pb.BusinessInterest,
    event: ev.BenefitInformationChanged | ev.PersonalDetailsChanged,
) -> None:
    outbox.publish(
        db,
        clock=clock,
        key=f"interests/{interest.interest_id}",
        subject=f"interests/{interest.interest_id}",
        message=event,
    )
