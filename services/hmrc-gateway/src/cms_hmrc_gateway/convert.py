"""The port's answers as the contract's messages, and the requests' identities as the port's terms."""

from __future__ import annotations

from cms.common.v1 import types_pb2 as common
from cms.hmrc.v1 import hmrc_service_pb2 as api
from cms.hmrc.v1 import resources_pb2 as pb
from cms_platform.convert import date_or_violation
from cms_platform.errors import ViolationCollector
from cms_simulation.population.nino import valid_nino

from .port import (
    ChildBenefitStatus,
    ChildToFind,
    EarnedIncome,
    EmploymentView,
    IncomeSource,
    MatchOutcome,
    MatchResult,
    PersonToMatch,
)
from .simulator import convert

_OUTCOMES = {
    MatchOutcome.MATCHED: common.MATCH_OUTCOME_MATCHED,
    MatchOutcome.PARTIAL: common.MATCH_OUTCOME_PARTIAL,
    MatchOutcome.NOT_FOUND: common.MATCH_OUTCOME_NOT_FOUND,
}
_SOURCES = {
    IncomeSource.PAYE: pb.INCOME_SOURCE_PAYE,
    IncomeSource.SELF_ASSESSMENT: pb.INCOME_SOURCE_SELF_ASSESSMENT,
}


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


def child_from_request(
    child: pb.ChildIdentity, path: str, v: ViolationCollector
) -> ChildToFind | None:
    if child.child_reference_number and not valid_nino(child.child_reference_number):
        v.add(
            f"{path}.child_reference_number", "is not a valid Child Reference Number (NINO format)"
        )
    dob = date_or_violation(child.date_of_birth, f"{path}.date_of_birth", v)
    if dob is None:
        return None
    return ChildToFind(child.name.forenames, child.name.surname, dob, child.child_reference_number)


def child_to_find(child: pb.ChildIdentity) -> ChildToFind:
    return ChildToFind(
        child.name.forenames,
        child.name.surname,
        convert.date_from_proto(child.date_of_birth),
        child.child_reference_number,
    )


# -- answers -------------------------------------------------------------------------------------------------------


def match_to_proto(m: MatchResult) -> common.MatchResult:
    return common.MatchResult(outcome=_OUTCOMES[m.outcome], failed_rules=list(m.failed_rules))


def income_source_to_proto(source: IncomeSource) -> int:
    return _SOURCES[source]


def components_to_proto(i: EarnedIncome) -> pb.EarnedIncomeComponents:
    return pb.EarnedIncomeComponents(
        employment_income_pence=i.employment_income_pence,
        pension_income_pence=i.pension_income_pence,
        taxable_benefits_pence=i.taxable_benefits_pence,
        trading_profit_pence=i.trading_profit_pence,
    )


def employment_view_to_proto(view: EmploymentView) -> pb.Employment:
    msg = convert.employment_to_proto(
        view.employment,
        last_payment_date=view.last_payment_date,
        potentially_ceased=view.potentially_ceased,
    )
    if view.live:  # a leaving date HMRC has not been told of (or one still to come) is not reported
        msg.ClearField("end_date")
    return msg


def rti_employment_to_proto(view: EmploymentView, payments) -> pb.RtiEmploymentIncome:
    return pb.RtiEmploymentIncome(
        employment=employment_view_to_proto(view),
        payments=[convert.rti_payment_to_proto(p) for p in payments],
    )


def child_status_to_proto(s: ChildBenefitStatus) -> pb.ChildBenefitChildStatus:
    asked = pb.ChildIdentity(
        name=common.PersonName(forenames=s.asked.forenames, surname=s.asked.surname),
        date_of_birth=convert.date_to_proto(s.asked.date_of_birth),
        child_reference_number=s.asked.child_reference_number,
    )
    if s.found is None:
        return pb.ChildBenefitChildStatus(child=asked, child_match=common.MATCH_OUTCOME_NOT_FOUND)
    asked.child_reference_number = s.found.child_reference_number
    out = pb.ChildBenefitChildStatus(
        child=asked,
        child_match=common.MATCH_OUTCOME_MATCHED,
        entitled=s.entitled,
        in_payment=s.in_payment,
        elected_not_to_be_paid=s.elected_not_to_be_paid,
        relationship_start_date=convert.date_to_proto(s.found.relationship_start_date),
        end_reason=convert.end_reason_to_proto(s.end_reason)
        if s.end_date
        else pb.CHILD_BENEFIT_END_REASON_UNSPECIFIED,
        approved_education_or_training_reported=s.found.approved_education_or_training_reported,
    )
    if s.end_date:
        out.end_date.CopyFrom(convert.date_to_proto(s.end_date))
    return out


def earned_income_response(answer) -> api.GetSummaryOfEarnedIncomeResponse:
    out = api.GetSummaryOfEarnedIncomeResponse(match=match_to_proto(answer.match))
    i: EarnedIncome | None = answer.data
    if i is not None:
        out.income_data_held = True
        out.tax_year = i.tax_year
        out.gross_income_pence = i.gross_income_pence
        out.source = _SOURCES[i.source]
        out.components.CopyFrom(components_to_proto(i))
    return out
