"""The port's types as the contract's messages (cms.dwp.v1) and back: person records, benefit awards with what each
benefit means for the CMS, the CIS enquiries' requests and answers. Dates, timestamps, names, addresses and match
results go through cms_platform.convert."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from google.protobuf import timestamp_pb2

from cms.common.v1 import types_pb2 as common
from cms.dwp.v1 import dwp_service_pb2 as api
from cms.dwp.v1 import resources_pb2 as pb
from cms_platform.convert import (
    address_to_proto,
    date_or_violation,
    match_result,
    optional_date,
    pb_date,
    person_name,
    timestamp_of,
)
from cms_platform.errors import ViolationCollector
from cms_platform.identifiers import normalise_nino, valid_nino
from cms_platform.paging import next_token

from .benefits import FACTS, flat_rate_benefit_in_payment, prescription_of
from .port import (
    Address,
    AddressUpdate,
    AwardEndReason,
    AwardQuery,
    BenefitAward,
    BenefitType,
    Child,
    ChildQuery,
    ChildVerification,
    NinoQuery,
    NinoVerification,
    PaymentFrequency,
    PersonRecord,
    Sex,
)

FREQUENCY = {
    PaymentFrequency.WEEKLY: common.PAYMENT_FREQUENCY_WEEKLY,
    PaymentFrequency.FORTNIGHTLY: common.PAYMENT_FREQUENCY_FORTNIGHTLY,
    PaymentFrequency.FOUR_WEEKLY: common.PAYMENT_FREQUENCY_FOUR_WEEKLY,
    PaymentFrequency.MONTHLY: common.PAYMENT_FREQUENCY_MONTHLY,
}
FREQUENCY_OF: dict[int, PaymentFrequency] = {int(v): k for k, v in FREQUENCY.items()}
_SEX = {Sex.MALE: pb.SEX_MALE, Sex.FEMALE: pb.SEX_FEMALE}
# When a record carries no update date of its own (a generated person never changed by a scenario).
RECORD_EPOCH = dt.datetime(2013, 4, 1, tzinfo=dt.UTC)


def check_nino(nino: str, path: str, v: ViolationCollector) -> None:
    if not valid_nino(nino):
        v.add(path, "is not a valid National Insurance number (two letters, six digits, A-D)")


# -- enums ---------------------------------------------------------------------------------------------------------


def benefit_type(t: BenefitType) -> pb.BenefitType.ValueType:
    return pb.BenefitType.Value(f"BENEFIT_TYPE_{t.value}")


def benefit_type_of(value: int) -> BenefitType | None:
    """The benefit type a contract value names (None: unset or not a benefit type)."""
    if not value or value not in pb.BenefitType.values():
        return None
    return BenefitType.__members__.get(
        pb.BenefitType.Name(pb.BenefitType.ValueType(value)).removeprefix("BENEFIT_TYPE_")
    )


def end_reason(r: AwardEndReason) -> pb.AwardEndReason.ValueType:
    return pb.AwardEndReason.Value(f"AWARD_END_REASON_{r.value}")


def end_reason_of(value: int) -> AwardEndReason | None:
    if value not in pb.AwardEndReason.values():
        return None
    return AwardEndReason.__members__.get(
        pb.AwardEndReason.Name(pb.AwardEndReason.ValueType(value)).removeprefix("AWARD_END_REASON_")
    )


# -- timestamps ----------------------------------------------------------------------------------------------------


def record_update_time(updated_on: dt.date | None) -> timestamp_pb2.Timestamp:
    """When CIS last changed a record, or the epoch of the records it never changed."""
    return timestamp_of(updated_on or RECORD_EPOCH)


# -- awards --------------------------------------------------------------------------------------------------------


def amount(a: BenefitAward) -> common.PeriodicAmount:
    return common.PeriodicAmount(
        frequency=FREQUENCY[a.payment_frequency], amount_pence=a.amount_pence
    )


def award(a: BenefitAward, nino: str, on: dt.date) -> pb.BenefitAward:
    """The award as `nino` sees it (claimant or partner) on `on`, with what the benefit means for the CMS."""
    facts = FACTS[a.benefit_type]
    if a.end_date is not None and a.end_date < on:
        status = pb.BENEFIT_AWARD_STATUS_ENDED
    elif a.suspended_on(on):
        status = pb.BENEFIT_AWARD_STATUS_SUSPENDED
    else:
        status = pb.BENEFIT_AWARD_STATUS_IN_PAYMENT
    msg = pb.BenefitAward(
        award_id=a.award_id,
        nino=nino,
        benefit_type=benefit_type(a.benefit_type),
        role=pb.CLAIMANT_ROLE_CLAIMANT if nino == a.claimant_nino else pb.CLAIMANT_ROLE_PARTNER,
        partner_nino=a.partner_nino if nino == a.claimant_nino else a.claimant_nino,
        status=status,
        start_date=pb_date(a.start_date),
        decision_date=pb_date(a.decision_date),
        amount=amount(a),
        components=[
            pb.AwardComponent(
                type=c.type, sub_type=c.sub_type, amount_pence=c.amount_pence, payable=c.payable
            )
            for c in a.components
        ],
        payment_suspensions=[
            pb.PaymentSuspension(
                period=common.DateRange(
                    start_date=pb_date(s.start_date), end_date=optional_date(s.end_date)
                ),
                reason=s.reason,
            )
            for s in a.suspensions
        ],
        administering_system=pb.BenefitSystem.Value(f"BENEFIT_SYSTEM_{facts.system.value}"),
        flat_rate_prescription=pb.FlatRatePrescription.Value(
            f"FLAT_RATE_PRESCRIPTION_{prescription_of(a).value}"
        ),
        cis_update_time=timestamp_of(a.cis_updated_on or a.decision_date),
    )
    if facts.business is not None:
        msg.cis_business = pb.CisBusiness.Value(f"CIS_BUSINESS_{facts.business.value}")
    if facts.route is not None:
        msg.deduction_route = pb.DeductionRoute.Value(f"DEDUCTION_ROUTE_{facts.route.value}")
    if a.end_date:
        msg.end_date.CopyFrom(pb_date(a.end_date))
        if a.end_reason:
            msg.end_reason = end_reason(a.end_reason)
    if a.benefit_type is BenefitType.UNIVERSAL_CREDIT:
        msg.universal_credit.CopyFrom(
            pb.UniversalCreditDetails(
                earned_income_in_assessment_period=a.uc_earned_income,
                assessment_period_start_date=pb_date(_assessment_start(a.uc_assessment_day, on)),
                standard_allowance_monthly_pence=a.uc_standard_allowance_monthly_pence,
                third_party_deduction_count=a.uc_third_party_deduction_count,
                other_deductions_monthly_pence=a.uc_other_deductions_monthly_pence,
            )
        )
    return msg


def _assessment_start(day: int, on: dt.date) -> dt.date:
    """The start of the UC assessment period that contains `on` (periods start on the same day each month)."""
    day = min(max(day, 1), 28)
    start = on.replace(day=day)
    if start > on:
        start = (start.replace(day=1) - dt.timedelta(days=1)).replace(day=day)
    return start


# -- people --------------------------------------------------------------------------------------------------------


def address_of(a: common.Address) -> Address:
    return Address(tuple(a.lines), a.post_town, a.postcode, a.country)


def address_update(request: api.SendPersonUpdateRequest) -> AddressUpdate:
    """The change of address in a Send Update, checked against the format of CIS's change record."""
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
    assert effective is not None  # required: a violation otherwise
    return AddressUpdate(
        nino=normalise_nino(request.nino),
        old_address_line_1=change.old_address_line_1,
        old_postcode=change.old_postcode,
        new_address=address_of(change.new_address),
        effective=effective,
    )


def person_record(p: PersonRecord) -> pb.PersonRecord:
    msg = pb.PersonRecord(person_id=p.person_id, nino=p.nino, restricted=p.restricted)
    msg.create_time.CopyFrom(record_update_time(None))
    msg.update_time.CopyFrom(record_update_time(p.record_updated_on))
    if p.restricted:
        return msg  # special customer record: details withheld
    msg.name.CopyFrom(person_name(p.forenames, p.surname, p.title))
    msg.previous_names.extend(person_name(p.forenames, s) for s in p.previous_surnames)
    msg.date_of_birth.CopyFrom(pb_date(p.date_of_birth))
    if p.date_of_death:
        msg.date_of_death.CopyFrom(pb_date(p.date_of_death))
    msg.sex = _SEX.get(p.sex, pb.SEX_UNSPECIFIED)
    msg.addresses.add(address=address_to_proto(p.address), type=pb.ADDRESS_TYPE_RESIDENTIAL)
    if p.partner_nino:
        msg.relationships.add(type=pb.RELATIONSHIP_TYPE_PARTNER, related_nino=p.partner_nino)
    for c in p.children:
        msg.relationships.add(
            type=pb.RELATIONSHIP_TYPE_CHILD,
            related_child_reference_number=c.child_reference_number,
            related_name=person_name(c.forenames, c.surname),
            related_date_of_birth=pb_date(c.date_of_birth),
            period=common.DateRange(start_date=pb_date(c.relationship_start_date)),
        )  # never closed: stale links
    return msg


def child_record(parent: PersonRecord, c: Child) -> pb.PersonRecord:
    msg = pb.PersonRecord(
        person_id=c.person_id,
        child_reference_number=c.child_reference_number,
        name=person_name(c.forenames, c.surname),
        date_of_birth=pb_date(c.date_of_birth),
    )
    msg.create_time.CopyFrom(timestamp_of(c.relationship_start_date))
    msg.update_time.CopyFrom(timestamp_of(c.relationship_start_date))
    msg.addresses.add(address=address_to_proto(parent.address), type=pb.ADDRESS_TYPE_RESIDENTIAL)
    msg.relationships.add(
        type=pb.RELATIONSHIP_TYPE_PARENT,
        related_nino=parent.nino,
        related_name=person_name(parent.forenames, parent.surname),
        related_date_of_birth=pb_date(parent.date_of_birth),
    )
    return msg


# -- CIS enquiries -------------------------------------------------------------------------------------------------


def nino_query(request: api.VerifyNinoRequest) -> NinoQuery:
    v = ViolationCollector()
    p = request.person
    check_nino(p.nino, "person.nino", v)
    dob = date_or_violation(p.date_of_birth, "person.date_of_birth", v)
    v.raise_if_any()
    assert dob is not None  # required: a violation otherwise
    return NinoQuery(p.nino, p.name.forenames, p.name.surname, dob, request.postcode)


def nino_verification(r: NinoVerification) -> api.VerifyNinoResponse:
    out = api.VerifyNinoResponse(
        match=match_result(found=r.found, failed_rules=r.failed_rules),
        nino=r.nino,
        person_id=r.person_id,
    )
    if r.person is not None:
        out.restricted = r.person.restricted
        out.record_update_time.CopyFrom(record_update_time(r.person.record_updated_on))
        if r.person.date_of_death:
            out.date_of_death.CopyFrom(pb_date(r.person.date_of_death))
    return out


def child_query(request: api.VerifyChildReferenceNumberRequest) -> ChildQuery:
    v = ViolationCollector()
    if not request.child_reference_number and not request.parent_nino:
        v.add(
            "child_reference_number",
            "give the Child Reference Number, or parent_nino to search by",
        )
    if request.child_reference_number:
        check_nino(request.child_reference_number, "child_reference_number", v)
    if request.parent_nino:
        check_nino(request.parent_nino, "parent_nino", v)
    dob = date_or_violation(request.date_of_birth, "date_of_birth", v)
    v.raise_if_any()
    assert dob is not None  # required: a violation otherwise
    return ChildQuery(
        request.child_reference_number,
        request.parent_nino,
        request.name.forenames,
        request.name.surname,
        dob,
    )


def child_verification(r: ChildVerification) -> api.VerifyChildReferenceNumberResponse:
    out = api.VerifyChildReferenceNumberResponse(
        match=match_result(found=r.found, failed_rules=r.failed_rules), person_id=r.person_id
    )
    if r.child is not None:
        out.child_reference_number = r.child.child_reference_number
        out.record_update_time.CopyFrom(timestamp_of(r.child.relationship_start_date))
    return out


def check_person_record_request(request: api.GetPersonRecordRequest) -> None:
    v = ViolationCollector()
    if not request.nino and not request.child_reference_number:
        v.add("nino", "give the NINO, or child_reference_number for a child without one")
    if request.nino:
        check_nino(request.nino, "nino", v)
    if request.child_reference_number:
        check_nino(request.child_reference_number, "child_reference_number", v)
    v.raise_if_any()


def award_query(request: api.ListBenefitAwardsRequest) -> AwardQuery:
    v = ViolationCollector()
    check_nino(request.nino, "nino", v)
    types = set()
    for i, t in enumerate(request.benefit_types):
        found = benefit_type_of(t)
        if found is None:
            v.add(f"benefit_types[{i}]", f"{t} is not a benefit type")
        else:
            types.add(found)
    start = date_or_violation(request.effective_from_date, "effective_from_date", v, required=False)
    end = date_or_violation(request.effective_to_date, "effective_to_date", v, required=False)
    if start and end and end < start:
        v.add("effective_to_date", "is before effective_from_date")
    v.raise_if_any()
    return AwardQuery(normalise_nino(request.nino), frozenset(types), start, end)


def benefit_awards(
    awards: Sequence[BenefitAward],
    *,
    nino: str,
    on: dt.date,
    offset: int,
    size: int,
    record_updated_on: dt.date | None,
) -> api.ListBenefitAwardsResponse:
    return api.ListBenefitAwardsResponse(
        benefit_awards=[award(a, nino, on) for a in awards[offset : offset + size]],
        next_page_token=next_token(offset + size) if offset + size < len(awards) else "",
        record_update_time=record_update_time(record_updated_on),
    )


def view_on(request: api.ViewBenefitInfoRequest, today: dt.date) -> dt.date:
    """The day a caseworker views benefits on (today unless given)."""
    v = ViolationCollector()
    check_nino(request.nino, "nino", v)
    on = date_or_violation(request.as_of_date, "as_of_date", v, required=False) or today
    v.raise_if_any()
    return on


def benefit_info(p: PersonRecord, on: dt.date, live: Sequence[BenefitAward]) -> api.BenefitInfo:
    return api.BenefitInfo(
        person_id=p.person_id,
        as_of_date=pb_date(on),
        live_awards=[award(a, p.nino, on) for a in live],
        flat_rate_benefit_in_payment=flat_rate_benefit_in_payment(p.nino, live, on),
        record_update_time=record_update_time(p.record_updated_on),
    )
