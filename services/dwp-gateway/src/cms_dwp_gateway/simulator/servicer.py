"""DwpScenarioService, the scenario admin API (tests and demos; off in production settings): script benefit lives on
the simulated CIS and run the simulated Jobcentre Plus's decisions, upsert people, and set the simulation's settings and outage windows, which
the simulated systems read before each call to the real-system interface (DwpGatewayService)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

import grpc
from google.protobuf.message import Message
from sqlalchemy.orm import Session, sessionmaker

from cms.dwp.v1 import dwp_scenario_service_pb2 as api
from cms.dwp.v1 import dwp_scenario_service_pb2_grpc as api_grpc
from cms.dwp.v1 import dwp_service_pb2
from cms.dwp.v1 import resources_pb2 as pb
from cms_platform.clock import Clock
from cms_platform.idempotency import run_idempotent

from . import controls, convert, service
from .adapter import SimulatedCis, SimulatedJcp
from .controls import DwpControls

# What an outage may name: the real-system interface's methods.
GATEWAY_METHODS = frozenset(
    dwp_service_pb2.DESCRIPTOR.services_by_name["DwpGatewayService"].methods_by_name
)

M = TypeVar("M", bound=Message)
R = TypeVar("R", bound=Message, contravariant=True)


class _AwardChange(Protocol[R]):
    def __call__(
        self, db: Session, *, request: R, cis: SimulatedCis, clock: Clock
    ) -> pb.BenefitAward: ...


class DwpScenarioServicer(api_grpc.DwpScenarioServiceServicer):
    def __init__(
        self,
        *,
        cis: SimulatedCis,
        jcp: SimulatedJcp,
        controls: DwpControls,
        sessions: sessionmaker,
        clock: Clock,
    ):
        self._cis, self._jcp, self._sessions, self._clock = cis, jcp, sessions, clock
        self._controls = controls

    def _once(self, request: Message, response_type: type[M], execute: Callable[[Session], M]) -> M:
        """`execute` once per request id (the operation being served), in one transaction with its answer."""
        return run_idempotent(
            self._sessions,
            request=request,
            response_type=response_type,
            clock=self._clock,
            execute=execute,
        )

    def _award(self, request: R, change: _AwardChange[R]) -> pb.BenefitAward:
        return self._once(
            request,
            pb.BenefitAward,
            lambda s: change(s, request=request, cis=self._cis, clock=self._clock),
        )

    def DecidePendingDeduction(
        self, request: api.DecidePendingDeductionRequest, context: grpc.ServicerContext
    ) -> pb.Deduction:
        return self._once(
            request,
            pb.Deduction,
            lambda s: service.decide_pending(
                s,
                deduction_id=request.deduction_id,
                jcp=self._jcp,
                clock=self._clock,
                forced_outcome=convert.forced_outcome(request.forced_outcome),
                forced_rejection=convert.forced_rejection(request.forced_rejection_reason),
            ),
        )

    def RunDueBatches(
        self, request: api.RunDueBatchesRequest, context: grpc.ServicerContext
    ) -> api.RunDueBatchesResponse:
        return self._once(
            request,
            api.RunDueBatchesResponse,
            lambda s: api.RunDueBatchesResponse(
                decided_deduction_ids=service.run_due(
                    s, jcp=self._jcp, clock=self._clock, ignore_delays=request.ignore_delays
                )
            ),
        )

    def StartBenefitAward(
        self, request: api.StartBenefitAwardRequest, context: grpc.ServicerContext
    ) -> pb.BenefitAward:
        return self._award(request, service.start)

    def ChangeBenefitAward(
        self, request: api.ChangeBenefitAwardRequest, context: grpc.ServicerContext
    ) -> pb.BenefitAward:
        return self._award(request, service.change)

    def SuspendBenefitAward(
        self, request: api.SuspendBenefitAwardRequest, context: grpc.ServicerContext
    ) -> pb.BenefitAward:
        return self._award(request, service.suspend)

    def ResumeBenefitAward(
        self, request: api.ResumeBenefitAwardRequest, context: grpc.ServicerContext
    ) -> pb.BenefitAward:
        return self._award(request, service.resume)

    def EndBenefitAward(
        self, request: api.EndBenefitAwardRequest, context: grpc.ServicerContext
    ) -> pb.BenefitAward:
        return self._award(request, service.end)

    # -- people ------------------------------------------------------------------------------------------------------

    def UpsertPerson(
        self, request: api.UpsertPersonRequest, context: grpc.ServicerContext
    ) -> pb.PersonRecord:
        return self._once(
            request,
            pb.PersonRecord,
            lambda s: service.upsert_person(s, request=request, cis=self._cis, clock=self._clock),
        )

    # -- settings and outages ----------------------------------------------------------------------------------------

    def GetSimulationSettings(
        self, request: api.GetSimulationSettingsRequest, context: grpc.ServicerContext
    ) -> api.SimulationSettings:
        with self._sessions() as s:
            return controls.current(s, default=self._controls.default)

    def UpdateSimulationSettings(
        self, request: api.UpdateSimulationSettingsRequest, context: grpc.ServicerContext
    ) -> api.SimulationSettings:
        return self._once(
            request,
            api.SimulationSettings,
            lambda s: controls.update(
                s, request, default=self._controls.default, clock=self._clock
            ),
        )

    def ScheduleOutage(
        self, request: api.ScheduleOutageRequest, context: grpc.ServicerContext
    ) -> api.Outage:
        return self._once(
            request,
            api.Outage,
            lambda s: controls.schedule(s, request, methods=GATEWAY_METHODS, clock=self._clock),
        )

    def CancelOutage(
        self, request: api.CancelOutageRequest, context: grpc.ServicerContext
    ) -> api.Outage:
        return self._once(
            request,
            api.Outage,
            lambda s: controls.cancel(s, request.outage_id, clock=self._clock),
        )

    def ListOutages(
        self, request: api.ListOutagesRequest, context: grpc.ServicerContext
    ) -> api.ListOutagesResponse:
        with self._sessions() as s:
            return controls.list_outages(s, request, clock=self._clock)
