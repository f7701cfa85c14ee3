"""The EnforcementService gRPC API: request-id replay, then the domain call in one transaction (flows, for the steps
that reach the CRA first), proto in and out. Who may call each RPC is its access option in the contract, enforced by
the platform; a team leader's step asked for by a caseworker is refused here (PERMISSION_DENIED), and every refusal on
a case is audited on it in its own transaction."""

from __future__ import annotations

import grpc
from sqlalchemy.orm import sessionmaker

from cms.casework.v1 import enforcement_pb2 as epb
from cms.casework.v1 import enforcement_service_pb2 as api
from cms.casework.v1 import enforcement_service_pb2_grpc as api_grpc
from cms_platform.clock import Clock

from ..downstream import Downstream
from ..servicing import Servicing
from . import flows, service

Ctx = grpc.ServicerContext


class EnforcementServicer(Servicing, api_grpc.EnforcementServiceServicer):
    def __init__(self, *, sessions: sessionmaker, clock: Clock, downstream: Downstream):
        self._sessions, self._clock, self._downstream = sessions, clock, downstream

    def OpenEnforcementCase(
        self, request: api.OpenEnforcementCaseRequest, context: Ctx
    ) -> epb.EnforcementCase:
        return self._guard(
            request,
            lambda c: flows.open_case(
                sessions=self._sessions,
                request=request,
                caller=c,
                clock=self._clock,
                downstream=self._downstream,
            ),
        )

    def GetEnforcementCase(
        self, request: api.GetEnforcementCaseRequest, context: Ctx
    ) -> epb.EnforcementCase:
        return self._read(
            request,
            lambda s, c: service.get_case(s, name=request.name, caller=c, clock=self._clock),
        )

    def CloseEnforcementCase(
        self, request: api.CloseEnforcementCaseRequest, context: Ctx
    ) -> epb.EnforcementCase:
        return self._guard(
            request,
            lambda c: flows.close_case(
                sessions=self._sessions,
                request=request,
                caller=c,
                clock=self._clock,
                downstream=self._downstream,
            ),
        )

    def RecordWilfulRefusalFinding(
        self, request: api.RecordWilfulRefusalFindingRequest, context: Ctx
    ) -> epb.EnforcementCase:
        return self._change(
            request,
            epb.EnforcementCase,
            lambda s, c: service.record_finding(s, request=request, caller=c, clock=self._clock),
        )

    def TakeEnforcementAction(
        self, request: api.TakeEnforcementActionRequest, context: Ctx
    ) -> epb.EnforcementAction:
        return self._guard(
            request,
            lambda c: flows.take_action(
                sessions=self._sessions,
                request=request,
                caller=c,
                clock=self._clock,
                downstream=self._downstream,
            ),
        )

    def GetEnforcementAction(
        self, request: api.GetEnforcementActionRequest, context: Ctx
    ) -> epb.EnforcementAction:
        return self._read(
            request,
            lambda s, c: service.get_action(s, name=request.name, caller=c, clock=self._clock),
        )

    def RecordLiabilityOrderOutcome(
        self, request: api.RecordLiabilityOrderOutcomeRequest, context: Ctx
    ) -> epb.EnforcementAction:
        return self._change(
            request,
            epb.EnforcementAction,
            lambda s, c: service.record_outcome(s, request=request, caller=c, clock=self._clock),
        )

    def MakeFinalLumpSumDeductionOrder(
        self, request: api.MakeFinalLumpSumDeductionOrderRequest, context: Ctx
    ) -> epb.EnforcementAction:
        return self._change(
            request,
            epb.EnforcementAction,
            lambda s, c: service.final_lsdo(s, request=request, caller=c, clock=self._clock),
        )

    def RecordRegularDeduction(
        self, request: api.RecordRegularDeductionRequest, context: Ctx
    ) -> epb.RegularDeduction:
        return self._change(
            request,
            epb.RegularDeduction,
            lambda s, c: service.record_deduction(s, request=request, caller=c, clock=self._clock),
        )

    def WaiveEnforcementCharge(
        self, request: api.WaiveEnforcementChargeRequest, context: Ctx
    ) -> epb.EnforcementAction:
        return self._change(
            request,
            epb.EnforcementAction,
            lambda s, c: service.waive_charge(s, request=request, caller=c, clock=self._clock),
        )
