"""Methods of payment that call other services, always outside a transaction: a deduction order gathers the
employer from HMRC and the liability from the calculation service first, then records (one transaction with the
request id's stored response); instructions to dwp-gateway are recorded where they are decided and sent here,
afterwards, each under a request id derived from its own, until dwp-gateway has answered."""

from __future__ import annotations

import structlog
from sqlalchemy.orm import sessionmaker

from cms.calculation.v1 import calculation_service_pb2 as calc_api
from cms.calculation.v1 import resources_pb2 as calc_pb
from cms.casework.v1 import methods_of_payment_pb2 as mop
from cms.casework.v1 import methods_of_payment_service_pb2 as mop_api
from cms.common.v1 import types_pb2 as common
from cms.dwp.v1 import dwp_service_pb2 as dwp_api
from cms.dwp.v1 import resources_pb2 as dwp_pb
from cms.hmrc.v1 import hmrc_service_pb2 as hmrc_api
from cms.hmrc.v1 import resources_pb2 as hmrc_pb
from cms_platform import calls
from cms_platform.clock import Clock
from cms_platform.errors import FailedPrecondition, PreconditionViolation, Unavailable
from cms_platform.idempotency import replay, run_idempotent
from cms_platform.identity import Caller, bind_caller, reset_caller
from cms_platform.scheduling import PeriodicJob

from ..calculations import rules as calculation_rules
from ..downstream import Downstream, call, call_tolerating
from ..names import derived_id
from . import service

log = structlog.get_logger(__name__)

JOB = "casework-benefit-instructions"
# HMRC's pay frequencies a deduction order can follow (the others need the caller's pay_frequency).
_PAY_FREQUENCY = {
    hmrc_pb.PAY_FREQUENCY_WEEKLY: common.PAYMENT_FREQUENCY_WEEKLY,
    hmrc_pb.PAY_FREQUENCY_FORTNIGHTLY: common.PAYMENT_FREQUENCY_FORTNIGHTLY,
    hmrc_pb.PAY_FREQUENCY_FOUR_WEEKLY: common.PAYMENT_FREQUENCY_FOUR_WEEKLY,
    hmrc_pb.PAY_FREQUENCY_MONTHLY: common.PAYMENT_FREQUENCY_MONTHLY,
}
_HMRC_KIND = {
    mop.DEDUCTION_ORDER_KIND_ORDER: hmrc_pb.DEDUCTION_FROM_EARNINGS_TYPE_ORDER,
    mop.DEDUCTION_ORDER_KIND_REQUEST: hmrc_pb.DEDUCTION_FROM_EARNINGS_TYPE_REQUEST,
}


def _employment(employments: list[hmrc_pb.Employment], kind: int) -> hmrc_pb.Employment | None:
    """The live employment the order is served on: the armed forces' for a DER, a civilian employer's for a DEO
    (not a pension, not potentially ceased), the first HMRC lists."""
    for employment in employments:
        if (
            employment.end_date.year
            or employment.occupational_pension
            or employment.potentially_ceased
        ):
            continue
        if employment.employer.armed_forces == (kind == mop.DEDUCTION_ORDER_KIND_REQUEST):
            return employment
    return None


def make_order(
    *,
    sessions: sessionmaker,
    request: mop_api.MakeDeductionOrderRequest,
    caller: Caller,
    clock: Clock,
    downstream: Downstream,
) -> mop.DeductionOrder:
    """MakeDeductionOrder: checks, then HMRC's employment details and the liability's weekly amounts (outside any
    transaction), HMRC's deduction-from-earnings interest (idempotent on a request id derived from ours), then the
    order recorded as the method of payment."""
    with sessions() as s:
        previous = replay(s, request=request, response_type=mop.DeductionOrder)
        if previous is not None:
            return previous
    with sessions.begin() as s:
        _, case = service.check_order_request(s, request=request, caller=caller)
    case_id = case.name.removeprefix("cases/")
    calculation = call(
        downstream.calculation.GetCalculation,
        calc_api.GetCalculationRequest(
            name=case.latest_calculation.calculation, view=calc_pb.CALCULATION_VIEW_BASIC
        ),
        what="calculation",
    )
    share = calculation_rules.share_of(calculation, case.name)
    details = call(
        downstream.hmrc.GetEmploymentDetailsForDeductionFromEarnings,
        hmrc_api.GetEmploymentDetailsForDeductionFromEarningsRequest(
            person=case.paying_parent.identity,
            context=hmrc_pb.EnquiryContext(case_id=case_id),
            deduction_type=_HMRC_KIND[request.kind],
        ),
        what="hmrc-gateway",
    )
    employment = _employment(list(details.employments), request.kind)
    if employment is None:
        raise FailedPrecondition(
            PreconditionViolation(
                "NO_LIVE_EMPLOYMENT",
                case.name,
                "HMRC shows no live "
                + ("armed forces " if request.kind == mop.DEDUCTION_ORDER_KIND_REQUEST else "")
                + "employment to serve the order on",
            ),
            reason="NO_LIVE_EMPLOYMENT",
        )
    frequency = request.pay_frequency or _PAY_FREQUENCY.get(employment.pay_frequency)
    if not frequency:
        raise FailedPrecondition(
            PreconditionViolation(
                "PAY_FREQUENCY_NEEDED",
                "pay_frequency",
                "HMRC's pay frequency is not weekly to monthly: give the employee's pay_frequency",
            ),
            reason="PAY_FREQUENCY_NEEDED",
        )
    call_tolerating(
        downstream.hmrc.RegisterInterest,
        hmrc_api.RegisterInterestRequest(
            request_id=derived_id(request.request_id, "deduction-from-earnings-interest"),
            person=case.paying_parent.identity,
            case_id=case_id,
            interest_type=hmrc_pb.INTEREST_TYPE_DEDUCTION_FROM_EARNINGS,
            deduction_from_earnings=hmrc_pb.DeductionFromEarningsParameters(
                deduction_type=_HMRC_KIND[request.kind]
            ),
        ),
        what="hmrc-gateway",
        tolerate=("ALREADY_EXISTS",),  # the case's interest, registered by an earlier order
    )
    employer = mop.DeductionOrderEmployer(
        name=employment.employer.name,
        paye_reference=employment.employer.paye_reference,
        payroll_id=employment.payroll_id,
        employment_id=employment.employment_id,
    )
    return run_idempotent(
        sessions,
        request=request,
        response_type=mop.DeductionOrder,
        clock=clock,
        execute=lambda s: service.make_order(
            s,
            request=request,
            employer=employer,
            pay_frequency=frequency,
            weekly_maintenance_pence=share.weekly_amount_pence,
            weekly_paying_parent_fee_pence=share.paying_parent_fee_weekly_pence,
            caller=caller,
            clock=clock,
        ),
    )


# -- instructions to dwp-gateway -----------------------------------------------------------------------------------


def send_instructions(*, sessions: sessionmaker, clock: Clock, downstream: Downstream) -> int:
    """Send every pending instruction to dwp-gateway, oldest first; a transient failure leaves it for the next pass,
    a refusal is recorded. Returns how many were answered."""
    with sessions() as s:
        pending = service.pending_instructions(s)
    done = 0
    token = bind_caller(service.METHODS_OF_PAYMENT)
    try:
        with calls.serving(JOB):
            for instruction_id in pending:
                with sessions() as s:
                    found = service.instruction(s, instruction_id)
                if found is None:
                    continue
                kind, payload = found
                try:
                    if _change_must_wait(downstream, kind, payload):
                        continue  # sent on a later pass, once dwp-gateway has the decision
                    answer = _send(downstream, kind, payload)
                except Unavailable:
                    with sessions.begin() as s:
                        service.instruction_failed(s, instruction_id=instruction_id)
                    log.warning("dwp-gateway instruction not sent yet", instruction=instruction_id)
                    continue
                except FailedPrecondition as refused:
                    with sessions.begin() as s:
                        service.instruction_done(
                            s,
                            instruction_id=instruction_id,
                            answer=None,
                            refusal=refused.message,
                            clock=clock,
                        )
                    done += 1
                    continue
                with sessions.begin() as s:
                    service.instruction_done(
                        s, instruction_id=instruction_id, answer=answer, refusal="", clock=clock
                    )
                done += 1
    finally:
        reset_caller(token)
    return done


def _change_must_wait(downstream: Downstream, kind: str, payload: bytes) -> bool:
    """dwp-gateway takes one change to a deduction at a time and refuses another while the last still waits for its
    decision (JCP's batch or the benefit office's form): a later change of liability waits for that decision rather
    than being refused and lost, leaving the deduction on the earlier terms."""
    if kind not in ("CHANGE_AMOUNT", "CHANGE_TYPE"):
        return False
    request_type = (
        dwp_api.ChangeDeductionAmountRequest
        if kind == "CHANGE_AMOUNT"
        else dwp_api.ChangeDeductionTypeRequest
    )
    held = call(
        downstream.dwp.GetDeduction,
        dwp_api.GetDeductionRequest(deduction_id=request_type.FromString(payload).deduction_id),
        what="dwp-gateway",
    )
    return held.state == dwp_pb.DEDUCTION_STATE_ACTIVE and held.HasField("pending_instruction")


def _send(downstream: Downstream, kind: str, payload: bytes) -> dwp_pb.Deduction:
    dwp = downstream.dwp
    match kind:
        case "SET_UP":
            return call(
                dwp.SetUpDeduction,
                dwp_api.SetUpDeductionRequest.FromString(payload),
                what="dwp-gateway",
            )
        case "CHANGE_AMOUNT":
            return call(
                dwp.ChangeDeductionAmount,
                dwp_api.ChangeDeductionAmountRequest.FromString(payload),
                what="dwp-gateway",
            )
        case "CHANGE_TYPE":
            return call(
                dwp.ChangeDeductionType,
                dwp_api.ChangeDeductionTypeRequest.FromString(payload),
                what="dwp-gateway",
            )
        case _:
            return call(
                dwp.CancelDeduction,
                dwp_api.CancelDeductionRequest.FromString(payload),
                what="dwp-gateway",
            )


def sender(
    *, sessions: sessionmaker, clock: Clock, downstream: Downstream, interval_seconds: float
) -> PeriodicJob:
    """The instructions pass as a background job: woken when an instruction is recorded, and ticking as the safety
    net (a wake lost in a crash, a gateway that was down)."""
    return PeriodicJob(
        JOB,
        interval_seconds,
        lambda: send_instructions(sessions=sessions, clock=clock, downstream=downstream),
    )
