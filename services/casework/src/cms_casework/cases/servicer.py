"""Thin gRPC adapter for cases; the calculate flow's remote calls happen outside any DB transaction."""

from __future__ import annotations

import grpc
from sqlalchemy.orm import sessionmaker

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import casework_service_pb2_grpc as api_grpc
from cms.casework.v1 import resources_pb2 as pb
from cms_platform.clock import Clock
from cms_platform.idempotency import replay, run_idempotent

from ..downstream import Downstream, budget, translate
from . import service


class CaseworkServicer(api_grpc.CaseworkServiceServicer):
    def __init__(self, *, sessions: sessionmaker, clock: Clock, downstream: Downstream, deadline: float):
        self._sessions = sessions
        self._clock = clock
        self._downstream = downstream
        self._deadline = deadline

    def CreateCase(self, request: api.CreateCaseRequest, context) -> pb.Case:
        return run_idempotent(self._sessions, method="CreateCase", request=request, response_type=pb.Case,
                              clock=self._clock,
                              execute=lambda s: service.create(db_session=s, request=request, clock=self._clock))

    def GetCase(self, request: api.GetCaseRequest, context) -> pb.Case:
        with self._sessions() as s:
            return service.load(db_session=s, name=request.name)[1]

    def CalculateCase(self, request: api.CalculateCaseRequest, context) -> pb.Case:
        method = "CalculateCase"
        with self._sessions() as s:
            previous = replay(s, method=method, request=request, response_type=pb.Case)
            if previous is not None:
                return previous
            _, case = service.load(db_session=s, name=request.name)
        try:
            income = self._downstream.hmrc.GetSummaryOfEarnedIncome(
                service.hmrc_income_request(case), timeout=budget(context, self._deadline))
        except grpc.RpcError as err:
            raise translate(err, "hmrc-gateway") from None
        service.check_hmrc_income(income)
        calc_request = service.calculation_request(case=case, request=request, income=income, clock=self._clock)
        try:
            calculation = self._downstream.calculation.CreateCalculation(
                calc_request, timeout=budget(context, self._deadline))
        except grpc.RpcError as err:
            raise translate(err, "calculation") from None
        # Records the result, or replays it if a concurrent retry with the same request id got there first.
        return run_idempotent(self._sessions, method=method, request=request, response_type=pb.Case, clock=self._clock,
                              execute=lambda s: service.record_calculation(db_session=s, name=request.name,
                                                                           calculation=calculation, clock=self._clock))
