"""Interests ↔ the cms.hmrc.v1 contract: the interest a RegisterInterest request asks for (its parameters checked
against its type), what an interest watches, and the feed events (cms.hmrc.v1 events) built from what HMRC
reports through the port."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from cms.hmrc.v1 import events_pb2 as ev
from cms.hmrc.v1 import hmrc_service_pb2 as api
from cms.hmrc.v1 import resources_pb2 as pb
from cms_platform.convert import day_of, pb_date
from cms_platform.errors import InvalidArgument

from .. import convert
from ..port import ChildToFind, EarnedIncome, EmploymentView, RtiIncome, UnearnedIncomeYear
from .rules import DeoChange, EmploymentChange, EndDateNotice, RtiChange

# interest type → (its parameters' oneof member, required)
_PARAMETERS = {
    pb.INTEREST_TYPE_ANNUAL_INCOME_UPDATE: ("annual_income_update", True),
    pb.INTEREST_TYPE_RTI_CURRENT_INCOME: ("rti_current_income", False),
    pb.INTEREST_TYPE_DEDUCTION_FROM_EARNINGS: ("deduction_from_earnings", True),
    pb.INTEREST_TYPE_CHILD_BENEFIT_END_DATE: ("child_benefit_end_date", False),
    pb.INTEREST_TYPE_UNEARNED_INCOME: ("unearned_income", True),
}
_CHANGE_KINDS = {
    c: ev.EmploymentChangeKind.Value(f"EMPLOYMENT_CHANGE_KIND_{c.name}") for c in EmploymentChange
}


# -- the interest asked for ----------------------------------------------------------------------------------------


def interest_from_request(request: api.RegisterInterestRequest) -> pb.Interest:
    """The interest's type, case and parameters (no id, person or state yet); INVALID_ARGUMENT when the type is
    missing or the parameters do not go with it."""
    member, required = _PARAMETERS.get(request.interest_type, (None, False))
    if member is None:
        raise InvalidArgument.field("interest_type", "choose an interest type")
    which = request.WhichOneof("parameters")
    if which not in (None, member):
        raise InvalidArgument.field(
            which, f"does not go with {pb.InterestType.Name(request.interest_type)}; send {member}"
        )
    if which is None and required:
        raise InvalidArgument.field(
            member, f"is required for {pb.InterestType.Name(request.interest_type)}"
        )
    interest = pb.Interest(interest_type=request.interest_type, case_id=request.case_id)
    if which:
        getattr(interest, member).CopyFrom(getattr(request, member))
    return interest


def type_name(interest_type: pb.InterestType.ValueType) -> str:
    """How the interests table records an interest type (the contract's enum name)."""
    return pb.InterestType.Name(interest_type)


# -- what an interest watches --------------------------------------------------------------------------------------


def review_date(interest: pb.Interest) -> dt.date | None:
    """The case's annual review date an annual income or unearned income interest follows."""
    params = (
        interest.annual_income_update
        if interest.interest_type == pb.INTEREST_TYPE_ANNUAL_INCOME_UPDATE
        else interest.unearned_income
    )
    return day_of(params.annual_review_date)


def watched_children(interest: pb.Interest) -> list[ChildToFind]:
    """The children a Child Benefit end date interest names (none: every child on the award)."""
    return [convert.child_to_find(c) for c in interest.child_benefit_end_date.children]


def is_order(interest: pb.Interest) -> bool:
    """A deduction from earnings order (not a request to the Ministry of Defence): employment changes are alerted."""
    return interest.deduction_from_earnings.deduction_type == pb.DEDUCTION_FROM_EARNINGS_TYPE_ORDER


# -- feed events ---------------------------------------------------------------------------------------------------


def annual_income_updated(
    interest: pb.Interest,
    *,
    due: dt.date,
    income: EarnedIncome | None,
    previous_tax_year: str,
    previous_gross_income_pence: int,
) -> ev.AnnualIncomeUpdated:
    event = ev.AnnualIncomeUpdated(
        interest_id=interest.interest_id,
        case_id=interest.case_id,
        nino=interest.nino,
        annual_review_date=pb_date(due),
        income_data_held=income is not None,
        previous_tax_year=previous_tax_year,
        previous_gross_income_pence=previous_gross_income_pence,
    )
    if income is not None:
        event.tax_year = income.tax_year
        event.gross_income_pence = income.gross_income_pence
        event.source = convert.income_source_to_proto(income.source)
        event.components.CopyFrom(convert.components_to_proto(income))
    return event


def unearned_income_updated(
    interest: pb.Interest, *, due: dt.date, year: UnearnedIncomeYear | None
) -> ev.UnearnedIncomeUpdated:
    return ev.UnearnedIncomeUpdated(
        interest_id=interest.interest_id,
        case_id=interest.case_id,
        nino=interest.nino,
        annual_review_date=pb_date(due),
        variation_id=interest.unearned_income.variation_id,
        unearned_income=convert.unearned_year_to_proto(year),
    )


def rti_current_income_changed(
    interest: pb.Interest, *, change: RtiChange, rti: RtiIncome, on: dt.date
) -> ev.RtiCurrentIncomeChanged:
    """With the latest payment in the window (`on` when there is none)."""
    latest = max(
        (p.payment_date for e in rti.employments for p in e.payments),
        default=on,
    )
    return ev.RtiCurrentIncomeChanged(
        interest_id=interest.interest_id,
        case_id=interest.case_id,
        nino=interest.nino,
        current_weekly_income_pence=change.current_weekly_income_pence,
        previous_weekly_income_pence=change.previous_weekly_income_pence,
        change_basis_points=change.change_basis_points,
        latest_payment_date=pb_date(latest),
        employments=[convert.rti_employment_to_proto(e) for e in rti.employments],
    )


def employer_details_provided(
    interest: pb.Interest, *, live: Sequence[EmploymentView]
) -> ev.DeductionFromEarningsEmployerDetailsProvided:
    return ev.DeductionFromEarningsEmployerDetailsProvided(
        interest_id=interest.interest_id,
        case_id=interest.case_id,
        nino=interest.nino,
        deduction_type=interest.deduction_from_earnings.deduction_type,
        employments=[convert.employment_to_proto(v) for v in live],
    )


def deo_employment_changed(
    interest: pb.Interest, *, change: DeoChange, live: Sequence[EmploymentView]
) -> ev.DeoEmploymentChanged:
    return ev.DeoEmploymentChanged(
        interest_id=interest.interest_id,
        case_id=interest.case_id,
        nino=interest.nino,
        change_kind=_CHANGE_KINDS[change.change],
        change_date=pb_date(change.change_date),
        employment=convert.employment_to_proto(change.employment),
        live_employments=[convert.employment_to_proto(v) for v in live],
    )


def child_benefit_end_date_notified(
    interest: pb.Interest, notice: EndDateNotice
) -> ev.ChildBenefitEndDateNotified:
    notified = ev.ChildBenefitEndDateNotified(
        interest_id=interest.interest_id,
        case_id=interest.case_id,
        claimant_nino=interest.nino,
        child_status=convert.child_status_to_proto(notice.status),
    )
    if notice.previous_end_date:
        notified.previous_end_date.CopyFrom(pb_date(notice.previous_end_date))
    return notified
