"""Asking for a calculation: the paying parent's income from HMRC and benefits from DWP, the cases the calculation
covers, and the calculation service's decision. Reads only; every downstream call is a read or idempotent on a
request id derived from ours, so a retried step repeats them harmlessly."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms.calculation.v1 import calculation_service_pb2 as calc_api
from cms.calculation.v1 import resources_pb2 as calc_pb
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms.dwp.v1 import dwp_service_pb2 as dwp_api
from cms.dwp.v1 import resources_pb2 as dwp_pb
from cms.hmrc.v1 import hmrc_service_pb2 as hmrc_api
from cms.hmrc.v1 import resources_pb2 as hmrc_pb
from cms_platform.convert import day_of
from cms_platform.errors import FailedPrecondition, PreconditionViolation

from ..case_records.models import CaseRecord
from ..downstream import Downstream, call
from ..names import derived_id
from . import rules

LIVE_STATES = (
    pb.CaseState.Name(pb.CASE_STATE_INITIAL_CALCULATION),
    pb.CaseState.Name(pb.CASE_STATE_LIVE),
)


def live_cases_of(db: Session, row: CaseRecord) -> list[CaseRecord]:
    """The paying parent's cases the calculation covers: this one and every other initial-calculation or live case."""
    others = db.scalars(
        select(CaseRecord)
        .where(
            CaseRecord.paying_parent_client_id == row.paying_parent_client_id,
            CaseRecord.state.in_(LIVE_STATES),
            CaseRecord.id != row.id,
        )
        .order_by(CaseRecord.created_at, CaseRecord.id)
    ).all()
    return [row, *others]


def benefits_of(nino: str, *, downstream: Downstream, case_id: str) -> list[pb.BenefitAward]:
    """The paying parent's benefit awards DWP holds, each with its dates: an ended award too, for the days it was in
    payment and so that its end can overrule an earlier start casework verified (an ended award without an end date
    says nothing and is left out)."""
    answer = call(
        downstream.dwp.ListBenefitAwards,
        dwp_api.ListBenefitAwardsRequest(
            nino=nino, context=dwp_pb.EnquiryContext(case_id=case_id), page_size=100
        ),
        what="dwp-gateway",
    )
    out = []
    for award in answer.benefit_awards:
        if award.status == dwp_pb.BENEFIT_AWARD_STATUS_ENDED and not award.end_date.year:
            continue
        out.append(
            pb.BenefitAward(
                benefit=dwp_pb.BenefitType.Name(award.benefit_type).removeprefix("BENEFIT_TYPE_"),
                partner_award=award.role == dwp_pb.CLAIMANT_ROLE_PARTNER,
                period=common.DateRange(start_date=award.start_date, end_date=award.end_date),
                universal_credit_earned_income=award.benefit_type
                == dwp_pb.BENEFIT_TYPE_UNIVERSAL_CREDIT
                and award.universal_credit.earned_income_in_assessment_period,
            )
        )
    return out


def gather_income(
    case: pb.Case,
    *,
    downstream: Downstream,
    benefits: list[pb.BenefitAward] | None = None,
) -> rules.Income:
    """The HMRC figure and, unless the caller has just fetched them, the paying parent's benefits."""
    case_id = case.name.removeprefix("cases/")
    summary = call(
        downstream.hmrc.GetSummaryOfEarnedIncome,
        hmrc_api.GetSummaryOfEarnedIncomeRequest(
            person=case.paying_parent.identity, context=hmrc_pb.EnquiryContext(case_id=case_id)
        ),
        what="hmrc-gateway",
    )
    if summary.match.outcome != common.MATCH_OUTCOME_MATCHED:
        code = "PAYING_PARENT_NOT_MATCHED_BY_HMRC"
        raise FailedPrecondition(
            PreconditionViolation(
                code,
                "paying_parent.identity",
                f"HMRC did not match the paying parent ({common.MatchOutcome.Name(summary.match.outcome)}"
                f"{': ' + ', '.join(summary.match.failed_rules) if summary.match.failed_rules else ''}); "
                "check the NINO, name and date of birth",
            ),
            reason=code,
        )
    if benefits is None:
        benefits = benefits_of(
            case.paying_parent.identity.nino, downstream=downstream, case_id=case_id
        )
    return rules.Income(summary, benefits)


# The RTI window hmrc-gateway uses when none is given: the 13 weeks up to today.
RTI_DAYS_ASKED = 91


def rti_current_income(case: pb.Case, *, downstream: Downstream, on: dt.date) -> int | None:
    """The paying parent's current income from HMRC RTI (the 13 weeks to today), in pence a week, or None when RTI
    shows no current pay or does not match them."""
    answer = call(
        downstream.hmrc.GetRtiCurrentIncome,
        hmrc_api.GetRtiCurrentIncomeRequest(
            person=case.paying_parent.identity,
            context=hmrc_pb.EnquiryContext(case_id=case.name.removeprefix("cases/")),
        ),
        what="hmrc-gateway",
    )
    if answer.match.outcome != common.MATCH_OUTCOME_MATCHED:
        return None
    return rules.rti_weekly_income(list(answer.employments), on=on, days_asked=RTI_DAYS_ASKED)


def request_calculation(
    *,
    downstream: Downstream,
    case: pb.Case,
    calc_input: calc_pb.CalculationInput,
    reason: int,
    request_id: str,
) -> calc_pb.Calculation:
    return call(
        downstream.calculation.CreateCalculation,
        calc_api.CreateCalculationRequest(
            request_id=derived_id(case.name, request_id, "calculation"),
            case_reference=case.name.removeprefix("cases/"),
            input=calc_input,
            reason=rules.reason_for_calculation(reason),
        ),
        what="calculation",
    )


# The income bases on which current income is in place: a later change is measured against it (reg 23(4) of
# SI 2012/2677).
IN_PLACE = frozenset({"CURRENT_DIFFERS_FROM_HISTORIC", "CURRENT_IN_PLACE"})


def calculation_on(
    *,
    case: pb.Case,
    payer: pb.Client,
    covered: list[pb.Case],
    income: rules.Income,
    on: dt.date,
    in_place: bool,
    reason: int,
    request_id: str,
    downstream: Downstream,
) -> calc_pb.Calculation:
    """The calculation in force from `on` on the case as it stands (and the paying parent's other live cases,
    `covered`): current income held from a later date is left out (historic income was in use before it), and current
    income already in place (`in_place`) is used as it is, without the historic-income test being run again."""
    calc_input = rules.calculation_input(
        cases=[case, *covered], payer=payer, income=income, effective=on, this_case=case
    )
    held_from = day_of(payer.employment_and_income.current_income_date)
    paying = calc_input.paying_parent_income
    if held_from is not None and held_from > on and not paying.hmrc_income_unavailable:
        # The current income held took effect after `on`: before it, historic income was in use.
        paying.ClearField("current_income")
    elif payer.employment_and_income.current_income_source and in_place:
        # Current income was already in place and a change of 25% or more replaced it (reg 23(4)).
        paying.current_income.in_place = True
    return request_calculation(
        downstream=downstream,
        case=case,
        calc_input=calc_input,
        reason=reason,
        request_id=request_id,
    )
