"""The scenario admin service's requests as the simulator's values: dates, award components, payment frequencies,
the outcome a scenario forces on Jobcentre Plus and the records of people it upserts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from google.type import date_pb2

from cms.dwp.v1 import resources_pb2 as pb
from cms_platform.convert import date_or_violation, day_of
from cms_platform.errors import InvalidArgument, ViolationCollector

from .. import convert as records
from ..deductions import convert as deductions
from ..port import (
    Address,
    AwardComponent,
    BenefitAward,
    Child,
    PaymentFrequency,
    PersonRecord,
    Rejection,
    Sex,
)


def optional_day(date: date_pb2.Date, path: str) -> dt.date | None:
    """A whole date when given, else None; INVALID_ARGUMENT naming `path` for a partial or impossible one."""
    v = ViolationCollector()
    day = date_or_violation(date, path, v, required=False)
    v.raise_if_any()
    return day


def day(date: date_pb2.Date, path: str) -> dt.date:
    """A date that must be given; INVALID_ARGUMENT naming `path` otherwise."""
    v = ViolationCollector()
    found = date_or_violation(date, path, v)
    v.raise_if_any()
    assert found is not None  # required: a violation otherwise
    return found


def frequency_of(value: int) -> PaymentFrequency | None:
    return records.FREQUENCY_OF.get(value)


def components(given: Iterable[pb.AwardComponent]) -> tuple[AwardComponent, ...]:
    return tuple(AwardComponent(c.type, c.sub_type, c.amount_pence, c.payable) for c in given)


def forced_outcome(value: int) -> bool | None:
    """Whether a scenario forces JCP to accept (True) or reject (False); None lets JCP decide by its checks."""
    if not value:
        return None
    return value == pb.DEDUCTION_OUTCOME_ACCEPTED


def forced_rejection(value: int) -> Rejection | None:
    """The rejection reason a scenario forces (None: JCP's own, or OTHER)."""
    if not value:
        return None
    found = deductions.rejection_of(value)
    if found is None:
        raise InvalidArgument.field("forced_rejection_reason", f"{value} is not a rejection reason")
    return found


# -- a person a scenario upserted ----------------------------------------------------------------------------------

_SEX = {pb.SEX_MALE: Sex.MALE, pb.SEX_FEMALE: Sex.FEMALE}


def _address(a: pb.PersonAddress) -> Address:
    x = a.address
    return Address(tuple(x.lines), x.post_town, x.postcode, x.country or "GB")


def upserted_person(
    record: pb.PersonRecord,
    *,
    person_id: Callable[[str], str],
    address: Address | None,
    awards: tuple[BenefitAward, ...],
) -> PersonRecord:
    """The port's record of an upserted person (their addresses newest first: the first is current), with the
    address Send Update changed since and the awards CIS holds."""
    partner = next(
        (r.related_nino for r in record.relationships if r.type == pb.RELATIONSHIP_TYPE_PARTNER),
        "",
    )
    children = tuple(
        Child(
            person_id=person_id(r.related_child_reference_number),
            child_reference_number=r.related_child_reference_number,
            forenames=r.related_name.forenames,
            surname=r.related_name.surname,
            date_of_birth=day_of(r.related_date_of_birth) or dt.date.min,
            relationship_start_date=day_of(r.period.start_date)
            or day_of(r.related_date_of_birth)
            or dt.date.min,
        )
        for r in record.relationships
        if r.type == pb.RELATIONSHIP_TYPE_CHILD
    )
    return PersonRecord(
        person_id=person_id(record.nino),
        nino=record.nino,
        title=record.name.title,
        forenames=record.name.forenames,
        surname=record.name.surname,
        date_of_birth=day_of(record.date_of_birth) or dt.date.min,
        address=address or _address(record.addresses[0]),
        sex=_SEX.get(record.sex, Sex.UNSPECIFIED),
        previous_surnames=tuple(n.surname for n in record.previous_names),
        date_of_death=day_of(record.date_of_death) if record.HasField("date_of_death") else None,
        restricted=record.restricted,
        partner_nino=partner,
        children=children,
        benefit_awards=awards,
    )
