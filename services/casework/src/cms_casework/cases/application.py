"""The application flow: checks against DWP and HMRC, the interests that keep the case informed, the calculation,
and the payment plan issued the same day.

Each step gathers what it needs from the other services first, outside any transaction, then records the result
in one transaction; a failure half-way leaves the case as it was, and a retry (same request id) repeats the
gathering harmlessly (every downstream call is a read or idempotent on a request id derived from ours)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

import grpc
from prometheus_client import Histogram
from sqlalchemy import select
from sqlalchemy.orm import Session

from cms.calculation.v1 import calculation_service_pb2 as calc_api
from cms.calculation.v1 import resources_pb2 as calc_pb
from cms.casework.v1 import events_pb2 as ev
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms.dwp.v1 import dwp_service_pb2 as dwp_api
from cms.dwp.v1 import resources_pb2 as dwp_pb
from cms.hmrc.v1 import hmrc_service_pb2 as hmrc_api
from cms.hmrc.v1 import resources_pb2 as hmrc_pb
from cms_platform.clock import Clock
from cms_platform.convert import years_after
from cms_platform.errors import FailedPrecondition, PreconditionViolation

from .. import correspondence, store
from ..downstream import Downstream, call
from ..models import CaseRecord, PaymentPlanRecord
from ..payment_plans import schedule

# The CMS target: 80% of applications reach their first calculation within six weeks.
APPLICATION_TO_FIRST_CALCULATION = Histogram(
    "cms_casework_application_to_first_calculation_days",
    "Days from application to the first calculation",
    buckets=(1, 7, 14, 21, 28, 35, 42, 56, 84, 182),
)
SIX_WEEKS = dt.timedelta(weeks=6)

# Downstream request ids are derived from ours, so a retried step is a retried downstream call.
_NAMESPACE = uuid.UUID("5b0f8d8e-3a53-4b8e-9a57-1d1f7c0f2a10")
LIVE_STATES = ("CASE_STATE_INITIAL_CALCULATION", "CASE_STATE_LIVE")

# DWP benefit types as the calculation names them (the rest are not benefits the calculation looks at).
_BENEFIT = {
    "STATE_PENSION": "STATE_PENSION",
    "INCAPACITY_BENEFIT": "INCAPACITY_BENEFIT",
    "CARERS_ALLOWANCE": "CARERS_ALLOWANCE",
    "MATERNITY_ALLOWANCE": "MATERNITY_ALLOWANCE",
    "SEVERE_DISABLEMENT_ALLOWANCE": "SEVERE_DISABLEMENT_ALLOWANCE",
    "INDUSTRIAL_INJURIES_DISABLEMENT_BENEFIT": "INDUSTRIAL_INJURIES_BENEFIT",
    "WIDOWED_PARENTS_ALLOWANCE": "WIDOWED_PARENTS_ALLOWANCE",
    "WIDOWS_PENSION": "WIDOWS_PENSION",
    "BEREAVEMENT_ALLOWANCE": "BEREAVEMENT_ALLOWANCE",
    "JOBSEEKERS_ALLOWANCE_CONTRIBUTION_BASED": "JOBSEEKERS_ALLOWANCE_CONTRIBUTION_BASED",
    "EMPLOYMENT_AND_SUPPORT_ALLOWANCE_CONTRIBUTORY": "EMPLOYMENT_AND_SUPPORT_ALLOWANCE_CONTRIBUTORY",
    "TRAINING_ALLOWANCE": "TRAINING_ALLOWANCE",
    "WAR_DISABLEMENT_PENSION": "WAR_DISABLEMENT_PENSION",
    "WAR_WIDOWS_PENSION": "WAR_WIDOWS_PENSION",
    "ARMED_FORCES_COMPENSATION_SCHEME": "ARMED_FORCES_COMPENSATION_SCHEME",
    "INCOME_SUPPORT": "INCOME_SUPPORT",
    "JOBSEEKERS_ALLOWANCE_INCOME_BASED": "JOBSEEKERS_ALLOWANCE_INCOME_BASED",
    "EMPLOYMENT_AND_SUPPORT_ALLOWANCE_INCOME_RELATED": "EMPLOYMENT_AND_SUPPORT_ALLOWANCE_INCOME_RELATED",
    "PENSION_CREDIT": "STATE_PENSION_CREDIT",
    "UNIVERSAL_CREDIT": "UNIVERSAL_CREDIT_NO_EARNED_INCOME",
}


_CALCULATION_REASON = {
    pb.CALCULATION_REASON_INITIAL: calc_pb.CALCULATION_REASON_INITIAL,
    pb.CALCULATION_REASON_ANNUAL_REVIEW: calc_pb.CALCULATION_REASON_ANNUAL_REVIEW,
}


def derived_id(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def _precondition(code: str, subject: str, description: str) -> FailedPrecondition:
    return FailedPrecondition(PreconditionViolation(code, subject, description), reason=code)


def child_identity(child) -> hmrc_pb.ChildIdentity:
    return hmrc_pb.ChildIdentity(
        name=child.name,
        date_of_birth=child.date_of_birth,
        child_reference_number=child.child_reference_number,
    )


def _benefit_status(
    status: hmrc_pb.ChildBenefitChildStatus, now: dt.datetime
) -> pb.ChildBenefitStatus:
    out = pb.ChildBenefitStatus(
        entitled=status.entitled, in_payment=status.in_payment, end_date=status.end_date
    )
    out.check_time.FromDatetime(now)
    return out


# -- the application checks ----------------------------------------------------------------------------------------


@dataclass
class Checks:
    nino_match: common.MatchResult
    employment_status: int
    qualifying: dict[str, pb.ChildBenefitStatus] = field(default_factory=dict)
    others: dict[str, pb.ChildBenefitStatus] = field(default_factory=dict)
    benefits: list[pb.BenefitAward] = field(default_factory=list)
    cis_interest: bool = False
    hmrc_interest: bool = False
    outstanding: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(
        default_factory=dict
    )  # why each outstanding check failed, for the caseworker


def gather_checks(
    case: pb.Case, *, downstream: Downstream, request_id: str, clock: Clock, context=None
) -> Checks:
    """CIS Verify NINO and benefits; HMRC Verify Receiving Parent Receiving CHB, Verify CHB In Payment For ROC/CIFBA,
    Paying Parent Employment Status; and the CIS and HMRC interests."""
    case_id = case.name.removeprefix("cases/")
    payer, receiver = case.paying_parent, case.receiving_parent
    now = clock.now()
    verified = call(
        downstream.dwp.VerifyNino,
        dwp_api.VerifyNinoRequest(
            person=payer.identity,
            postcode=payer.address.postcode,
            context=dwp_pb.EnquiryContext(case_id=case_id),
        ),
        what="dwp-gateway",
        context=context,
    )
    status = call(
        downstream.hmrc.GetPayingParentEmploymentStatus,
        hmrc_api.GetPayingParentEmploymentStatusRequest(
            person=payer.identity, context=hmrc_pb.EnquiryContext(case_id=case_id)
        ),
        what="hmrc-gateway",
        context=context,
    )
    checks = Checks(nino_match=verified.match, employment_status=status.employment_status)
    if verified.match.outcome != common.MATCH_OUTCOME_MATCHED:
        checks.outstanding.append("paying_parent.identity")
        checks.reasons["paying_parent.identity"] = (
            f"CIS did not verify the paying parent's NINO ({common.MatchOutcome.Name(verified.match.outcome)}"
            f"{': ' + ', '.join(verified.match.failed_rules) if verified.match.failed_rules else ''}); "
            "check the NINO, name and date of birth"
        )
    live_qcs = [c for c in case.qualifying_children if not c.end_date.year]
    chb = call(
        downstream.hmrc.VerifyReceivingParentReceivingChildBenefit,
        hmrc_api.VerifyReceivingParentReceivingChildBenefitRequest(
            receiving_parent=receiver.identity,
            context=hmrc_pb.EnquiryContext(case_id=case_id),
            qualifying_children=[child_identity(c) for c in live_qcs],
        ),
        what="hmrc-gateway",
        context=context,
    )
    for child, answer in zip(live_qcs, chb.children, strict=False):
        checks.qualifying[child.child_id] = _benefit_status(answer, now)
    for i, child in enumerate(case.qualifying_children):
        found = checks.qualifying.get(child.child_id)
        if not child.end_date.year and (found is None or not found.entitled):
            checks.outstanding.append(f"qualifying_children[{i}].child_benefit")
            checks.reasons[f"qualifying_children[{i}].child_benefit"] = (
                "HMRC does not show the receiving parent entitled to Child Benefit for this child"
            )
    others = [
        (c, hmrc_api.OTHER_CHILD_CATEGORY_RELEVANT_OTHER_CHILD)
        for c in case.relevant_other_children
        if not c.end_date.year
    ] + [
        (c, hmrc_api.OTHER_CHILD_CATEGORY_FAMILY_BASED_ARRANGEMENT)
        for c in case.children_in_family_based_arrangements
        if not c.end_date.year
    ]
    if others:
        answer = call(
            downstream.hmrc.VerifyChildBenefitInPaymentForOtherChildren,
            hmrc_api.VerifyChildBenefitInPaymentForOtherChildrenRequest(
                claimant=payer.identity,
                context=hmrc_pb.EnquiryContext(case_id=case_id),
                children=[
                    hmrc_api.OtherChild(child=child_identity(c), category=k) for c, k in others
                ],
            ),
            what="hmrc-gateway",
            context=context,
        )
        for (child, _), found in zip(others, answer.children, strict=False):
            checks.others[child.child_id] = _benefit_status(found, now)
    if verified.match.outcome == common.MATCH_OUTCOME_MATCHED:
        checks.benefits = benefits_of(
            payer.identity.nino, downstream=downstream, case_id=case_id, context=context
        )
        checks.cis_interest = _register_cis(
            downstream, case_id, payer.identity.nino, request_id, context
        )
    checks.hmrc_interest = _register_hmrc(downstream, case, request_id, context)
    return checks


def benefits_of(
    nino: str, *, downstream: Downstream, case_id: str, context=None
) -> list[pb.BenefitAward]:
    answer = call(
        downstream.dwp.ListBenefitAwards,
        dwp_api.ListBenefitAwardsRequest(
            nino=nino, context=dwp_pb.EnquiryContext(case_id=case_id), page_size=100
        ),
        what="dwp-gateway",
        context=context,
    )
    out = []
    for award in answer.benefit_awards:
        if award.status == dwp_pb.BENEFIT_AWARD_STATUS_ENDED:
            continue
        out.append(
            pb.BenefitAward(
                benefit=dwp_pb.BenefitType.Name(award.benefit_type).removeprefix("BENEFIT_TYPE_"),
                partner_award=award.role == dwp_pb.CLAIMANT_ROLE_PARTNER,
                period=common.DateRange(start_date=award.start_date, end_date=award.end_date),
            )
        )
    return out


def _register_cis(
    downstream: Downstream, case_id: str, nino: str, request_id: str, context
) -> bool:
    # ALREADY_EXISTS: registered by an earlier check, which is the goal.
    call(
        downstream.dwp.RegisterInterest,
        dwp_api.RegisterInterestRequest(
            request_id=derived_id(case_id, request_id, "cis"),
            nino=nino,
            case_id=case_id,
            role=dwp_pb.CASE_ROLE_PAYING_PARENT,
        ),
        what="dwp-gateway",
        context=context,
        tolerate=(grpc.StatusCode.ALREADY_EXISTS,),
    )
    return True


def _register_hmrc(downstream: Downstream, case: pb.Case, request_id: str, context) -> bool:
    case_id = case.name.removeprefix("cases/")
    registered = True
    for kind, params in (
        (hmrc_pb.INTEREST_TYPE_RTI_CURRENT_INCOME, {}),
        (hmrc_pb.INTEREST_TYPE_CHILD_BENEFIT_END_DATE, {}),
    ):
        answer = call(
            downstream.hmrc.RegisterInterest,
            hmrc_api.RegisterInterestRequest(
                request_id=derived_id(case_id, request_id, str(kind)),
                person=case.paying_parent.identity
                if kind == hmrc_pb.INTEREST_TYPE_RTI_CURRENT_INCOME
                else case.receiving_parent.identity,
                case_id=case_id,
                interest_type=kind,
                **params,
            ),
            what="hmrc-gateway",
            context=context,
            tolerate=(grpc.StatusCode.ALREADY_EXISTS,),
        )
        registered &= answer is None or answer.match.outcome == common.MATCH_OUTCOME_MATCHED
    return registered


def record_checks(db: Session, *, row: CaseRecord, checks: Checks, clock: Clock) -> pb.Case:
    case = store.assemble(db, row)
    if case.state == pb.CASE_STATE_CLOSED:
        raise _precondition("CASE_CLOSED", case.name, "the case is closed")
    now = clock.now()
    case.application_checks.CopyFrom(
        pb.ApplicationChecks(
            paying_parent_nino_verification=checks.nino_match,
            paying_parent_employment_status=checks.employment_status,
            cis_interest_registered=checks.cis_interest,
            hmrc_interest_registered=checks.hmrc_interest,
            outstanding_checks=checks.outstanding,
        )
    )
    case.application_checks.check_time.FromDatetime(now)
    for child in case.qualifying_children:
        if child.child_id in checks.qualifying:
            child.child_benefit.CopyFrom(checks.qualifying[child.child_id])
    for child in (*case.relevant_other_children, *case.children_in_family_based_arrangements):
        if child.child_id in checks.others:
            child.child_benefit.CopyFrom(checks.others[child.child_id])
    payer_row = store.client_row(db, row.paying_parent_client_id, lock=True)
    payer = store.client_document(payer_row)
    del payer.benefits[:]
    payer.benefits.extend(checks.benefits)
    payer.employment_and_income.employment_status = checks.employment_status
    payer.employment_and_income.update_time.FromDatetime(now)
    store.save_client(payer_row, payer, clock)
    if case.state == pb.CASE_STATE_APPLICATION and not checks.outstanding:
        today = clock.today()
        case.state = pb.CASE_STATE_INITIAL_CALCULATION
        # Reg 12: liability starts on the date the paying parent is notified, which the checks' completion triggers.
        case.initial_effective_date.CopyFrom(store.pb_date(today))
        case.annual_review_date.CopyFrom(store.pb_date(years_after(today, 1)))
        store.publish(
            db,
            clock,
            case.name,
            ev.ApplicationVerified(
                case_id=row.id,
                paying_parent_nino=row.paying_parent_nino,
                initial_effective_date=case.initial_effective_date,
                annual_review_date=case.annual_review_date,
                paying_parent_employment_status=checks.employment_status,
                cis_interest_registered=checks.cis_interest,
                hmrc_interest_registered=checks.hmrc_interest,
            ),
        )
    store.save_case(row, case, clock)
    return store.assemble(db, row)


# -- the calculation -----------------------------------------------------------------------------------------------


@dataclass
class Income:
    hmrc: hmrc_api.GetSummaryOfEarnedIncomeResponse
    benefits: list[pb.BenefitAward]


def gather_income(
    case: pb.Case,
    *,
    downstream: Downstream,
    context=None,
    benefits: list[pb.BenefitAward] | None = None,
) -> Income:
    """The HMRC figure and, unless the caller has just fetched them, the paying parent's benefits."""
    case_id = case.name.removeprefix("cases/")
    summary = call(
        downstream.hmrc.GetSummaryOfEarnedIncome,
        hmrc_api.GetSummaryOfEarnedIncomeRequest(
            person=case.paying_parent.identity, context=hmrc_pb.EnquiryContext(case_id=case_id)
        ),
        what="hmrc-gateway",
        context=context,
    )
    if summary.match.outcome != common.MATCH_OUTCOME_MATCHED:
        raise _precondition(
            "PAYING_PARENT_NOT_MATCHED_BY_HMRC",
            "paying_parent.identity",
            f"HMRC did not match the paying parent ({common.MatchOutcome.Name(summary.match.outcome)}"
            f"{': ' + ', '.join(summary.match.failed_rules) if summary.match.failed_rules else ''}); "
            "check the NINO, name and date of birth",
        )
    if benefits is None:
        benefits = benefits_of(
            case.paying_parent.identity.nino,
            downstream=downstream,
            case_id=case_id,
            context=context,
        )
    return Income(summary, benefits)


def _live(child, on: dt.date) -> bool:
    end = store.day_of(child.end_date)
    return end is None or end > on


def calculation_input(
    *,
    cases: list[pb.Case],
    payer: pb.Client,
    income: Income,
    effective: dt.date,
    this_case: pb.Case,
) -> calc_pb.CalculationInput:
    """One calculation covers every live case of the paying parent; each receiving parent is one case."""
    current = payer.employment_and_income
    paying = calc_pb.PayingParentIncome(
        hmrc_gross_annual_income_pence=income.hmrc.gross_income_pence,
        hmrc_tax_year=income.hmrc.tax_year,
        hmrc_income_unavailable=not income.hmrc.income_data_held,
    )
    if current.current_income_source:
        paying.current_income.gross_weekly_income_pence = current.current_gross_weekly_income_pence
    receipts = []
    for award in income.benefits:
        name = _BENEFIT.get(award.benefit)
        start, end = store.day_of(award.period.start_date), store.day_of(award.period.end_date)
        if name and (start is None or start <= effective) and (end is None or end >= effective):
            receipts.append(
                calc_pb.BenefitReceipt(
                    benefit=calc_pb.Benefit.Value(f"BENEFIT_{name}"),
                    recipient=calc_pb.BENEFIT_RECIPIENT_PARTNER
                    if award.partner_award
                    else calc_pb.BENEFIT_RECIPIENT_PAYING_PARENT,
                )
            )
    children = [
        calc_pb.QualifyingChild(
            child_reference=c.child_id,
            receiving_parent_reference=case.name,
            shared_care_nights=c.paying_parent_nights_per_year,
            forename=c.name.forenames,
        )
        for case in cases
        for c in case.qualifying_children
        if _live(c, effective)
    ]
    return calc_pb.CalculationInput(
        effective_date=store.pb_date(effective),
        paying_parent_income=paying,
        benefits=receipts,
        qualifying_children=children,
        relevant_other_child_count=sum(
            1 for c in this_case.relevant_other_children if _live(c, effective)
        ),
        other_arrangement_child_count=sum(
            1 for c in this_case.children_in_family_based_arrangements if _live(c, effective)
        ),
        service_type=calc_pb.SERVICE_TYPE_COLLECT_AND_PAY
        if this_case.service_type == pb.SERVICE_TYPE_COLLECT_AND_PAY
        else calc_pb.SERVICE_TYPE_DIRECT_PAY,
        payment_frequency=this_case.payment_frequency,
        paying_parent_reference=payer.name,
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


def request_calculation(
    *,
    downstream: Downstream,
    case: pb.Case,
    calc_input: calc_pb.CalculationInput,
    reason: int,
    request_id: str,
    context=None,
) -> calc_pb.Calculation:
    return call(
        downstream.calculation.CreateCalculation,
        calc_api.CreateCalculationRequest(
            request_id=derived_id(case.name, request_id, "calculation"),
            case_reference=case.name.removeprefix("cases/"),
            input=calc_input,
            reason=_CALCULATION_REASON.get(
                reason, calc_pb.CALCULATION_REASON_CHANGE_OF_CIRCUMSTANCES
            ),
        ),
        what="calculation",
        context=context,
    )


def _share(calculation: calc_pb.Calculation, case_name: str) -> calc_pb.ReceivingParentAmount:
    return next(
        (
            r
            for r in calculation.receiving_parent_amounts
            if r.receiving_parent_reference == case_name
        ),
        calc_pb.ReceivingParentAmount(receiving_parent_reference=case_name),
    )


def record_calculation(
    db: Session,
    *,
    row: CaseRecord,
    calculation: calc_pb.Calculation,
    reason: int,
    clock: Clock,
    change: str = "",
) -> tuple[pb.Case, str]:
    """Store the calculation on every case it covers and issue each a new payment plan the same day when its
    liability moved (or it had none). Returns this case and its new payment plan's name ("" when none)."""
    this_plan = ""
    covered = {r.receiving_parent_reference for r in calculation.receiving_parent_amounts}
    for case_row in live_cases_of(db, row):
        if f"cases/{case_row.id}" not in covered and case_row.id != row.id:
            continue
        plan = _record_on_case(
            db, row=case_row, calculation=calculation, reason=reason, clock=clock, change=change
        )
        if case_row.id == row.id:
            this_plan = plan
    return store.assemble(db, row), this_plan


def _record_on_case(
    db: Session,
    *,
    row: CaseRecord,
    calculation: calc_pb.Calculation,
    reason: int,
    clock: Clock,
    change: str,
) -> str:
    case = store.assemble(db, row)
    now = clock.now()
    share = _share(calculation, case.name)
    previous = (
        case.latest_calculation.weekly_amount_pence if case.HasField("latest_calculation") else None
    )
    first = not case.HasField("first_calculation_time")
    periodic = next(
        (p for p in share.received_periodic_amounts if p.frequency == case.payment_frequency), None
    )
    latest = pb.LatestCalculation(
        calculation=calculation.name,
        weekly_amount_pence=share.weekly_amount_pence,
        rate=calc_pb.Rate.Name(calculation.rate).removeprefix("RATE_"),
        effective_date=calculation.effective_date,
        gross_weekly_income_pence=calculation.gross_weekly_income_pence,
        income_basis=calc_pb.IncomeBasis.Name(calculation.income.basis).removeprefix(
            "INCOME_BASIS_"
        ),
        reason=reason,
        periodic_amount=periodic,
    )
    latest.calculate_time.FromDatetime(now)
    case.latest_calculation.CopyFrom(latest)
    if first:
        case.first_calculation_time.FromDatetime(now)
        case.state = pb.CASE_STATE_LIVE
        waited = now - row.created_at
        APPLICATION_TO_FIRST_CALCULATION.observe(waited.total_seconds() / 86400)
    store.publish(
        db,
        clock,
        case.name,
        ev.CaseCalculated(
            case_id=row.id,
            calculation=calculation.name,
            weekly_amount_pence=share.weekly_amount_pence,
            rate=latest.rate,
            paying_parent_nino=row.paying_parent_nino,
            effective_date=calculation.effective_date,
            payment_frequency=case.payment_frequency,
            reason=reason,
            previous_weekly_amount_pence=previous or 0,
            gross_weekly_income_pence=calculation.gross_weekly_income_pence,
            income_basis=latest.income_basis,
            qualifying_child_count=sum(
                1 for c in calculation.child_amounts if c.receiving_parent_reference == case.name
            ),
            service_type=case.service_type,
            method_of_payment_from=case.method_of_payment_from,
        ),
    )
    plan_name = ""
    # A new plan when the liability moved, at each annual review, and when the schedule's terms changed (frequency,
    # or the service type and so the fees) though the liability did not.
    if (
        previous is None
        or previous != share.weekly_amount_pence
        or reason == pb.CALCULATION_REASON_ANNUAL_REVIEW
        or (case.payment_frequency, case.service_type) != _plan_terms(db, case.current_payment_plan)
    ):
        plan_name = issue_payment_plan(
            db, row=row, case=case, calculation=calculation, share=share, clock=clock
        )
        case.current_payment_plan = plan_name
        for recipient in (case.paying_parent.name, case.receiving_parent.name):
            notice = correspondence.schedule(
                db,
                case_row=row,
                kind=pb.CORRESPONDENCE_KIND_CALCULATION_NOTICE,
                recipient=recipient,
                clock=clock,
                service_request=change,
            )
            # An earlier notice or plan still waiting for today's dispatch is out of date: this one replaces it.
            correspondence.cancel_redundant(
                db,
                case_id=row.id,
                recipient=recipient,
                superseded_by=notice.name,
                kinds=(
                    pb.CORRESPONDENCE_KIND_CALCULATION_NOTICE,
                    pb.CORRESPONDENCE_KIND_PAYMENT_PLAN,
                ),
                clock=clock,
            )
    store.save_case(row, case, clock)
    return plan_name


def _plan_terms(db: Session, name: str) -> tuple[int, int]:
    """(payment frequency, service type) of a payment plan; (0, 0) when there is none."""
    row = db.get(PaymentPlanRecord, name.rsplit("/", 1)[-1]) if name else None
    plan = pb.PaymentPlan.FromString(row.document) if row else pb.PaymentPlan()
    return plan.payment_frequency, plan.service_type


def issue_payment_plan(
    db: Session,
    *,
    row: CaseRecord,
    case: pb.Case,
    calculation: calc_pb.Calculation,
    share: calc_pb.ReceivingParentAmount,
    clock: Clock,
) -> str:
    """The plan runs from the calculation's effective date (or today, if later: arrears before it are another
    matter) to the day before the next annual review, issued today: the same day as the calculation."""
    start = max(store.day_of(calculation.effective_date), clock.today())
    review = store.day_of(case.annual_review_date)
    plan_start, plan_end = schedule.plan_period(start, review)
    plan = schedule.build_plan(
        weekly_maintenance_pence=share.weekly_amount_pence,
        weekly_paying_parent_fee_pence=share.paying_parent_fee_weekly_pence,
        weekly_receiving_parent_fee_pence=share.receiving_parent_fee_weekly_pence,
        frequency=case.payment_frequency,
        start=plan_start,
        annual_review_date=review,
        service_type=case.service_type,
        method_of_payment_from=case.method_of_payment_from,
        calculation=calculation.name,
    )
    plan_id = store.new_id()
    plan.name = f"cases/{row.id}/paymentPlans/{plan_id}"
    plan.issue_time.FromDatetime(clock.now())
    superseded = ""
    for old in db.scalars(
        select(PaymentPlanRecord).where(
            PaymentPlanRecord.case_id == row.id,
            PaymentPlanRecord.state == "PAYMENT_PLAN_STATE_CURRENT",
        )
    ):
        document = pb.PaymentPlan.FromString(old.document)
        document.state = pb.PAYMENT_PLAN_STATE_SUPERSEDED
        # The old plan still holds what falls due before the new one starts (an annual review's plan starts on the
        # review date, 30 days on): it ends the day before, with those payments.
        kept = [p for p in document.payments if store.day_of(p.due_date) < plan_start]
        del document.payments[:]
        document.payments.extend(kept)
        document.period.end_date.CopyFrom(store.pb_date(plan_start - dt.timedelta(days=1)))
        document.total_due_pence = schedule.total_due(kept)
        old.state, old.document = "PAYMENT_PLAN_STATE_SUPERSEDED", document.SerializeToString()
        superseded = document.name
    db.add(
        PaymentPlanRecord(
            id=plan_id,
            case_id=row.id,
            state="PAYMENT_PLAN_STATE_CURRENT",
            document=plan.SerializeToString(),
            issued_at=clock.now(),
        )
    )
    first = plan.payments[0] if plan.payments else pb.ScheduledPayment()
    store.publish(
        db,
        clock,
        case.name,
        ev.PaymentPlanIssued(
            case_id=row.id,
            payment_plan=plan.name,
            calculation=calculation.name,
            paying_parent_nino=row.paying_parent_nino,
            service_type=case.service_type,
            method_of_payment_from=case.method_of_payment_from,
            payment_frequency=case.payment_frequency,
            weekly_amount_pence=share.weekly_amount_pence,
            period=plan.period,
            first_due_date=first.due_date,
            amount_due_per_period_pence=first.amount_due_pence,
            payment_count=len(plan.payments),
            superseded_payment_plan=superseded,
        ),
    )
    for recipient in (case.paying_parent.name, case.receiving_parent.name):
        correspondence.schedule(
            db,
            case_row=row,
            kind=pb.CORRESPONDENCE_KIND_PAYMENT_PLAN,
            recipient=recipient,
            clock=clock,
        )
    return plan.name


# -- CalculateCase: the request's own calculation ------------------------------------------------------------------


def checks_failed(name: str, checks: Checks) -> FailedPrecondition:
    return FailedPrecondition(
        [
            PreconditionViolation(
                "APPLICATION_CHECK_FAILED",
                path,
                checks.reasons.get(path, f"the application check on {path} did not pass"),
            )
            for path in checks.outstanding
        ],
        reason="APPLICATION_CHECK_FAILED",
    )


@dataclass
class Gathered:
    checks: Checks | None
    calculation: calc_pb.Calculation
    reason: int


def gather_for_calculation(
    case: pb.Case,
    *,
    request,
    checks: Checks | None,
    sessions,
    downstream: Downstream,
    clock: Clock,
    context=None,
) -> Gathered:
    if case.state == pb.CASE_STATE_CLOSED:
        raise _precondition("CASE_CLOSED", case.name, "a closed case cannot be calculated")
    first = not case.HasField("first_calculation_time")
    reason = request.reason or (
        pb.CALCULATION_REASON_INITIAL if first else pb.CALCULATION_REASON_CASEWORKER_REQUEST
    )
    effective = store.day_of(request.effective_date) or (
        store.day_of(case.initial_effective_date)
        if first and case.initial_effective_date.year
        else clock.today()
    )
    # The checks just run fetched the benefits; asking CIS again in the same step would add nothing.
    income = gather_income(
        case,
        downstream=downstream,
        context=context,
        benefits=checks.benefits if checks is not None else None,
    )
    with sessions() as s:
        row = store.case_row(s, case.name.removeprefix("cases/"))
        covered = [store.assemble(s, r) for r in live_cases_of(s, row)[1:]]
    calc_input = calculation_input(
        cases=[case, *covered],
        payer=case.paying_parent,
        income=income,
        effective=effective,
        this_case=case,
    )
    calculation = request_calculation(
        downstream=downstream,
        case=case,
        calc_input=calc_input,
        reason=reason,
        request_id=request.request_id,
        context=context,
    )
    return Gathered(checks, calculation, reason)


def record_requested_calculation(
    db: Session, *, row: CaseRecord, gathered: Gathered, clock: Clock
) -> pb.Case:
    if gathered.checks is not None:
        record_checks(db, row=row, checks=gathered.checks, clock=clock)
    case, _ = record_calculation(
        db, row=row, calculation=gathered.calculation, reason=gathered.reason, clock=clock
    )
    return case
