"""The ArrearsService gRPC API: request-id replay, then the domain call in one transaction, proto in and out. Who may
call each RPC is its access option in the contract, enforced by the platform before anything here runs; a refusal on
a case (the policy's, or a data-level one here) is audited on the case in its own transaction."""

from __future__ import annotations

from typing import TypeVar

import grpc
from google.protobuf.message import Message
from sqlalchemy.orm import sessionmaker

from cms.casework.v1 import arrears_pb2 as apb
from cms.casework.v1 import arrears_service_pb2 as api
from cms.casework.v1 import arrears_service_pb2_grpc as api_grpc
from cms_platform.clock import Clock

from ..servicing import Servicing
from . import estates, flows, service

R = TypeVar("R")
M = TypeVar("M", bound=Message)
Ctx = grpc.ServicerContext


class ArrearsServicer(Servicing, api_grpc.ArrearsServiceServicer):
    def __init__(self, *, sessions: sessionmaker, clock: Clock):
        self._sessions, self._clock = sessions, clock

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
        found, token = self._case_page(request, items=service.list_agreements, maximum=100)
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

    # -- write-offs, estates and compliance ----------------------------------------------------------------------

    def DecideWriteOff(
        self, request: api.DecideWriteOffRequest, context: Ctx
    ) -> apb.WriteOffDecision:
        return self._change(
            request,
            apb.WriteOffDecision,
            lambda s, c: estates.decide_write_off(s, request=request, caller=c, clock=self._clock),
        )

    def GetWriteOffDecision(
        self, request: api.GetWriteOffDecisionRequest, context: Ctx
    ) -> apb.WriteOffDecision:
        return self._read(
            request,
            lambda s, c: estates.get_write_off(s, name=request.name, caller=c, clock=self._clock),
        )

    def ListWriteOffDecisions(
        self, request: api.ListWriteOffDecisionsRequest, context: Ctx
    ) -> api.ListWriteOffDecisionsResponse:
        found, token = self._case_page(request, items=estates.list_write_offs, maximum=100)
        return api.ListWriteOffDecisionsResponse(write_off_decisions=found, next_page_token=token)

    def GetEstateClaim(self, request: api.GetEstateClaimRequest, context: Ctx) -> apb.EstateClaim:
        return self._read(
            request,
            lambda s, c: estates.get_claim(s, name=request.name, caller=c, clock=self._clock),
        )

    def ListEstateClaims(
        self, request: api.ListEstateClaimsRequest, context: Ctx
    ) -> api.ListEstateClaimsResponse:
        found, token = self._case_page(request, items=estates.list_claims, maximum=100)
        return api.ListEstateClaimsResponse(estate_claims=found, next_page_token=token)

    def RecordEstateClaimProgress(
        self, request: api.RecordEstateClaimProgressRequest, context: Ctx
    ) -> apb.EstateClaim:
        return self._change(
            request,
            apb.EstateClaim,
            lambda s, c: estates.record_claim_progress(
                s, request=request, caller=c, clock=self._clock
            ),
        )

    def GetComplianceStatus(
        self, request: api.GetComplianceStatusRequest, context: Ctx
    ) -> apb.ComplianceStatus:
        return self._read(
            request,
            lambda s, c: estates.compliance_status(s, request=request, caller=c, clock=self._clock),
        )
