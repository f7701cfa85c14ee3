"""The MethodsOfPaymentService gRPC API: request-id replay, then the domain call in one transaction, proto in and out
(a deduction order's calls to HMRC and the calculation service happen first, outside it: flows.make_order). Refusals
on a case are audited as CaseworkService's are (the casework servicer's plumbing)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import grpc
from google.protobuf.message import Message
from sqlalchemy.orm import sessionmaker

from cms.casework.v1 import methods_of_payment_pb2 as mop
from cms.casework.v1 import methods_of_payment_service_pb2 as mop_api
from cms.casework.v1 import methods_of_payment_service_pb2_grpc as mop_grpc
from cms_platform.clock import Clock

from ..downstream import Downstream
from ..servicing import Servicing
from . import flows, service

R = TypeVar("R")
M = TypeVar("M", bound=Message)
Ctx = grpc.ServicerContext


class MethodsOfPaymentServicer(Servicing, mop_grpc.MethodsOfPaymentServiceServicer):
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
