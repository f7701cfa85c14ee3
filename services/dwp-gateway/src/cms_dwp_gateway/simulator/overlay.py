"""What has changed on the simulated CIS since the population was generated: people upserted by scenarios, awards
started or changed by scenarios and addresses changed by Send Update, stored as JSON or protobuf. Each write bumps
the stored state's version in its transaction, so lookups keep what they read in memory until the version moves
(cms_simulation.state) and a change made through one replica still holds at every other at once."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, union
from sqlalchemy.orm import Session, sessionmaker

from cms.dwp.v1 import dwp_scenario_service_pb2 as api
from cms.dwp.v1 import resources_pb2 as pb
from cms_platform import conflicts
from cms_platform.clock import Clock
from cms_platform.errors import Conflict
from cms_simulation.state import StateCache, StateVersion, bump

from ..port import (
    Address,
    AwardComponent,
    AwardEndReason,
    BenefitAward,
    BenefitType,
    PaymentFrequency,
    PaymentSuspension,
)
from .models import AddressRecord, AwardRecord, PersonOverride

# -- awards as JSON (the simulator's own storage format) -----------------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def _day(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _required_day(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


def award_to_json(a: BenefitAward) -> str:
    return json.dumps(_encode(a), sort_keys=True)


def award_from_json(text: str) -> BenefitAward:
    d = json.loads(text)
    return BenefitAward(
        award_id=d["award_id"],
        benefit_type=BenefitType(d["benefit_type"]),
        claimant_nino=d["claimant_nino"],
        start_date=_required_day(d["start_date"]),
        decision_date=_required_day(d["decision_date"]),
        amount_pence=d["amount_pence"],
        payment_frequency=PaymentFrequency(d["payment_frequency"]),
        partner_nino=d["partner_nino"],
        end_date=_day(d["end_date"]),
        end_reason=AwardEndReason(d["end_reason"]) if d["end_reason"] else None,
        components=tuple(AwardComponent(**c) for c in d["components"]),
        suspensions=tuple(
            PaymentSuspension(_required_day(s["start_date"]), _day(s["end_date"]), s["reason"])
            for s in d["suspensions"]
        ),
        uc_earned_income=d["uc_earned_income"],
        uc_assessment_day=d["uc_assessment_day"],
        uc_standard_allowance_monthly_pence=d["uc_standard_allowance_monthly_pence"],
        uc_third_party_deduction_count=d["uc_third_party_deduction_count"],
        uc_other_deductions_monthly_pence=d["uc_other_deductions_monthly_pence"],
        cis_updated_on=_day(d["cis_updated_on"]),
    )


# -- in the caller's transaction (scenarios) -----------------------------------------------------------------------


def stored_award(db: Session, award_id: str) -> BenefitAward | None:
    row = db.get(AwardRecord, award_id)
    return award_from_json(row.award) if row is not None else None


def awards_of(db: Session, nino: str) -> list[BenefitAward]:
    """The stored awards listed under a person, as claimant or partner."""
    rows = db.scalars(
        select(AwardRecord).where(
            or_(AwardRecord.claimant_nino == nino, AwardRecord.partner_nino == nino)
        )
    )
    return [award_from_json(r.award) for r in rows]


def store_award(db: Session, a: BenefitAward, clock: Clock, *, new: bool = False) -> None:
    """Store an award over the generated or stored one of its id; a `new` award's id must be free. Two scenarios
    starting an award for one person at once choose the same next id: the loser is refused (ABORTED, by its
    Conflict here or by the primary key at the flush) rather than overwriting the winner's award."""
    row = db.get(AwardRecord, a.award_id)
    if row is not None and new:
        raise Conflict(
            "another award was started for this person at the same time; retry",
            reason=conflicts.REASON,
        )
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
        if new:
            db.flush()  # the primary key refuses a concurrent start now, inside this call
    else:
        row.award, row.updated_at = award_to_json(a), clock.now()
    bump(db)


def address_of(db: Session, nino: str) -> Address | None:
    row = db.get(AddressRecord, nino)
    if row is None:
        return None
    a = json.loads(row.address)
    return Address(tuple(a["lines"]), a["post_town"], a["postcode"], a["country"] or "GB")


def store_address(db: Session, nino: str, address: Address, clock: Clock) -> None:
    stored = json.dumps(
        {
            "lines": list(address.lines),
            "post_town": address.post_town,
            "postcode": address.postcode,
            "country": address.country,
        }
    )
    row = db.get(AddressRecord, nino)
    if row is None:
        db.add(AddressRecord(nino=nino, address=stored, updated_at=clock.now()))
    else:
        row.address, row.updated_at = stored, clock.now()
    bump(db)


def stored_person(db: Session, nino: str) -> tuple[pb.PersonRecord, api.PersonScenario] | None:
    row = db.get(PersonOverride, nino)
    if row is None:
        return None
    return pb.PersonRecord.FromString(row.record), api.PersonScenario.FromString(row.scenario)


def store_person(
    db: Session, nino: str, record: pb.PersonRecord, scenario: api.PersonScenario, clock: Clock
) -> None:
    """The upserted record replaces the person's whole record, an address Send Update changed included."""
    data = record.SerializeToString(deterministic=True)
    flags = scenario.SerializeToString(deterministic=True)
    row = db.get(PersonOverride, nino)
    if row is None:
        db.add(PersonOverride(nino=nino, record=data, scenario=flags, updated_at=clock.now()))
    else:
        row.record, row.scenario, row.updated_at = data, flags, clock.now()
    moved = db.get(AddressRecord, nino)
    if moved is not None:
        db.delete(moved)
    bump(db)


@dataclass(frozen=True)
class Changes:
    """Everything stored over one person's generated record. Shared by every lookup at one version: read it, never
    change it."""

    person: tuple[pb.PersonRecord, api.PersonScenario] | None
    address: Address | None
    awards: tuple[BenefitAward, ...]


NOTHING = Changes(None, None, ())


def stored_ninos(db: Session, limit: int) -> frozenset[str] | None:
    """Every NINO something is stored over (an award's partner included); None when more than `limit`."""
    found = frozenset(
        db.scalars(
            union(
                select(PersonOverride.nino),
                select(AddressRecord.nino),
                select(AwardRecord.claimant_nino),
                select(AwardRecord.partner_nino),
            ).limit(limit + 1)
        )
    )
    return found if len(found) <= limit else None


# -- for the adapter, in transactions of its own -------------------------------------------------------------------


class Overlay:
    """The changes as the simulated CIS reads and writes them, kept while the stored state's version stands: which
    NINOs anything is stored over (so most people, with nothing, cost no query), and each of those people's
    changes. A lookup then costs the call's one version read rather than three queries."""

    def __init__(
        self,
        sessions: sessionmaker,
        clock: Clock,
        version: StateVersion | None = None,
        *,
        ninos_limit: int = 10_000,
    ):
        self._sessions, self._clock = sessions, clock
        version = version if version is not None else StateVersion(sessions)
        # Past `ninos_limit` people the set would cost more to reload at each change than it saves: each person's
        # rows are read (and kept) instead.
        self._ninos: StateCache[None, frozenset[str] | None] = StateCache(version, limit=1)
        self._ninos_limit = ninos_limit
        self._changes: StateCache[str, Changes] = StateCache(version)

    def changes(self, nino: str) -> Changes:
        stored = self._ninos.get(None, lambda s: stored_ninos(s, self._ninos_limit))
        if stored is not None and nino not in stored:
            return NOTHING
        return self._changes.get(
            nino,
            lambda s: Changes(
                stored_person(s, nino), address_of(s, nino), tuple(awards_of(s, nino))
            ),
        )

    def awards(self, nino: str) -> tuple[BenefitAward, ...]:
        return self.changes(nino).awards

    def address(self, nino: str) -> Address | None:
        return self.changes(nino).address

    def change_address(self, nino: str, address: Address) -> None:
        with self._sessions.begin() as s:
            store_address(s, nino, address, self._clock)
