"""CraScenarioService: read and script simulated credit files, list their search footprints and run the surveillance
checks as of a date (tests and demos). Off in production settings."""

from __future__ import annotations

import grpc
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from cms.cra.v1 import cra_scenario_service_pb2 as api
from cms.cra.v1 import cra_scenario_service_pb2_grpc as api_grpc
from cms.cra.v1 import resources_pb2 as pb
from cms_platform import idempotency
from cms_platform.clock import Clock
from cms_platform.convert import date_or_violation
from cms_platform.errors import ViolationCollector
from cms_platform.idempotency import run_idempotent

from ..surveillance import flows as surveillance
from ..surveillance.rules import DEFAULTS, SurveillanceParameters
from . import service
from .adapter import SimulatedCra


class CraScenarioServicer(api_grpc.CraScenarioServiceServicer):
    def __init__(
        self,
        *,
        cra: SimulatedCra,
        sessions: sessionmaker,
        clock: Clock,
        surveillance_parameters: SurveillanceParameters = DEFAULTS,
    ):
        self._cra, self._sessions, self._clock = cra, sessions, clock
        self._surveillance_params = surveillance_parameters

    def GetCreditFile(
        self, request: api.GetCreditFileRequest, context: grpc.ServicerContext
    ) -> pb.CreditFile:
        with self._sessions() as s:
            return service.credit_file(s, cra=self._cra, nino=request.nino, clock=self._clock)

    def ApplyCreditFileChange(
        self, request: api.ApplyCreditFileChangeRequest, context: grpc.ServicerContext
    ) -> api.ApplyCreditFileChangeResponse:
        return run_idempotent(
            self._sessions,
            request=request,
            response_type=api.ApplyCreditFileChangeResponse,
            clock=self._clock,
            execute=lambda s: service.apply(s, request=request, cra=self._cra, clock=self._clock),
        )

    def ResetCreditFile(
        self, request: api.ResetCreditFileRequest, context: grpc.ServicerContext
    ) -> pb.CreditFile:
        return run_idempotent(
            self._sessions,
            request=request,
            response_type=pb.CreditFile,
            clock=self._clock,
            execute=lambda s: service.reset(s, request=request, cra=self._cra, clock=self._clock),
        )

    def ListSearchFootprints(
        self, request: api.ListSearchFootprintsRequest, context: grpc.ServicerContext
    ) -> api.ListSearchFootprintsResponse:
        with self._sessions() as s:
            found, next_page = service.footprints(
                s,
                cra=self._cra,
                nino=request.nino,
                page_size=request.page_size,
                page_token=request.page_token,
            )
        return api.ListSearchFootprintsResponse(search_footprints=found, next_page_token=next_page)

    def RunSurveillanceChecks(
        self, request: api.RunSurveillanceChecksRequest, context: grpc.ServicerContext
    ) -> api.RunSurveillanceChecksResponse:
        v = ViolationCollector()
        on = (
            date_or_violation(request.as_of_date, "as_of_date", v, required=False)
            or self._clock.today()
        )
        v.raise_if_any()

        response_type = api.RunSurveillanceChecksResponse
        with self._sessions() as s:
            previous = idempotency.replay(s, request=request, response_type=response_type)
        if previous is not None:
            return previous
        # Each surveillance is checked in its own transaction (a run is safe to repeat: it finds nothing new), so
        # run_idempotent's one transaction does not fit; the stored response only makes a retry answer the same.
        checked, alerts, reviews = surveillance.run_due(
            sessions=self._sessions,
            cra=self._cra,
            clock=self._clock,
            on=on,
            params=self._surveillance_params,
        )
        response = response_type(
            surveillances_checked=checked, alerts_raised=alerts, reviews_due=reviews
        )
        try:
            with self._sessions.begin() as s:
                idempotency.remember(s, request=request, response=response, clock=self._clock)
        except IntegrityError:
            # A concurrent retry stored its answer first: answer as it did.
            with self._sessions() as s:
                stored = idempotency.replay(s, request=request, response_type=response_type)
            if stored is None:
                raise
            return stored
        return response
