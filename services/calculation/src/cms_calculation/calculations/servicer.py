"""Thin gRPC adapter: request → domain service → response. Errors are mapped by the server."""

from __future__ import annotations

from sqlalchemy.orm import sessionmaker

from cms.calculation.v1 import calculation_service_pb2 as api
from cms.calculation.v1 import calculation_service_pb2_grpc as api_grpc
from cms.calculation.v1 import resources_pb2 as pb
from cms_platform.clock import Clock
from cms_platform.idempotency import run_idempotent

from . import convert, service


class CalculationServicer(api_grpc.CalculationServiceServicer):
    def __init__(self, *, sessions: sessionmaker, clock: Clock):
        self._sessions = sessions
        self._clock = clock

    def CreateCalculation(self, request: api.CreateCalculationRequest, context) -> pb.Calculation:
        return run_idempotent(self._sessions, method="CreateCalculation", request=request,
                              response_type=pb.Calculation, clock=self._clock,
                              execute=lambda s: service.create(db_session=s, request=request, clock=self._clock))

    def GetCalculation(self, request: api.GetCalculationRequest, context) -> pb.Calculation:
        with self._sessions() as s:
            calc = service.get(db_session=s, name=request.name)
        return convert.basic_view(calc) if request.view == pb.CALCULATION_VIEW_BASIC else calc

    def ListCalculations(self, request: api.ListCalculationsRequest, context) -> api.ListCalculationsResponse:
        with self._sessions() as s:
            calcs, token = service.list_for_case(db_session=s, case_reference=request.case_reference,
                                                 page_size=request.page_size, page_token=request.page_token)
        if request.view != pb.CALCULATION_VIEW_FULL:
            calcs = [convert.basic_view(c) for c in calcs]
        return api.ListCalculationsResponse(calculations=calcs, next_page_token=token)

    def PreviewCalculation(self, request: api.PreviewCalculationRequest, context) -> pb.Calculation:
        return service.preview(request_input=request.input, case_reference=request.case_reference, clock=self._clock)
