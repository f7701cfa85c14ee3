"""The MethodsOfPaymentService gRPC API: request-id replay, then the domain call in one transaction, proto in and out
(a deduction order's calls to HMRC and the calculation service happen first, outside it: flows.make_order). Refusals
on a case are audited as CaseworkService's are (the casework servicer's plumbing)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message
from sqlalchemy.orm import Session, sessionmaker

from cms.casework.v1 import methods_of_payment_pb2 as mop
from cms.casework.v1 import methods_of_payment_service_pb2 as mop_api
from cms.casework.v1 import methods_of_payment_service_pb2_grpc as mop_grpc
from cms_platform.clock import Clock
from cms_platform.errors import PermissionDenied
from cms_platform.idempotency import run_idempotent
from cms_platform.identity import Caller, current_caller

from ..access import service as access
from ..downstream import Downstream
from . import flows, service

R = TypeVar("R")
M = TypeVar("M", bound=Message)
Ctx = grpc.ServicerContext


def _case_of(request: Message) -> tuple[str, str]:
    """(case id, resource) a request names."""
    resource = getattr(request, "name", "") or getattr(request, "parent", "")
    parts = resource.split("/") if isinstance(resource, str) else []
    return (parts[1] if len(parts) > 1 and parts[0] == "cases" else ""), resource


class MethodsOfPaymentServicer(mop_grpc.MethodsOfPaymentServiceServicer):
    def __init__(
        self,
        *,
        sessions: sessionmaker,
        clock: Clock,
        downstream: Downstream,
        wake_sender: Callable[[], None] | None = None,
    ):
        self._sessions, self._clock, self._downstream = sessions, clock, downstream
        self._wake_sender = wake_sender or (lambda: None)

    def _refused(self, caller: Caller, request: Message) -> None:
        case_id, resource = _case_of(request)
        if not case_id:
            return
        with self._sessions.begin() as s:
            access.audit(
                s,
                clock=self._clock,
                caller=caller,
                case_id=case_id,
                resource=resource,
                permitted=False,
            )

    def refused_by_policy(self, method: str, request: Message | None) -> None:
        if request is not None:
            self._refused(current_caller(), request)

    def _guard(self, request: Message, fn: Callable[[Caller], R]) -> R:
        caller = current_caller()
        try:
            return fn(caller)
        except access.HiddenCase as hidden:
            with self._sessions.begin() as s:
                access.audit(
                    s,
                    clock=self._clock,
                    caller=caller,
                    case_id=hidden.case_id,
                    resource=hidden.name,
                    permitted=False,
                )
            raise
        except PermissionDenied:
            self._refused(caller, request)
            raise

    def _read(self, request: Message, fn: Callable[[Session, Caller], R]) -> R:
        def run(caller: Caller) -> R:
            with self._sessions.begin() as s:  # reads write their audit entry
                return fn(s, caller)

        return self._guard(request, run)

    def _change(
        self, request: Any, response_type: type[M], fn: Callable[[Session, Caller], M]
    ) -> M:
        def run(caller: Caller) -> M:
            return run_idempotent(
                self._sessions,
                request=request,
                response_type=response_type,
                clock=self._clock,
                execute=lambda s: fn(s, caller),
            )

        return self._guard(request, run)

    # -- the RPCs ------------------------------------------------------------------------------------------------

    def GetMethodOfPayment(
        self, request: mop_api.GetMethodOfPaymentRequest, context: Ctx
    ) -> mop.MethodOfPayment:
        return self._read(
            request,
            lambda s, c: service.get_method(s, name=request.name, caller=c, clock=self._clock),
        )

    def MakeDeductionOrder(
        self, request: mop_api.MakeDeductionOrderRequest, context: Ctx
    ) -> mop.DeductionOrder:
        out = self._guard(
            request,
            lambda c: flows.make_order(
                sessions=self._sessions,
                request=request,
                caller=c,
                clock=self._clock,
                downstream=self._downstream,
            ),
        )
        self._wake_sender()  # a deduction from benefit it replaced is cancelled at dwp-gateway
        return out

    def GetDeductionOrder(
        self, request: mop_api.GetDeductionOrderRequest, context: Ctx
    ) -> mop.DeductionOrder:
        return self._read(
            request,
            lambda s, c: service.get_order(s, name=request.name, caller=c, clock=self._clock),
        )

    def ReportEmploymentEnded(
        self, request: mop_api.ReportEmploymentEndedRequest, context: Ctx
    ) -> mop.DeductionOrder:
        return self._change(
            request,
            mop.DeductionOrder,
            lambda s, c: service.report_employment_ended(
                s, request=request, caller=c, clock=self._clock
            ),
        )

    def SetUpBenefitDeduction(
        self, request: mop_api.SetUpBenefitDeductionRequest, context: Ctx
    ) -> mop.BenefitDeduction:
        out = self._change(
            request,
            mop.BenefitDeduction,
            lambda s, c: service.set_up_benefit_deduction(
                s, request=request, caller=c, clock=self._clock
            ),
        )
        self._wake_sender()  # committed: the set-up goes to dwp-gateway now
        return out

    def GetBenefitDeduction(
        self, request: mop_api.GetBenefitDeductionRequest, context: Ctx
    ) -> mop.BenefitDeduction:
        return self._read(
            request,
            lambda s, c: service.get_benefit_deduction(
                s, name=request.name, caller=c, clock=self._clock
            ),
        )

    def RecordDirectDebit(
        self, request: mop_api.RecordDirectDebitRequest, context: Ctx
    ) -> mop.MethodOfPayment:
        out = self._change(
            request,
            mop.MethodOfPayment,
            lambda s, c: service.record_direct_debit(
                s, request=request, caller=c, clock=self._clock
            ),
        )
        self._wake_sender()  # a deduction from benefit it replaced is cancelled at dwp-gateway
        return out

    def RecordStandingOrder(
        self, request: mop_api.RecordStandingOrderRequest, context: Ctx
    ) -> mop.MethodOfPayment:
        out = self._change(
            request,
            mop.MethodOfPayment,
            lambda s, c: service.record_standing_order(
                s, request=request, caller=c, clock=self._clock
            ),
        )
        self._wake_sender()
        return out
