"""HmrcScenarioService: script the simulated people (tests and demos). Off in production settings."""

from __future__ import annotations

from sqlalchemy.orm import sessionmaker

from cms.hmrc.v1 import hmrc_scenario_service_pb2 as api
from cms.hmrc.v1 import hmrc_scenario_service_pb2_grpc as api_grpc
from cms_platform.clock import Clock
from cms_platform.idempotency import run_idempotent

from . import service as scenarios
from .adapter import SimulatedHmrc


class HmrcScenarioServicer(api_grpc.HmrcScenarioServiceServicer):
    def __init__(
        self,
        *,
        hmrc: SimulatedHmrc,
        sessions: sessionmaker,
        clock: Clock,
        overrides: scenarios.Overrides,
    ):
        self._hmrc, self._sessions, self._clock = hmrc, sessions, clock
        self._overrides = overrides

    def GetPerson(self, request, context):
        with self._sessions() as s:
            return scenarios.get_person(s, hmrc=self._hmrc, nino=request.nino)

    def UpsertPerson(self, request, context):
        self._overrides.forget(
            request.person.identity.nino
        )  # before too: the upsert reads the current person
        try:
            return run_idempotent(
                self._sessions,
                method="UpsertPerson",
                request=request,
                response_type=api.SimulatedPerson,
                clock=self._clock,
                execute=lambda s: scenarios.upsert_person(
                    s, request=request, hmrc=self._hmrc, clock=self._clock
                ),
            )
        finally:
            self._overrides.forget(request.person.identity.nino)

    def ApplyLifeEvent(self, request, context):
        self._overrides.forget(request.nino)
        try:
            return run_idempotent(
                self._sessions,
                method="ApplyLifeEvent",
                request=request,
                response_type=api.ApplyLifeEventResponse,
                clock=self._clock,
                execute=lambda s: scenarios.apply_life_event(
                    s, request=request, hmrc=self._hmrc, clock=self._clock
                ),
            )
        finally:
            self._overrides.forget(request.nino)
