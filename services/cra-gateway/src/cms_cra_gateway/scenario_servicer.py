"""CraScenarioService: read and script simulated credit files (tests and demos). Off in production settings."""

from __future__ import annotations

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
from cms_platform.paging import page

from . import scenario, surveillance
from .simulator import SimulatedCra, footprints


class CraScenarioServicer(api_grpc.CraScenarioServiceServicer):
    def __init__(
        self,
        *,
        cra: SimulatedCra,
        sessions: sessionmaker,
        clock: Clock,
        surveillance_parameters: surveillance.SurveillanceParameters = surveillance.DEFAULTS,
    ):
        self._cra, self._sessions, self._clock = cra, sessions, clock
        self._surveillance_params = surveillance_parameters

    def GetCreditFile(self, request: api.GetCreditFileRequest, context) -> pb.CreditFile:
        with self._sessions() as s:
            return self._cra.file_in(
                s, scenario._person(self._cra, request.nino), on=self._clock.today()
            )

    def ApplyCreditFileChange(
        self, request: api.ApplyCreditFileChangeRequest, context
    ) -> api.ApplyCreditFileChangeResponse:
        return run_idempotent(
            self._sessions,
            method="ApplyCreditFileChange",
            request=request,
            response_type=api.ApplyCreditFileChangeResponse,
            clock=self._clock,
            execute=lambda s: scenario.apply(s, request=request, cra=self._cra, clock=self._clock),
        )

    def ResetCreditFile(self, request: api.ResetCreditFileRequest, context) -> pb.CreditFile:
        return run_idempotent(
            self._sessions,
            method="ResetCreditFile",
            request=request,
            response_type=pb.CreditFile,
            clock=self._clock,
            execute=lambda s: scenario.reset(s, request=request, cra=self._cra, clock=self._clock),
        )

    def ListSearchFootprints(
        self, request: api.ListSearchFootprintsRequest, context
    ) -> api.ListSearchFootprintsResponse:
        nino = scenario._person(self._cra, request.nino)
        size, offset = page(request.page_size, request.page_token, maximum=500)
        with self._sessions() as s:
            found = footprints(s, nino, size=size, offset=offset)
        return api.ListSearchFootprintsResponse(
            search_footprints=found[:size],
            next_page_token=str(offset + size) if len(found) > size else "",
        )

    def RunSurveillanceChecks(
        self, request: api.RunSurveillanceChecksRequest, context
    ) -> api.RunSurveillanceChecksResponse:
        v = ViolationCollector()
        on = (
            date_or_violation(request.as_of_date, "as_of_date", v, required=False)
            or self._clock.today()
        )
        v.raise_if_any()

        method, response_type = "RunSurveillanceChecks", api.RunSurveillanceChecksResponse
        with self._sessions() as s:
            previous = idempotency.replay(
                s, method=method, request=request, response_type=response_type
            )
        if previous is not None:
            return previous
        # Each surveillance is checked in its own transaction (a run is safe to repeat: it finds nothing new); the
        # stored response only makes a retry answer the same.
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
                idempotency.remember(
                    s, method=method, request=request, response=response, clock=self._clock
                )
        except IntegrityError:
            with self._sessions() as s:
                return idempotency.replay(
                    s, method=method, request=request, response_type=response_type
                )
        return response
