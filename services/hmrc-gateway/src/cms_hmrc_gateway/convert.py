"""The HMRC port's terms ↔ the cms.hmrc.v1 contract: the identities a request asks about (checked, every bad field
named) as the port's, and the port's answers as the API's responses. Dates, names, addresses and match results go
through cms_platform.convert; the enums map by member name, checked at import."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from cms.common.v1 import types_pb2 as common
from cms.hmrc.v1 import hmrc_service_pb2 as api
from cms.hmrc.v1 import resources_pb2 as pb
from cms_platform import calls
from cms_platform.convert import (
    address_to_proto,
    date_or_violation,
    day_of,
    match_result,
    optional_date,
    pb_date,
    person_name,
)
from cms_platform.errors import InvalidArgument, ViolationCollector
from cms_platform.identifiers import valid_crn, valid_nino

from .income.rules import rti_window, tax_year_problem
from .port import (
    Answer,
    ChildBenefitEndReason,
    ChildBenefitStatus,
    ChildToFind,
    EarnedIncome,
    Employer,
    EmployerRecords,
    EmploymentStatus,
    EmploymentStatusView,
    EmploymentView,
    IncomeSource,
    MatchOutcome,
    MatchResult,
    PayFrequency,
    PersonToMatch,
    RtiEmploymentIncome,
    RtiIncome,
    RtiPayment,
    SelfAssessment,
    UnearnedIncome,
    UnearnedIncomeYear,
)

# Built by name, so a member added on one side and not the other fails at import, not at run time.
_PAY_FREQUENCIES = {f: pb.PayFrequency.Value(f"PAY_FREQUENCY_{f.name}") for f in PayFrequency}
_END_REASONS = {
    r: pb.ChildBenefitEndReason.Value(f"CHILD_BENEFIT_END_REASON_{r.name}")
    for r in ChildBenefitEndReason
}
_EMPLOYMENT_STATUSES = {
    s: pb.EmploymentStatus.Value(f"EMPLOYMENT_STATUS_{s.name}") for s in EmploymentStatus
}
_SOURCES = {s: pb.IncomeSource.Value(f"INCOME_SOURCE_{s.name}") for s in IncomeSource}


# -- requests ------------------------------------------------------------------------------------------------------


def person_to_match(
    identity: common.PersonIdentity, path: str, v: ViolationCollector
) -> PersonToMatch | None:
    """The identity HMRC matches on; a malformed NINO (NIM39110 prefix rules) is named, never looked up."""
    ok = True
    if not valid_nino(identity.nino):
        v.add(
            f"{path}.nino",
            "is not a valid National Insurance number (two letters, six digits, A-D)",
        )
        ok = False
    dob = date_or_violation(identity.date_of_birth, f"{path}.date_of_birth", v)
    if not ok or dob is None:
        return None
    return PersonToMatch(identity.nino, identity.name.forenames, identity.name.surname, dob)


def person(identity: common.PersonIdentity, path: str = "person") -> PersonToMatch:
    """As person_to_match, raising INVALID_ARGUMENT for a bad identity."""
    v = ViolationCollector()
    found = person_to_match(identity, path, v)
    v.raise_if_any()
    assert found is not None  # every way to None added a violation
    return found


def child_from_request(
    child: pb.ChildIdentity, path: str, v: ViolationCollector
) -> ChildToFind | None:
    if child.child_reference_number and not valid_crn(child.child_reference_number):
        v.add(
            f"{path}.child_reference_number", "is not a valid Child Reference Number (NINO format)"
        )
    dob = date_or_violation(child.date_of_birth, f"{path}.date_of_birth", v)
    if dob is None:
        return None
    return ChildToFind(child.name.forenames, child.name.surname, dob, child.child_reference_number)


def children_from_request(
    children: Sequence[pb.ChildIdentity], path: str, v: ViolationCollector
) -> list[ChildToFind]:
    """The children asked about, each bad field named as `path[i].…` (a bad child is left out). The answer has one
    status per child, so a list too long for the call's deadline is refused rather than answered in part."""
    found = []
    for i, c in enumerate(children):
        calls.ensure_time("checking the children")
        found.append(child_from_request(c, f"{path}[{i}]", v))
    return [c for c in found if c is not None]


def child_to_find(child: pb.ChildIdentity) -> ChildToFind:
    """A child the CMS already holds (an interest's watched child): a partial date finds by CRN alone."""
    return ChildToFind(
        child.name.forenames,
        child.name.surname,
        day_of(child.date_of_birth),
        child.child_reference_number,
    )


def check_other_child_categories(
    request: api.VerifyChildBenefitInPaymentForOtherChildrenRequest, v: ViolationCollector
) -> None:
    """Each child is a relevant other child or a child in a family-based arrangement."""
    categories = (
        api.OTHER_CHILD_CATEGORY_RELEVANT_OTHER_CHILD,
        api.OTHER_CHILD_CATEGORY_FAMILY_BASED_ARRANGEMENT,
    )
    for i, c in enumerate(request.children):
        if c.category not in categories:
            v.add(
                f"children[{i}].category", "choose RELEVANT_OTHER_CHILD or FAMILY_BASED_ARRANGEMENT"
            )


def tax_year(tax_year: str, today: dt.date, path: str = "tax_year") -> str:
    """The tax year asked about ("" for the latest HMRC holds), INVALID_ARGUMENT when HMRC cannot answer for it."""
    if not tax_year:
        return ""
    problem = tax_year_problem(tax_year, today)
    if problem:
        raise InvalidArgument.field(path, problem)
    return tax_year


def rti_period(
    request: api.GetRtiCurrentIncomeRequest, today: dt.date, v: ViolationCollector
) -> tuple[dt.date, dt.date]:
    """The payment dates asked about: the RTI window up to today unless a period is given (an open end: today)."""
    start, end = rti_window(today)
    if request.HasField("payment_period"):
        period = request.payment_period
        start = date_or_violation(period.start_date, "payment_period.start_date", v) or start
        if period.HasField("end_date") and (
            period.end_date.year or period.end_date.month or period.end_date.day
        ):
            end = date_or_violation(period.end_date, "payment_period.end_date", v) or end
        if end < start:
            v.add("payment_period.end_date", "is before the start date")
        if end > today:
            v.add("payment_period.end_date", "is in the future")
    return start, end


# -- values --------------------------------------------------------------------------------------------------------


def match_to_proto(m: MatchResult) -> common.MatchResult:
    return match_result(found=m.outcome is not MatchOutcome.NOT_FOUND, failed_rules=m.failed_rules)


def outcome_name(outcome: common.MatchOutcome.ValueType) -> str:
    """A contract MatchOutcome as the audit records it ("MATCHED")."""
    return common.MatchOutcome.Name(outcome).removeprefix("MATCH_OUTCOME_")


def income_source_to_proto(source: IncomeSource) -> pb.IncomeSource.ValueType:
    return _SOURCES[source]


def end_reason_to_proto(reason: ChildBenefitEndReason | None) -> pb.ChildBenefitEndReason.ValueType:
    """None (no end reason held) is CHILD_BENEFIT_END_REASON_UNSPECIFIED."""
    return pb.CHILD_BENEFIT_END_REASON_UNSPECIFIED if reason is None else _END_REASONS[reason]


def components_to_proto(i: EarnedIncome) -> pb.EarnedIncomeComponents:
    return pb.EarnedIncomeComponents(
        employment_income_pence=i.employment_income_pence,
        pension_income_pence=i.pension_income_pence,
        taxable_benefits_pence=i.taxable_benefits_pence,
        trading_profit_pence=i.trading_profit_pence,
    )


def employer_to_proto(e: Employer) -> pb.Employer:
    return pb.Employer(
        name=e.name,
        address=address_to_proto(e.address),
        telephone_number=e.telephone_number,
        paye_reference=e.paye_reference,
        armed_forces=e.armed_forces,
    )


def employment_to_proto(view: EmploymentView) -> pb.Employment:
    """The employment as HMRC reports it on the date asked about (no end date while it looks live)."""
    e = view.employment
    return pb.Employment(
        employment_id=e.employment_id,
        employer=employer_to_proto(e.employer),
        payroll_id=e.payroll_id,
        start_date=pb_date(e.start_date),
        end_date=optional_date(e.end_date),
        pay_frequency=_PAY_FREQUENCIES[e.pay_frequency],
        last_payment_date=optional_date(view.last_payment_date),
        potentially_ceased=view.potentially_ceased,
        occupational_pension=e.occupational_pension,
    )


def rti_payment_to_proto(p: RtiPayment) -> pb.RtiPayment:
    return pb.RtiPayment(
        payment_date=pb_date(p.payment_date),
        tax_year=p.tax_year,
        week_number=p.week_number,
        month_number=p.month_number,
        taxable_pay_pence=p.taxable_pay_pence,
        taxable_pay_to_date_pence=p.taxable_pay_to_date_pence,
        employee_pension_contributions_pence=p.employee_pension_contributions_pence,
        benefits_taxed_via_payroll_pence=p.benefits_taxed_via_payroll_pence,
        tax_deducted_pence=p.tax_deducted_pence,
        hours_worked_band=p.hours_worked_band,
    )


def rti_employment_to_proto(income: RtiEmploymentIncome) -> pb.RtiEmploymentIncome:
    return pb.RtiEmploymentIncome(
        employment=employment_to_proto(income.employment),
        payments=[rti_payment_to_proto(p) for p in income.payments],
    )


def unearned_to_proto(tax_year: str, u: UnearnedIncome | None) -> pb.UnearnedIncome:
    """None (no Self Assessment return for the year) is a not-filed answer with every amount zero."""
    if u is None:
        return pb.UnearnedIncome(tax_year=tax_year, self_assessment_return_filed=False)
    return pb.UnearnedIncome(
        tax_year=tax_year,
        self_assessment_return_filed=True,
        uk_property_profit_pence=u.uk_property_profit_pence,
        savings_interest_pence=u.savings_interest_pence,
        uk_dividends_pence=u.uk_dividends_pence,
        foreign_dividends_pence=u.foreign_dividends_pence,
        other_income_pence=u.other_income_pence,
        total_unearned_income_pence=u.total_pence,
    )


def unearned_year_to_proto(year: UnearnedIncomeYear | None) -> pb.UnearnedIncome:
    """None (nothing held) reads as no return filed, for no tax year."""
    if year is None:
        return unearned_to_proto("", None)
    return unearned_to_proto(year.tax_year, year.unearned)


def self_assessment_to_proto(sa: SelfAssessment) -> pb.SelfAssessmentIncomeBreakdown:
    return pb.SelfAssessmentIncomeBreakdown(
        return_received_date=pb_date(sa.return_received_date),
        employment_income_pence=sa.employment_income_pence,
        self_employment_profit_pence=sa.self_employment_profit_pence,
        partnership_profit_pence=sa.partnership_profit_pence,
        trade_loss_relief_pence=sa.trade_loss_relief_pence,
        pension_income_pence=sa.pension_income_pence,
        taxable_benefits_pence=sa.taxable_benefits_pence,
    )


def child_status_to_proto(s: ChildBenefitStatus) -> pb.ChildBenefitChildStatus:
    asked = pb.ChildIdentity(
        name=person_name(s.asked.forenames, s.asked.surname),
        date_of_birth=pb_date(s.asked.date_of_birth),
        child_reference_number=s.asked.child_reference_number,
    )
    if s.found is None:
        return pb.ChildBenefitChildStatus(child=asked, child_match=common.MATCH_OUTCOME_NOT_FOUND)
    asked.child_reference_number = s.found.child_reference_number
    return pb.ChildBenefitChildStatus(
        child=asked,
        child_match=common.MATCH_OUTCOME_MATCHED,
        entitled=s.entitled,
        in_payment=s.in_payment,
        elected_not_to_be_paid=s.elected_not_to_be_paid,
        relationship_start_date=pb_date(s.found.relationship_start_date),
        end_reason=end_reason_to_proto(s.end_reason)
        if s.end_date
        else pb.CHILD_BENEFIT_END_REASON_UNSPECIFIED,
        end_date=optional_date(s.end_date),
        approved_education_or_training_reported=s.found.approved_education_or_training_reported,
    )


# -- responses -----------------------------------------------------------------------------------------------------


def receiving_child_benefit_response(
    answer: Answer[list[ChildBenefitStatus]],
) -> api.VerifyReceivingParentReceivingChildBenefitResponse:
    statuses = answer.data or []
    return api.VerifyReceivingParentReceivingChildBenefitResponse(
        match=match_to_proto(answer.match),
        receiving_child_benefit=any(s.entitled for s in statuses),
        children=[child_status_to_proto(s) for s in statuses],
    )


def other_children_response(
    answer: Answer[list[ChildBenefitStatus]],
) -> api.VerifyChildBenefitInPaymentForOtherChildrenResponse:
    return api.VerifyChildBenefitInPaymentForOtherChildrenResponse(
        match=match_to_proto(answer.match),
        children=[child_status_to_proto(s) for s in answer.data or []],
    )


def end_date_response(
    answer: Answer[list[ChildBenefitStatus]],
) -> api.RequestChildBenefitEndDateResponse:
    out = api.RequestChildBenefitEndDateResponse(match=match_to_proto(answer.match))
    if answer.data:
        out.child_status.CopyFrom(child_status_to_proto(answer.data[0]))
    return out


def employment_status_response(
    answer: Answer[EmploymentStatusView],
) -> api.GetPayingParentEmploymentStatusResponse:
    out = api.GetPayingParentEmploymentStatusResponse(match=match_to_proto(answer.match))
    if answer.data:
        d = answer.data
        out.employment_status = _EMPLOYMENT_STATUSES[d.status]
        out.live_employments.extend(employment_to_proto(e) for e in d.live_employments)
        out.self_assessment_registered = d.self_assessment_registered
        out.latest_self_employment_tax_year = d.latest_self_employment_tax_year
    return out


def employer_records_response(
    answer: Answer[EmployerRecords],
) -> api.LocatePayingParentEmployerRecordsResponse:
    out = api.LocatePayingParentEmployerRecordsResponse(match=match_to_proto(answer.match))
    if answer.data:
        out.employments.extend(employment_to_proto(e) for e in answer.data.employments)
        if answer.data.address:
            out.hmrc_held_address.CopyFrom(address_to_proto(answer.data.address))
    return out


def deduction_from_earnings_response(
    answer: Answer[tuple[EmploymentView, ...]],
) -> api.GetEmploymentDetailsForDeductionFromEarningsResponse:
    out = api.GetEmploymentDetailsForDeductionFromEarningsResponse(
        match=match_to_proto(answer.match)
    )
    out.employments.extend(employment_to_proto(e) for e in answer.data or ())
    return out


def earned_income_response(answer: Answer[EarnedIncome]) -> api.GetSummaryOfEarnedIncomeResponse:
    out = api.GetSummaryOfEarnedIncomeResponse(match=match_to_proto(answer.match))
    i = answer.data
    if i is not None:
        out.income_data_held = True
        out.tax_year = i.tax_year
        out.gross_income_pence = i.gross_income_pence
        out.source = _SOURCES[i.source]
        out.components.CopyFrom(components_to_proto(i))
    return out


def breakdown_response(
    answer: Answer[EarnedIncome], tax_year: str
) -> api.GetBreakdownOfIncomeSummaryResponse:
    """The year broken down; with no data, the year asked about (if one was) and nothing else."""
    out = api.GetBreakdownOfIncomeSummaryResponse(match=match_to_proto(answer.match))
    i = answer.data
    if i is not None:
        out.income_data_held = True
        out.tax_year = i.tax_year
        out.gross_income_pence = i.gross_income_pence
        out.source = _SOURCES[i.source]
        out.components.CopyFrom(components_to_proto(i))
        for paye in i.paye:
            out.employments.add(
                employment=employment_to_proto(paye.employment),
                taxable_pay_pence=paye.taxable_pay_pence,
                taxable_benefits_pence=paye.taxable_benefits_pence,
                employee_pension_contributions_pence=paye.employee_pension_contributions_pence,
                tax_deducted_pence=paye.tax_deducted_pence,
            )
        if i.self_assessment is not None:
            out.self_assessment.CopyFrom(self_assessment_to_proto(i.self_assessment))
    elif tax_year:
        out.tax_year = tax_year
    return out


def unearned_income_response(answer: Answer[UnearnedIncomeYear]) -> api.GetUnearnedIncomeResponse:
    out = api.GetUnearnedIncomeResponse(match=match_to_proto(answer.match))
    if answer.data is not None:
        out.unearned_income.CopyFrom(unearned_year_to_proto(answer.data))
    return out


def register_interest_response(
    match: MatchResult, interest: pb.Interest | None
) -> api.RegisterInterestResponse:
    """The match and, for a full match, the interest registered."""
    out = api.RegisterInterestResponse(match=match_to_proto(match))
    if interest is not None:
        out.interest.CopyFrom(interest)
    return out


def rti_income_response(answer: Answer[RtiIncome]) -> api.GetRtiCurrentIncomeResponse:
    out = api.GetRtiCurrentIncomeResponse(match=match_to_proto(answer.match))
    if answer.data is not None:
        out.employments.extend(rti_employment_to_proto(e) for e in answer.data.employments)
        out.average_weekly_taxable_pay_pence = answer.data.average_weekly_taxable_pay_pence
    return out
