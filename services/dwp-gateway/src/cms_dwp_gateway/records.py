"""CIS records and awards as the contract's messages."""

from __future__ import annotations

import datetime as dt

from google.protobuf import timestamp_pb2
from google.type import date_pb2

from cms.common.v1 import types_pb2 as common
from cms.dwp.v1 import resources_pb2 as pb
from cms_simulation.population.model import Address, BenefitAward, Child, Person

from .benefits import FACTS
from .simulator import person_id, suspended_on

__all__ = ["person_id"]

_FREQUENCY = {
    "WEEKLY": common.PAYMENT_FREQUENCY_WEEKLY,
    "FORTNIGHTLY": common.PAYMENT_FREQUENCY_FORTNIGHTLY,
    "FOUR_WEEKLY": common.PAYMENT_FREQUENCY_FOUR_WEEKLY,
    "MONTHLY": common.PAYMENT_FREQUENCY_MONTHLY,
}
# When a record carries no update date of its own (a generated person never changed by a scenario).
RECORD_EPOCH = dt.datetime(2013, 4, 1, tzinfo=dt.UTC)


def date(d: dt.date | None) -> date_pb2.Date | None:
    return date_pb2.Date(year=d.year, month=d.month, day=d.day) if d else None


def timestamp(d: dt.date | dt.datetime | None) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    if isinstance(d, dt.date) and not isinstance(d, dt.datetime):
        d = dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC)
    ts.FromDatetime(d or RECORD_EPOCH)
    return ts


def address(a: Address) -> common.Address:
    return common.Address(
        lines=list(a.lines), post_town=a.post_town, postcode=a.postcode, country=a.country
    )


def record_update_time(p: Person) -> timestamp_pb2.Timestamp:
    dates = [a.cis_updated_on or a.decision_date for a in p.benefit_awards]
    return timestamp(max(dates) if dates else None)


def award(a: BenefitAward, nino: str, on: dt.date) -> pb.BenefitAward:
    facts = FACTS[a.benefit_type]
    ended = a.end_date is not None and a.end_date < on
    status = (
        pb.BENEFIT_AWARD_STATUS_ENDED
        if ended
        else pb.BENEFIT_AWARD_STATUS_SUSPENDED
        if suspended_on(a, on)
        else pb.BENEFIT_AWARD_STATUS_IN_PAYMENT
    )
    prescription = facts.prescription.value
    if a.benefit_type.value == "UNIVERSAL_CREDIT" and a.uc_earned_income:
        prescription = (
            "NOT_PRESCRIBED"  # UC prescribes the flat rate only in a period without earnings
        )
    msg = pb.BenefitAward(
        award_id=a.award_id,
        nino=nino,
        benefit_type=pb.BenefitType.Value(f"BENEFIT_TYPE_{a.benefit_type.value}"),
        role=pb.CLAIMANT_ROLE_CLAIMANT if nino == a.claimant_nino else pb.CLAIMANT_ROLE_PARTNER,
        partner_nino=a.partner_nino if nino == a.claimant_nino else a.claimant_nino,
        status=status,
        start_date=date(a.start_date),
        decision_date=date(a.decision_date),
        amount=common.PeriodicAmount(
            frequency=_FREQUENCY[a.payment_frequency], amount_pence=a.amount_pence
        ),
        components=[
            pb.AwardComponent(
                type=c.type, sub_type=c.sub_type, amount_pence=c.amount_pence, payable=c.payable
            )
            for c in a.components
        ],
        payment_suspensions=[
            pb.PaymentSuspension(
                period=common.DateRange(start_date=date(s.start_date), end_date=date(s.end_date)),
                reason=s.reason,
            )
            for s in a.suspensions
        ],
        administering_system=pb.BenefitSystem.Value(f"BENEFIT_SYSTEM_{facts.system.value}"),
        cis_business=pb.CisBusiness.Value(f"CIS_BUSINESS_{facts.business.value}")
        if facts.business
        else 0,
        flat_rate_prescription=pb.FlatRatePrescription.Value(
            f"FLAT_RATE_PRESCRIPTION_{prescription}"
        ),
        deduction_route=pb.DeductionRoute.Value(f"DEDUCTION_ROUTE_{facts.route.value}")
        if facts.route
        else 0,
        cis_update_time=timestamp(a.cis_updated_on or a.decision_date),
    )
    if a.end_date:
        msg.end_date.CopyFrom(date(a.end_date))
        if a.end_reason:
            msg.end_reason = pb.AwardEndReason.Value(f"AWARD_END_REASON_{a.end_reason.value}")
    if a.benefit_type.value == "UNIVERSAL_CREDIT":
        msg.universal_credit.CopyFrom(
            pb.UniversalCreditDetails(
                earned_income_in_assessment_period=a.uc_earned_income,
                assessment_period_start_date=date(_assessment_start(a.uc_assessment_day, on)),
                standard_allowance_monthly_pence=a.uc_standard_allowance_monthly_pence,
                third_party_deduction_count=a.uc_third_party_deduction_count,
                other_deductions_monthly_pence=a.uc_other_deductions_monthly_pence,
            )
        )
    return msg


def _assessment_start(day: int, on: dt.date) -> dt.date:
    day = min(max(day, 1), 28)
    start = on.replace(day=day)
    if start > on:
        start = (start.replace(day=1) - dt.timedelta(days=1)).replace(day=day)
    return start


def flat_rate_benefit_in_payment(p: Person, on: dt.date, live: list[BenefitAward]) -> bool:
    """A live award not suspended that prescribes the flat rate: for the person's own receipt (reg 44(1)) only as
    claimant; for a couple benefit (reg 44(2)) either way; UC only without earnings in the period."""
    for a in live:
        if suspended_on(a, on):
            continue
        prescription = FACTS[a.benefit_type].prescription.value
        if a.benefit_type.value == "UNIVERSAL_CREDIT" and a.uc_earned_income:
            continue
        if prescription == "PARENT_OR_PARTNER" or (
            prescription == "OWN_RECEIPT" and a.claimant_nino == p.nino
        ):
            return True
    return False


def person_record(p: Person) -> pb.PersonRecord:
    msg = pb.PersonRecord(person_id=person_id(p.nino), nino=p.nino, restricted=p.restricted)
    msg.create_time.CopyFrom(timestamp(None))
    msg.update_time.CopyFrom(record_update_time(p))
    if p.restricted:
        return msg  # special customer record: details withheld
    msg.name.CopyFrom(common.PersonName(title=p.title, forenames=p.forenames, surname=p.surname))
    msg.previous_names.extend(
        common.PersonName(forenames=p.forenames, surname=s) for s in p.previous_surnames
    )
    msg.date_of_birth.CopyFrom(date(p.date_of_birth))
    if p.date_of_death:
        msg.date_of_death.CopyFrom(date(p.date_of_death))
    msg.sex = {"M": pb.SEX_MALE, "F": pb.SEX_FEMALE}.get(p.sex, pb.SEX_UNSPECIFIED)
    msg.addresses.add(address=address(p.address), type=pb.ADDRESS_TYPE_RESIDENTIAL)
    if p.partner_nino:
        msg.relationships.add(type=pb.RELATIONSHIP_TYPE_PARTNER, related_nino=p.partner_nino)
    if p.child_benefit:
        for c in p.child_benefit.children:
            msg.relationships.add(
                type=pb.RELATIONSHIP_TYPE_CHILD,
                related_child_reference_number=c.child_reference_number,
                related_name=common.PersonName(forenames=c.forenames, surname=c.surname),
                related_date_of_birth=date(c.date_of_birth),
                period=common.DateRange(start_date=date(c.relationship_start_date)),
            )  # never closed: stale links
    return msg


def child_record(parent: Person, c: Child) -> pb.PersonRecord:
    msg = pb.PersonRecord(
        person_id=person_id(c.child_reference_number),
        child_reference_number=c.child_reference_number,
        name=common.PersonName(forenames=c.forenames, surname=c.surname),
        date_of_birth=date(c.date_of_birth),
    )
    msg.create_time.CopyFrom(timestamp(c.relationship_start_date))
    msg.update_time.CopyFrom(timestamp(c.relationship_start_date))
    msg.addresses.add(address=address(parent.address), type=pb.ADDRESS_TYPE_RESIDENTIAL)
    msg.relationships.add(
        type=pb.RELATIONSHIP_TYPE_PARENT,
        related_nino=parent.nino,
        related_name=common.PersonName(forenames=parent.forenames, surname=parent.surname),
        related_date_of_birth=date(parent.date_of_birth),
    )
    return msg
