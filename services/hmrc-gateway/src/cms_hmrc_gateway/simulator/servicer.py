"""HmrcScenarioService, the gRPC API that scripts the simulated people (tests and demos; off in production):
request → scenario service → the person as the contract's SimulatedPerson."""

from __future__ import annotations

import grpc
from sqlalchemy.orm import Session, sessionmaker

from cms.hmrc.v1 import hmrc_scenario_service_pb2 as api
from cms.hmrc.v1 import hmrc_scenario_service_pb2_grpc as api_grpc
from cms_platform.clock import Clock
from cms_platform.idempotency import run_idempotent

from . import convert, service
from .adapter import SimulatedHmrc


class HmrcScenarioServicer(api_grpc.HmrcScenarioServiceServicer):
    def __init__(
        self,
        *,
        hmrc: SimulatedHmrc,
        sessions: sessionmaker,
        clock: Clock,
        overrides: service.Overrides,
    ):
        self._hmrc, self._sessions, self._clock = hmrc, sessions, clock
        self._overrides = overrides

    def GetPerson(
        self, request: api.GetPersonRequest, context: grpc.ServicerContext
    ) -> api.SimulatedPerson:
        return convert.person_to_proto(service.get_person(hmrc=self._hmrc, nino=request.nino))

    def UpsertPerson(
        self, request: api.UpsertPersonRequest, context: grpc.ServicerContext
    ) -> api.SimulatedPerson:
        # Forgotten before too: the upsert reads the current person.
        self._overrides.forget(request.person.identity.nino)

        def upsert(s: Session) -> api.SimulatedPerson:
            person = service.upsert_person(
                s, person=request.person, hmrc=self._hmrc, clock=self._clock
            )
            return convert.person_to_proto(person)

        try:
            return run_idempotent(
                self._sessions,
                request=request,
                response_type=api.SimulatedPerson,
                clock=self._clock,
                execute=upsert,
            )
        finally:
            self._overrides.forget(request.person.identity.nino)

    def ApplyLifeEvent(
        self, request: api.ApplyLifeEventRequest, context: grpc.ServicerContext
    ) -> api.ApplyLifeEventResponse:
        self._overrides.forget(request.nino)

        def apply(s: Session) -> api.ApplyLifeEventResponse:
            person, queued = service.apply_life_event(
                s, request=request, hmrc=self._hmrc, clock=self._clock
            )
            return api.ApplyLifeEventResponse(
                person=convert.person_to_proto(person),
                queued_events=[convert.queued_event(row) for row in queued],
            )

        try:
            return run_idempotent(
                self._sessions,
                request=request,
                response_type=api.ApplyLifeEventResponse,
                clock=self._clock,
                execute=apply,
            )
        finally:
            self._overrides.forget(request.nino)
