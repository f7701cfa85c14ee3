"""The TracingService gRPC API: request-id replay, then the domain call in one transaction, proto in and out. Who may
call each RPC is its access option in the contract (staff only), enforced by the platform before anything here runs;
a refusal on a case is audited on the case in its own transaction."""

from __future__ import annotations

import grpc
from sqlalchemy.orm import sessionmaker

from cms.casework.v1 import tracing_pb2 as tpb
from cms.casework.v1 import tracing_service_pb2 as api
from cms.casework.v1 import tracing_service_pb2_grpc as api_grpc
from cms_platform.clock import Clock

from ..downstream import Downstream
from ..servicing import Servicing
from . import flows, service

Ctx = grpc.ServicerContext


class TracingServicer(Servicing, api_grpc.TracingServiceServicer):
    def __init__(
        self,
        *,
        sessions: sessionmaker,
        clock: Clock,
        downstream: Downstream,
        min_cra_confidence_percent: int,
    ):
        self._sessions, self._clock = sessions, clock
        self._downstream = downstream
        self._min_cra_confidence = min_cra_confidence_percent

    # -- traces ----------------------------------------------------------------------------------------------------

    def StartTrace(self, request: api.StartTraceRequest, context: Ctx) -> tpb.Trace:
        return self._change(
            request,
            tpb.Trace,
            lambda s, c: service.start_trace(s, request=request, caller=c, clock=self._clock),
        )

    def RunTraceStep(self, request: api.RunTraceStepRequest, context: Ctx) -> tpb.Trace:
        return self._change(
            request,
            tpb.Trace,
            lambda s, c: flows.run_trace_step(
                s,
                request=request,
                caller=c,
                clock=self._clock,
                downstream=self._downstream,
                min_cra_confidence=self._min_cra_confidence,
            ),
        )

    def GetTrace(self, request: api.GetTraceRequest, context: Ctx) -> tpb.Trace:
        return self._read(
            request,
            lambda s, c: service.get_trace(s, name=request.name, caller=c, clock=self._clock),
        )

    def ListTraces(self, request: api.ListTracesRequest, context: Ctx) -> api.ListTracesResponse:
        found, token = self._case_page(request, items=service.list_traces, maximum=100)
        return api.ListTracesResponse(traces=found, next_page_token=token)

    # -- financial data at arrears ---------------------------------------------------------------------------------

    def ObtainFinancialDataAtArrears(
        self, request: api.ObtainFinancialDataAtArrearsRequest, context: Ctx
    ) -> tpb.FinancialDataAssessment:
        return self._change(
            request,
            tpb.FinancialDataAssessment,
            lambda s, c: flows.obtain_financial_data_at_arrears(
                s, request=request, caller=c, clock=self._clock, downstream=self._downstream
            ),
        )

    def GetFinancialDataAssessment(
        self, request: api.GetFinancialDataAssessmentRequest, context: Ctx
    ) -> tpb.FinancialDataAssessment:
        return self._read(
            request,
            lambda s, c: service.get_assessment(s, name=request.name, caller=c, clock=self._clock),
        )

    # -- the record of requests ------------------------------------------------------------------------------------

    def ListInformationRequests(
        self, request: api.ListInformationRequestsRequest, context: Ctx
    ) -> api.ListInformationRequestsResponse:
        found, token = self._case_page(
            request, items=service.list_information_requests, maximum=200
        )
        return api.ListInformationRequestsResponse(
            information_requests=found, next_page_token=token
        )
