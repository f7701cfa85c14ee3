"""CIS state kept by the gateway: awards started or changed by scenarios (over the generated ones), the CMS's
business interests, and the broadcasts they drive — written through the outbox in the same transaction as the
change, one event per active interest whose businesses cover the award. No interest, no broadcast (as on CIS)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cms.common.v1 import types_pb2 as common
from cms.dwp.v1 import dwp_service_pb2 as api
from cms.dwp.v1 import events_pb2 as ev
from cms.dwp.v1 import resources_pb2 as pb
from cms_platform import outbox
from cms_platform.clock import Clock
from cms_platform.convert import date_or_violation
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
from cms_simulation.population import normalise_nino
from cms_simulation.population.model import (
    Address,
    AwardComponent,
    AwardEndReason,
    BenefitAward,
    BenefitType,
    PaymentSuspension,
)

from . import records
from .benefits import FACTS, Business
from .models import AddressRecord, AwardRecord, InterestRecord
from .simulator import SimulatedCis, person_id

TOPIC = topic_of(ev.BenefitInformationChanged)
NOTIFIED_BUSINESSES = tuple(Business)


# -- awards as JSON (the gateway's own storage format) ----------------------------------------------------------------


def _encode(value):
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    if dataclasses.is_dataclass(value):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def award_to_json(a: BenefitAward) -> str:
    return json.dumps(_encode(a), sort_keys=True)


def award_from_json(text: str) -> BenefitAward:
    d = json.loads(text)
    day = lambda v: dt.date.fromisoformat(v) if v else None  # noqa: E731
    return BenefitAward(
        award_id=d["award_id"],
        benefit_type=BenefitType(d["benefit_type"]),
        claimant_nino=d["claimant_nino"],
        start_date=day(d["start_date"]),
        decision_date=day(d["decision_date"]),
        amount_pence=d["amount_pence"],
        payment_frequency=d["payment_frequency"],
        partner_nino=d["partner_nino"],
        end_date=day(d["end_date"]),
        end_reason=AwardEndReason(d["end_reason"]) if d["end_reason"] else None,
        components=tuple(AwardComponent(**c) for c in d["components"]),
        suspensions=tuple(
            PaymentSuspension(day(s["start_date"]), day(s["end_date"]), s["reason"])
            for s in d["suspensions"]
        ),
        uc_earned_income=d["uc_earned_income"],
        uc_assessment_day=d["uc_assessment_day"],
        uc_standard_allowance_monthly_pence=d["uc_standard_allowance_monthly_pence"],
        uc_third_party_deduction_count=d["uc_third_party_deduction_count"],
        uc_other_deductions_monthly_pence=d["uc_other_deductions_monthly_pence"],
        cis_updated_on=day(d["cis_updated_on"]),
    )


class AwardStore:
    """Scenario awards and applied address changes by person, read on every lookup (replicas stay consistent)."""

    def __init__(self, sessions):
        self._sessions = sessions

    def __call__(self, nino: str) -> list[BenefitAward]:
        with self._sessions() as s:
            return awards_of(s, nino)

    def address(self, nino: str) -> Address | None:
        with self._sessions() as s:
            row = s.get(AddressRecord, nino)
            if row is None:
                return None
            a = json.loads(row.address)
            return Address(tuple(a["lines"]), a["post_town"], a["postcode"], a["country"] or "GB")


def awards_of(db: Session, nino: str) -> list[BenefitAward]:
    rows = db.scalars(
        select(AwardRecord).where(
            or_(AwardRecord.claimant_nino == nino, AwardRecord.partner_nino == nino)
        )
    )
    return [award_from_json(r.award) for r in rows]


def store_award(db: Session, a: BenefitAward, clock: Clock) -> None:
    row = db.get(AwardRecord, a.award_id)
    if row is None:
        db.add(
            AwardRecord(
                award_id=a.award_id,
                claimant_nino=a.claimant_nino,
                partner_nino=a.partner_nino,
                award=award_to_json(a),
                updated_at=clock.now(),
            )
        )
    else:
        row.award, row.updated_at = award_to_json(a), clock.now()


# -- interests ------------------------------------------------------------------------------------------------------


def register(
    db: Session, *, request: api.RegisterInterestRequest, cis: SimulatedCis, clock: Clock
) -> pb.BusinessInterest:
    nino = normalise_nino(request.nino)
    if cis.person(nino) is None:
        raise NotFound("person", "people/unknown", "CIS holds no record for this NINO")
    businesses = []
    for i, b in enumerate(request.businesses):
        name = (
            pb.CisBusiness.Name(b).removeprefix("CIS_BUSINESS_")
            if b in pb.CisBusiness.values()
            else ""
        )
        if not b or name not in Business.__members__:
            raise InvalidArgument.field(f"businesses[{i}]", f"{b} is not a CIS business")
        businesses.append(Business[name])
    role = pb.CaseRole.Name(request.role)
    existing = db.scalar(
        select(InterestRecord).where(
            InterestRecord.nino == nino,
            InterestRecord.active.is_(True),
            InterestRecord.case_id == request.case_id,
            InterestRecord.role == role,
        )
    )
    if existing is not None:
        raise AlreadyExists(
            "business interest",
            f"interests/{existing.id}",
            "this case already has an active interest on the person in that role",
        )
    interest = pb.BusinessInterest(
        interest_id=str(uuid.uuid4()),
        nino=nino,
        person_id=person_id(nino),
        case_id=request.case_id,
        role=request.role,
        state=pb.INTEREST_STATE_ACTIVE,
    )
    for b in businesses or NOTIFIED_BUSINESSES:
        # Each business has its own CIS interest number (ESA's differs from JSA's and IS's).
        number = uuid.uuid5(uuid.NAMESPACE_OID, interest.interest_id + b.value).int % 10**8
        interest.businesses.add(
            business=pb.CisBusiness.Value(f"CIS_BUSINESS_{b.value}"),
            business_interest_number=f"{b.value[:3]}{number:08d}",
        )
    interest.register_time.FromDatetime(clock.now())
    db.add(
        InterestRecord(
            id=interest.interest_id,
            nino=nino,
            case_id=request.case_id,
            role=role,
            active=True,
            interest=interest.SerializeToString(),
            created_at=clock.now(),
        )
    )
    return interest


def deregister(db: Session, *, interest_id: str, clock: Clock) -> pb.BusinessInterest:
    row = db.get(InterestRecord, interest_id)
    if row is None or not row.active:
        raise NotFound("business interest", f"interests/{interest_id}")
    interest = pb.BusinessInterest.FromString(row.interest)
    interest.state = pb.INTEREST_STATE_DEREGISTERED
    interest.deregister_time.FromDatetime(clock.now())
    row.active, row.interest = False, interest.SerializeToString()
    return interest


def list_interests(db: Session, *, request: api.ListInterestsRequest) -> api.ListInterestsResponse:
    if not request.nino and not request.case_id:
        raise InvalidArgument.field("case_id", "give case_id or nino")
    size, offset = page(request.page_size, request.page_token, maximum=200)
    q = select(InterestRecord).order_by(InterestRecord.created_at.desc(), InterestRecord.id)
    if request.nino:
        q = q.where(InterestRecord.nino == normalise_nino(request.nino))
    if request.case_id:
        q = q.where(InterestRecord.case_id == request.case_id)
    if not request.include_deregistered:
        q = q.where(InterestRecord.active.is_(True))
    rows = db.scalars(q.offset(offset).limit(size + 1)).all()
    return api.ListInterestsResponse(
        interests=[pb.BusinessInterest.FromString(r.interest) for r in rows[:size]],
        next_page_token=str(offset + size) if len(rows) > size else "",
    )


# -- broadcasts -----------------------------------------------------------------------------------------------------


def broadcast(
    db: Session,
    *,
    award: BenefitAward,
    kind: int,
    effective: dt.date,
    clock: Clock,
    previous_amount: common.PeriodicAmount | None = None,
) -> int:
    """BenefitInformationChanged to every active interest on the claimant or partner covering the award's business;
    an award CIS does not notify (UC, IIDB, DBS payments, PIP/DLA) is never broadcast."""
    business = FACTS[award.benefit_type].business
    if business is None:
        return 0
    wanted = pb.CisBusiness.Value(f"CIS_BUSINESS_{business.value}")
    sent = 0
    for nino in filter(None, {award.claimant_nino, award.partner_nino}):
        for row in db.scalars(
            select(InterestRecord).where(
                InterestRecord.nino == nino, InterestRecord.active.is_(True)
            )
        ):
            interest = pb.BusinessInterest.FromString(row.interest)
            if wanted not in {line.business for line in interest.businesses}:
                continue
            event = ev.BenefitInformationChanged(
                interest_id=interest.interest_id,
                case_id=interest.case_id,
                role=interest.role,
                person_id=interest.person_id,
                nino=nino,
                change_kind=kind,
                effective_date=records.date(effective),
                award=records.award(award, nino, effective),
            )
            if previous_amount is not None:
                event.previous_amount.CopyFrom(previous_amount)
            event.change_time.FromDatetime(clock.now())
            outbox.publish(
                db,
                clock=clock,
                key=interest.interest_id,
                subject=f"interests/{interest.interest_id}",
                message=event,
            )
            sent += 1
    return sent


def send_update(
    db: Session, *, request: api.SendPersonUpdateRequest, cis: SimulatedCis, clock: Clock
) -> api.SendPersonUpdateResponse:
    """CIS Send Update (a change of address reported to the CMS). Applied to the record — or referred to DWP staff
    for a restricted record — and broadcast to every interested case, marked as the CMS's own (cms_originated)."""
    nino = normalise_nino(request.nino)
    person = cis.person(nino)
    if person is None:
        raise NotFound("person", "people/unknown", "CIS holds no record for this NINO")
    change = request.address_change
    v = ViolationCollector()
    lines = list(change.new_address.lines)
    if len(lines) < 2 or not all(line.strip() for line in lines[:2]):
        v.add("address_change.new_address.lines", "the first two address lines are required")
    for i, line in enumerate(lines):
        if len(line) > 35:
            v.add(
                f"address_change.new_address.lines[{i}]",
                "must be 35 characters or fewer (CIS change record)",
            )
    if len(change.new_address.postcode) > 8:
        v.add("address_change.new_address.postcode", "must be 8 characters or fewer")
    effective = date_or_violation(change.effective_date, "address_change.effective_date", v)
    v.raise_if_any()
    if (
        change.old_address_line_1.strip().upper() != person.address.lines[0].strip().upper()
        or change.old_postcode.replace(" ", "").upper()
        != person.address.postcode.replace(" ", "").upper()
    ):
        raise FailedPrecondition(
            PreconditionViolation(
                "ADDRESS_MISMATCH",
                "address_change.old_address_line_1",
                "the old address line 1 and postcode do not identify the address CIS holds",
            ),
            reason="ADDRESS_MISMATCH",
        )
    outcome = api.UPDATE_OUTCOME_REFERRED if person.restricted else api.UPDATE_OUTCOME_APPLIED
    response = api.SendPersonUpdateResponse(
        update_reference="CIS" + uuid.uuid4().hex[:10].upper(), outcome=outcome
    )
    response.apply_time.FromDatetime(clock.now())
    if outcome == api.UPDATE_OUTCOME_APPLIED:
        new = change.new_address
        stored = json.dumps(
            {
                "lines": list(new.lines),
                "post_town": new.post_town,
                "postcode": new.postcode,
                "country": new.country,
            }
        )
        row = db.get(AddressRecord, nino)
        if row is None:
            db.add(AddressRecord(nino=nino, address=stored, updated_at=clock.now()))
        else:
            row.address, row.updated_at = stored, clock.now()
        address = pb.PersonAddress(
            address=change.new_address,
            type=change.address_type or pb.ADDRESS_TYPE_RESIDENTIAL,
            period=common.DateRange(start_date=records.date(effective)),
        )
        for row in db.scalars(
            select(InterestRecord).where(
                InterestRecord.nino == nino, InterestRecord.active.is_(True)
            )
        ):
            interest = pb.BusinessInterest.FromString(row.interest)
            event = ev.PersonalDetailsChanged(
                interest_id=interest.interest_id,
                case_id=interest.case_id,
                role=interest.role,
                person_id=interest.person_id,
                nino=nino,
                change_kinds=[ev.PERSONAL_DETAILS_CHANGE_KIND_ADDRESS],
                effective_date=records.date(effective),
                address=address,
                cms_originated=True,
            )
            event.change_time.FromDatetime(clock.now())
            outbox.publish(
                db,
                clock=clock,
                key=interest.interest_id,
                subject=f"interests/{interest.interest_id}",
                message=event,
            )
    return response
