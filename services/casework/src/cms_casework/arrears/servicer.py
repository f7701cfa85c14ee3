"""The ArrearsService gRPC API: request-id replay, then the domain call in one transaction, proto in and out. Who may
call each RPC is its access option in the contract, enforced by the platform before anything here runs; a refusal on
a case (the policy's, or a data-level one here) is audited on the case in its own transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message
from sqlalchemy.orm import Session, sessionmaker

from cms.casework.v1 import arrears_pb2 as apb
from cms.casework.v1 import arrears_service_pb2 as api
from cms.casework.v1 import arrears_service_pb2_grpc as api_grpc
from cms_platform.clock import Clock
from cms_platform.errors import PermissionDenied
from cms_platform.idempotency import run_idempotent
from cms_platform.identity import Caller, current_caller

from ..access import service as access
from ..case_records import service as case_records
from . import flows, service

R = TypeVar("R")
M = TypeVar("M", bound=Message)
Ctx = grpc.ServicerContext


def _case_id_in(request: Message) -> str:
    for field in ("name", "parent"):
        value = getattr(request, field, "")
        if isinstance(value, str) and value.startswith("cases/"):
            return value.split("/")[1]
    return ""


def _resource_in(request: Message) -> str:
    return getattr(request, "name", "") or getattr(request, "parent", "")


class ArrearsServicer(api_grpc.ArrearsServiceServicer):
    def __init__(self, *, sessions: sessionmaker, clock: Clock):
        self._sessions, self._clock = sessions, clock

    # -- plumbing ------------------------------------------------------------------------------------------------

    def _refused(self, caller: Caller, case_id: str, resource: str) -> None:
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
            self._refused(current_caller(), _case_id_in(request), _resource_in(request))

    def _guard(self, request: Message, fn: Callable[[Caller], R]) -> R:
        caller = current_caller()
        try:
            return fn(caller)
        except access.HiddenCase as hidden:
            self._refused(caller, hidden.case_id, hidden.name)
            raise
        except PermissionDenied:
            self._refused(caller, _case_id_in(request), _resource_in(request))
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

    # -- arrears agreements --------------------------------------------------------------------------------------

    def CreateArrearsAgreement(
        self, request: api.CreateArrearsAgreementRequest, context: Ctx
    ) -> apb.ArrearsAgreement:
        return self._change(
            request,
            apb.ArrearsAgreement,
            lambda s, c: service.create_agreement(s, request=request, caller=c, clock=self._clock),
        )

    def GetArrearsAgreement(
        self, request: api.GetArrearsAgreementRequest, context: Ctx
    ) -> apb.ArrearsAgreement:
        return self._read(
            request,
            lambda s, c: service.get_agreement(s, name=request.name, caller=c, clock=self._clock),
        )

    def ListArrearsAgreements(
        self, request: api.ListArrearsAgreementsRequest, context: Ctx
    ) -> api.ListArrearsAgreementsResponse:
        found, token = self._read(
            request,
            lambda s, c: case_records.page_of(
                s,
                parent=request.parent,
                caller=c,
                clock=self._clock,
                page_size=request.page_size,
                page_token=request.page_token,
                maximum=100,
                items=service.list_agreements,
            ),
        )
        return api.ListArrearsAgreementsResponse(arrears_agreements=found, next_page_token=token)

    # -- Direct Pay missed payments ------------------------------------------------------------------------------

    def ReportDirectPayMissedPayments(
        self, request: api.ReportDirectPayMissedPaymentsRequest, context: Ctx
    ) -> apb.MissedPaymentReport:
        return self._change(
            request,
            apb.MissedPaymentReport,
            lambda s, c: service.report_missed(s, request=request, caller=c, clock=self._clock),
        )

    def GetMissedPaymentReport(
        self, request: api.GetMissedPaymentReportRequest, context: Ctx
    ) -> apb.MissedPaymentReport:
        return self._read(
            request,
            lambda s, c: service.get_report(s, name=request.name, caller=c, clock=self._clock),
        )

    def DecideDirectPayMissedPayments(
        self, request: api.DecideDirectPayMissedPaymentsRequest, context: Ctx
    ) -> apb.MissedPaymentReport:
        return self._change(
            request,
            apb.MissedPaymentReport,
            lambda s, c: flows.decide_direct_pay(s, request=request, caller=c, clock=self._clock),
        )

    # -- overpayments --------------------------------------------------------------------------------------------

    def DecideOverpayment(
        self, request: api.DecideOverpaymentRequest, context: Ctx
    ) -> apb.OverpaymentDecision:
        return self._change(
            request,
            apb.OverpaymentDecision,
            lambda s, c: flows.decide_overpayment(s, request=request, caller=c, clock=self._clock),
        )

    def GetOverpaymentDecision(
        self, request: api.GetOverpaymentDecisionRequest, context: Ctx
    ) -> apb.OverpaymentDecision:
        return self._read(
            request,
            lambda s, c: flows.get_overpayment_decision(
                s, name=request.name, caller=c, clock=self._clock
            ),
        )

    # -- suspended arrears ---------------------------------------------------------------------------------------

    def SuspendArrears(
        self, request: api.SuspendArrearsRequest, context: Ctx
    ) -> apb.ArrearsSuspension:
        return self._change(
            request,
            apb.ArrearsSuspension,
            lambda s, c: service.suspend(s, request=request, caller=c, clock=self._clock),
        )

    def ResumeArrears(
        self, request: api.ResumeArrearsRequest, context: Ctx
    ) -> apb.ArrearsSuspension:
        return self._change(
            request,
            apb.ArrearsSuspension,
            lambda s, c: service.resume(s, request=request, caller=c, clock=self._clock),
        )
