"""An application to its first calculation: the checks against DWP and HMRC (CIS Verify NINO and benefits, HMRC
Child Benefit for the qualifying and other children, the paying parent's employment status), the interests that
keep the case informed, then the calculation and the payment plan issued the same day.

Each step gathers what it needs from the other services first, outside any transaction, then records the result
in one transaction with its audit entry and the request id's stored response; a failure half-way leaves the case as
it was, and a retry (same request id) repeats the gathering harmlessly (every downstream call is a read or
idempotent on a request id derived from ours)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from cms.calculation.v1 import resources_pb2 as calc_pb
from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import events_pb2 as ev
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms.dwp.v1 import dwp_service_pb2 as dwp_api
from cms.dwp.v1 import resources_pb2 as dwp_pb
from cms.hmrc.v1 import hmrc_service_pb2 as hmrc_api
from cms.hmrc.v1 import resources_pb2 as hmrc_pb
from cms_platform import outbox
from cms_platform.clock import Clock
from cms_platform.convert import day_of, pb_date, years_after
from cms_platform.errors import Conflict, FailedPrecondition, PreconditionViolation
from cms_platform.idempotency import replay, run_idempotent
from cms_platform.identity import Caller

from ..access import service as access
from ..calculations import flows as recording
from ..calculations import rules as calculation_rules
from ..calculations import service as calculations
from ..case_records import service as case_records
from ..case_records.models import CaseRecord
from ..clients import service as clients
from ..default_decisions import rules as default_decision_rules
from ..default_decisions import service as default_decisions
from ..downstream import Downstream, call, call_tolerating
from ..liability import service as liability
from ..names import derived_id
from . import convert

T = TypeVar("T")


class _OtherChild(Protocol):
    @property
    def child_id(self) -> str: ...

    @property
    def child_benefit(self) -> pb.ChildBenefitStatus: ...


@dataclass
class Checks:
    nino_match: common.MatchResult
    employment_status: pb.EmploymentStatus.ValueType
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
    case: pb.Case, *, downstream: Downstream, request_id: str, clock: Clock
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
    )
    status = call(
        downstream.hmrc.GetPayingParentEmploymentStatus,
        hmrc_api.GetPayingParentEmploymentStatusRequest(
            person=payer.identity, context=hmrc_pb.EnquiryContext(case_id=case_id)
        ),
        what="hmrc-gateway",
    )
    # HMRC's employment statuses are the contract's own, value for value.
    checks = Checks(
        nino_match=verified.match,
        employment_status=pb.EmploymentStatus.ValueType(status.employment_status),
    )
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
            qualifying_children=[convert.child_identity(c) for c in live_qcs],
        ),
        what="hmrc-gateway",
    )
    for child, answer in zip(live_qcs, chb.children, strict=False):
        checks.qualifying[child.child_id] = convert.benefit_status(answer, now)
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
        found_others = call(
            downstream.hmrc.VerifyChildBenefitInPaymentForOtherChildren,
            hmrc_api.VerifyChildBenefitInPaymentForOtherChildrenRequest(
                claimant=payer.identity,
                context=hmrc_pb.EnquiryContext(case_id=case_id),
                children=[
                    hmrc_api.OtherChild(child=convert.child_identity(c), category=k)
                    for c, k in others
                ],
            ),
            what="hmrc-gateway",
        )
        for (other, _), answered in zip(others, found_others.children, strict=False):
            checks.others[other.child_id] = convert.benefit_status(answered, now)
    if verified.match.outcome == common.MATCH_OUTCOME_MATCHED:
        checks.benefits = calculations.benefits_of(
            payer.identity.nino, downstream=downstream, case_id=case_id
        )
        checks.cis_interest = _register_cis(downstream, case_id, payer.identity.nino, request_id)
    checks.hmrc_interest = _register_hmrc(downstream, case, request_id)
    return checks


def _register_cis(downstream: Downstream, case_id: str, nino: str, request_id: str) -> bool:
    # ALREADY_EXISTS: registered by an earlier check, which is the goal.
    call_tolerating(
        downstream.dwp.RegisterInterest,
        dwp_api.RegisterInterestRequest(
            request_id=derived_id(case_id, request_id, "cis"),
            nino=nino,
            case_id=case_id,
            role=dwp_pb.CASE_ROLE_PAYING_PARENT,
        ),
        what="dwp-gateway",
        tolerate=("ALREADY_EXISTS",),
    )
    return True


def _register_hmrc(downstream: Downstream, case: pb.Case, request_id: str) -> bool:
    case_id = case.name.removeprefix("cases/")
    registered = True
    for kind in (
        hmrc_pb.INTEREST_TYPE_RTI_CURRENT_INCOME,
        hmrc_pb.INTEREST_TYPE_CHILD_BENEFIT_END_DATE,
    ):
        answer = call_tolerating(
            downstream.hmrc.RegisterInterest,
            hmrc_api.RegisterInterestRequest(
                request_id=derived_id(case_id, request_id, str(kind)),
                person=case.paying_parent.identity
                if kind == hmrc_pb.INTEREST_TYPE_RTI_CURRENT_INCOME
                else case.receiving_parent.identity,
                case_id=case_id,
                interest_type=kind,
            ),
            what="hmrc-gateway",
            tolerate=("ALREADY_EXISTS",),
        )
        registered &= answer is None or answer.match.outcome == common.MATCH_OUTCOME_MATCHED
    return registered


def record_checks(db: Session, *, row: CaseRecord, checks: Checks, clock: Clock) -> pb.Case:
    case = case_records.assemble(db, row)
    case_records.ensure_open(case)
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
    other_children: list[_OtherChild] = [
        *case.relevant_other_children,
        *case.children_in_family_based_arrangements,
    ]
    for other in other_children:
        if other.child_id in checks.others:
            other.child_benefit.CopyFrom(checks.others[other.child_id])
    payer_row = clients.client_row(db, row.paying_parent_client_id, lock=True)
    payer = clients.document(payer_row)
    # DWP's awards replace the copy earlier checks took; the starts and stops casework verified stay (a paying parent
    # applied for again by another receiving parent keeps them: changes-of-circumstances.md §11.16).
    verified = [a for a in payer.benefits if a.verified_change]
    del payer.benefits[:]
    payer.benefits.extend([*checks.benefits, *verified])
    payer.employment_and_income.employment_status = checks.employment_status
    payer.employment_and_income.update_time.FromDatetime(now)
    clients.save(payer_row, payer, clock)
    if case.state == pb.CASE_STATE_APPLICATION and not checks.outstanding:
        today = clock.today()
        case.state = pb.CASE_STATE_INITIAL_CALCULATION
        # Reg 12: liability starts on the date the paying parent is notified, which the checks' completion triggers.
        case.initial_effective_date.CopyFrom(pb_date(today))
        case.annual_review_date.CopyFrom(pb_date(years_after(today, 1)))
        outbox.publish(
            db,
            clock=clock,
            key=case.name,
            subject=case.name,
            message=ev.ApplicationVerified(
                case_id=row.id,
                paying_parent_nino=row.paying_parent_nino,
                initial_effective_date=case.initial_effective_date,
                annual_review_date=case.annual_review_date,
                paying_parent_employment_status=checks.employment_status,
                cis_interest_registered=checks.cis_interest,
                hmrc_interest_registered=checks.hmrc_interest,
            ),
        )
    case_records.save(row, case, clock)
    return case_records.assemble(db, row)


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
    calculation: (
        calc_pb.Calculation | None
    )  # None: no income to calculate on, the paying parent is asked
    reason: pb.CalculationReason.ValueType
    rti_weekly_pence: int | None = None
    # A recalculation of a calculated case: the segments in force after its date, calculated again from their own
    # starts (calculations.flows.gather_later), and the case's version they were read at.
    later: list[recording.Later] = field(default_factory=list)
    version: int | None = None


def gather_for_calculation(
    case: pb.Case,
    *,
    request: api.CalculateCaseRequest,
    checks: Checks | None,
    covered: list[pb.Case],
    downstream: Downstream,
    clock: Clock,
    in_force: list[liability.Start] | None = None,
    version: int | None = None,
) -> Gathered:
    """The calculation the request asks for, on this case and the paying parent's other live ones (`covered`). On a
    case already calculated, the segments in force after the calculation's date (`in_force`, read at the case's
    `version`) are calculated again from their own starts, as applying changes does."""
    case_records.ensure_open(case, "a closed case cannot be calculated")
    first = not case.HasField("first_calculation_time")
    reason = request.reason or (
        pb.CALCULATION_REASON_INITIAL if first else pb.CALCULATION_REASON_CASEWORKER_REQUEST
    )
    effective = (
        day_of(request.effective_date)
        or (day_of(case.initial_effective_date) if first else None)
        or clock.today()
    )
    # The checks just run fetched the benefits; asking CIS again in the same step would add nothing.
    income = calculations.gather_income(
        case,
        downstream=downstream,
        benefits=checks.benefits if checks is not None else None,
    )
    if first and not case.paying_parent.employment_and_income.current_income_source:
        # At application the CMS compares RTI current income with the HMRC historic figure (reg 34).
        income.rti_weekly_pence = calculations.rti_current_income(
            case, downstream=downstream, on=effective
        )
        if default_decision_rules.needs_current_income(
            hmrc_income_held=income.hmrc.income_data_held,
            current_income_held=income.rti_weekly_pence is not None,
        ):
            # No income to calculate on: the paying parent is asked for it (the case waits; a default
            # maintenance decision follows if nothing comes in the time allowed).
            return Gathered(checks, None, reason)
    calc_input = calculation_rules.calculation_input(
        cases=[case, *covered],
        payer=case.paying_parent,
        income=income,
        effective=effective,
        this_case=case,
    )
    calculation = calculations.request_calculation(
        downstream=downstream,
        case=case,
        calc_input=calc_input,
        reason=reason,
        request_id=request.request_id,
    )
    later: list[recording.Later] = []
    if not first and in_force:
        later = recording.gather_later(
            case=case,
            covered=covered,
            income=income,
            after=effective,
            in_force=in_force,
            request_id=request.request_id,
            downstream=downstream,
        )
    return Gathered(
        checks,
        calculation,
        reason,
        income.rti_weekly_pence,
        later,
        None if first else version,
    )


def record_requested_calculation(
    db: Session, *, row: CaseRecord, gathered: Gathered, clock: Clock
) -> pb.Case:
    if gathered.checks is not None:
        record_checks(db, row=row, checks=gathered.checks, clock=clock)
    if gathered.calculation is None:
        default_decisions.ask(db, row=row, case=case_records.assemble(db, row), clock=clock)
        return case_records.assemble(db, row)
    if gathered.rti_weekly_pence is not None and gathered.calculation.income.basis in (
        calc_pb.INCOME_BASIS_CURRENT_DIFFERS_FROM_HISTORIC,
        calc_pb.INCOME_BASIS_CURRENT_HISTORIC_UNAVAILABLE,
    ):
        # The decision rests on RTI current income: the paying parent's record holds it, so later decisions start
        # from it (and a later change is measured against it).
        payer_row = clients.client_row(db, row.paying_parent_client_id, lock=True)
        payer = clients.document(payer_row)
        held = payer.employment_and_income
        held.current_gross_weekly_income_pence = gathered.rti_weekly_pence
        held.current_income_source = pb.INCOME_SOURCE_RTI
        held.current_income_date.CopyFrom(gathered.calculation.effective_date)
        held.update_time.FromDatetime(clock.now())
        clients.save(payer_row, payer, clock)
    if gathered.version is not None and row.version != gathered.version:
        # The segments in force were read before the case changed: recalculating on them could lose a later one.
        raise Conflict("the case changed while it was being calculated; calculate again")
    case, _ = recording.record_with_later(
        db,
        row=row,
        calculation=gathered.calculation,
        reason=gathered.reason,
        later=gathered.later,
        clock=clock,
    )
    return case


# -- the two RPCs: gather outside any transaction, then record in one --------------------------------------------


def _gather_then_record(
    *,
    sessions: sessionmaker,
    request: api.VerifyApplicationRequest | api.CalculateCaseRequest,
    caller: Caller,
    clock: Clock,
    gather: Callable[[pb.Case, list[pb.Case]], T],
    record: Callable[[Session, CaseRecord, T], pb.Case],
) -> pb.Case:
    """Replay, read the case (and the paying parent's other live cases), gather from other services (no
    transaction), record (one transaction, with the audit entry and the stored response)."""
    with sessions() as s:
        previous = replay(s, request=request, response_type=pb.Case)
        if previous is not None:
            return previous
        row = case_records.visible_case(s, name=request.name, caller=caller)
        case = case_records.assemble(s, row)
        covered = [case_records.assemble(s, r) for r in calculations.live_cases_of(s, row)[1:]]
    gathered = gather(case, covered)

    def execute(s: Session) -> pb.Case:
        row = case_records.case_row(s, case.name.removeprefix("cases/"), lock=True)
        out = record(s, row, gathered)
        access.audit(s, clock=clock, caller=caller, case_id=row.id, resource=request.name)
        return out

    return run_idempotent(
        sessions,
        request=request,
        response_type=pb.Case,
        clock=clock,
        execute=execute,
    )


def verify(
    *,
    sessions: sessionmaker,
    request: api.VerifyApplicationRequest,
    caller: Caller,
    clock: Clock,
    downstream: Downstream,
) -> pb.Case:
    """VerifyApplication: the checks, recorded on the case (which moves to initial calculation when all pass)."""
    return _gather_then_record(
        sessions=sessions,
        request=request,
        caller=caller,
        clock=clock,
        gather=lambda case, _: gather_checks(
            case, downstream=downstream, request_id=request.request_id, clock=clock
        ),
        record=lambda s, row, checks: record_checks(s, row=row, checks=checks, clock=clock),
    )


def calculate(
    *,
    sessions: sessionmaker,
    request: api.CalculateCaseRequest,
    caller: Caller,
    clock: Clock,
    downstream: Downstream,
) -> pb.Case:
    """CalculateCase: an application's checks first (recorded and refused if any fails: the calculation needs them
    all), then the calculation and, when the liability moved, the payment plan."""

    def gather(case: pb.Case, covered: list[pb.Case]) -> Gathered:
        checks = None
        if case.state == pb.CASE_STATE_APPLICATION:
            checks = gather_checks(
                case, downstream=downstream, request_id=request.request_id, clock=clock
            )
            if checks.outstanding:
                # Recorded on the case for the caseworker, then refused.
                with sessions.begin() as s:
                    record_checks(
                        s,
                        row=case_records.case_row(s, case.name.removeprefix("cases/"), lock=True),
                        checks=checks,
                        clock=clock,
                    )
                raise checks_failed(case.name, checks)
        in_force, version = None, None
        if case.HasField("first_calculation_time"):
            with sessions() as s:
                row = case_records.case_row(s, case.name.removeprefix("cases/"))
                in_force, version = liability.current_starts(s, case_id=row.id), row.version
        return gather_for_calculation(
            case,
            request=request,
            checks=checks,
            covered=covered,
            downstream=downstream,
            clock=clock,
            in_force=in_force,
            version=version,
        )

    return _gather_then_record(
        sessions=sessions,
        request=request,
        caller=caller,
        clock=clock,
        gather=gather,
        record=lambda s, row, gathered: record_requested_calculation(
            s, row=row, gathered=gathered, clock=clock
        ),
    )
