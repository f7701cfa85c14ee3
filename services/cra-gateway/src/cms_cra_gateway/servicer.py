"""CraGatewayService, the gRPC API: the request as the port's search, the agency asked through the port (which
admits it or refuses), the file ranked and explained by the assessment rules, and every call audited (audit.py).
The legal basis was already checked by the registration guard (legal_gateway.py) before this runs; case
surveillance is the surveillance package's.

Nothing that identifies a person (NINO, name, address, account number) is logged: audit rows and any log line name
the file by its opaque reference."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import grpc
from sqlalchemy.orm import Session, sessionmaker

from cms.common.v1 import types_pb2 as common
from cms.cra.v1 import cra_service_pb2 as api
from cms.cra.v1 import cra_service_pb2_grpc as api_grpc
from cms.cra.v1 import resources_pb2 as pb
from cms_platform.clock import Clock
from cms_platform.idempotency import run_idempotent
from cms_platform.identifiers import normalise_nino

from .assessment import rules as assessment
from .audit import CraAuditTrail
from .convert import SearchRequest, match_of, outcome_name, search_of
from .port import CreditReferencePort, SearchOutcome
from .surveillance import flows as surveillance_flows
from .surveillance import service as surveillance

SurveillanceRequest = (
    api.StartCaseSurveillanceRequest
    | api.RescheduleCaseSurveillanceReviewRequest
    | api.StopCaseSurveillanceRequest
)


class CraGatewayServicer(api_grpc.CraGatewayServiceServicer):
    def __init__(
        self,
        *,
        cra: CreditReferencePort,
        sessions: sessionmaker,
        clock: Clock,
        audit: CraAuditTrail | None = None,
        assessment_parameters: assessment.AssessmentParameters = assessment.DEFAULTS,
    ):
        self._cra, self._sessions, self._clock = cra, sessions, clock
        self._audit = audit or CraAuditTrail(sessions, clock)
        self._params = assessment_parameters

    def _record(
        self,
        request: SearchRequest | SurveillanceRequest | api.GetCaseSurveillanceRequest,
        nino: str,
        outcome: str,
    ) -> None:
        self._audit.record(
            file_reference=self._cra.file_reference(nino),
            basis=request.legal_basis,
            outcome=outcome,
        )

    # -- searches ----------------------------------------------------------------------------------------------------

    def _search(self, request: SearchRequest) -> tuple[SearchOutcome, common.MatchResult, dt.date]:
        search = search_of(request)  # only a well-formed request reaches the agency
        on = self._clock.today()
        outcome = self._cra.search(search, on=on)
        match = match_of(outcome)
        self._record(request, search.nino, outcome_name(match))
        return outcome, match, on

    def TracePerson(
        self, request: api.TracePersonRequest, context: grpc.ServicerContext
    ) -> api.TracePersonResponse:
        outcome, match, on = self._search(request)
        out = api.TracePersonResponse(match=match, search_reference=outcome.search_reference)
        if outcome.file is None:
            return out
        f = outcome.file
        last_known = request.last_known_address if request.HasField("last_known_address") else None
        addresses, confirmed = assessment.trace_addresses(
            f, on=on, last_known=last_known, params=self._params
        )
        out.addresses.extend(addresses)
        out.aliases.extend(f.aliases)
        if f.date_of_death.year:
            out.date_of_death.CopyFrom(f.date_of_death)
        out.last_known_address_confirmed = confirmed
        return out

    def GetCreditScore(
        self, request: api.GetCreditScoreRequest, context: grpc.ServicerContext
    ) -> api.GetCreditScoreResponse:
        outcome, match, on = self._search(request)
        out = api.GetCreditScoreResponse(match=match, search_reference=outcome.search_reference)
        if outcome.file is None:
            return out
        score, band, attributes, reasons = assessment.credit_score(
            outcome.file, on=on, params=self._params
        )
        out.score, out.band = score, band
        out.attributes.CopyFrom(attributes)
        out.reason_codes.extend(reasons)
        return out

    def GetFinancialDataAtArrears(
        self, request: api.GetFinancialDataAtArrearsRequest, context: grpc.ServicerContext
    ) -> api.GetFinancialDataAtArrearsResponse:
        outcome, match, on = self._search(request)
        out = api.GetFinancialDataAtArrearsResponse(
            match=match, search_reference=outcome.search_reference
        )
        if outcome.file is None:
            return out
        accounts, employments = assessment.arrears_leads(outcome.file, on=on, params=self._params)
        out.account_leads.extend(accounts)
        out.employment_leads.extend(employments)
        out.cautions.extend(assessment.cautions(outcome.file, on=on, params=self._params))
        return out

    def GetFinancialDataEnforcement(
        self, request: api.GetFinancialDataEnforcementRequest, context: grpc.ServicerContext
    ) -> api.GetFinancialDataEnforcementResponse:
        outcome, match, on = self._search(request)
        out = api.GetFinancialDataEnforcementResponse(
            match=match, search_reference=outcome.search_reference
        )
        f = outcome.file
        if f is None:
            return out
        accounts, employments, properties = assessment.enforcement_leads(
            f, on=on, params=self._params
        )
        out.account_leads.extend(accounts)
        out.employment_leads.extend(employments)
        out.property_leads.extend(properties)
        out.credit_accounts.extend(
            f.credit_accounts
        )  # the file already holds only the last six years
        out.public_records.extend(f.public_records)
        out.financial_associates.extend(f.financial_associates)
        out.fraud_markers.extend(assessment.unexpired_fraud_markers(f, on=on))
        out.cautions.extend(assessment.cautions(f, on=on, params=self._params))
        return out

    # -- case surveillance -------------------------------------------------------------------------------------------

    def _surveillance_nino(self, surveillance_id: str) -> str:
        with self._sessions() as s:
            return surveillance.nino_of(s, surveillance_id=surveillance_id)

    def _mutate(
        self,
        method: str,
        request: SurveillanceRequest,
        execute: Callable[[Session], pb.CaseSurveillance],
        nino: str,
    ) -> pb.CaseSurveillance:
        """Once per request id; audited whether it succeeds (the method) or fails (the error)."""
        try:
            result = run_idempotent(
                self._sessions,
                method=method,
                request=request,
                response_type=pb.CaseSurveillance,
                clock=self._clock,
                execute=execute,
            )
        except Exception as exc:
            self._record(request, nino, type(exc).__name__.upper()[:40])
            raise
        self._record(request, nino or result.person.nino, method.upper()[:40])
        return result

    def StartCaseSurveillance(
        self, request: api.StartCaseSurveillanceRequest, context: grpc.ServicerContext
    ) -> pb.CaseSurveillance:
        nino = normalise_nino(request.person.nino)
        # Read before the transaction: the agency is another system (a retry reads again; only the first is kept).
        current = self._cra.register_monitoring(nino, on=self._clock.today())
        return self._mutate(
            "StartCaseSurveillance",
            request,
            lambda s: surveillance.start(s, request=request, file=current, clock=self._clock),
            nino,
        )

    def RescheduleCaseSurveillanceReview(
        self, request: api.RescheduleCaseSurveillanceReviewRequest, context: grpc.ServicerContext
    ) -> pb.CaseSurveillance:
        nino = self._surveillance_nino(request.surveillance_id)
        self._cra.amend_monitoring(nino)
        return self._mutate(
            "RescheduleCaseSurveillanceReview",
            request,
            lambda s: surveillance.reschedule(s, request=request, clock=self._clock),
            nino,
        )

    def StopCaseSurveillance(
        self, request: api.StopCaseSurveillanceRequest, context: grpc.ServicerContext
    ) -> pb.CaseSurveillance:
        nino = self._surveillance_nino(request.surveillance_id)
        self._cra.amend_monitoring(nino)
        return self._mutate(
            "StopCaseSurveillance",
            request,
            lambda s: surveillance_flows.stop(s, request=request, clock=self._clock),
            nino,
        )

    def GetCaseSurveillance(
        self, request: api.GetCaseSurveillanceRequest, context: grpc.ServicerContext
    ) -> pb.CaseSurveillance:
        with self._sessions() as s:
            found = surveillance.get(
                s,
                case_reference=request.legal_basis.case_reference,
                surveillance_id=request.surveillance_id,
            )
        self._record(request, found.person.nino, "READ")
        return found

    def ListCaseSurveillances(
        self, request: api.ListCaseSurveillancesRequest, context: grpc.ServicerContext
    ) -> api.ListCaseSurveillancesResponse:
        with self._sessions() as s:
            found, next_page = surveillance.list_for_case(
                s,
                case_reference=request.legal_basis.case_reference,
                show_stopped=request.show_stopped,
                page_size=request.page_size,
                page_token=request.page_token,
            )
        return api.ListCaseSurveillancesResponse(
            case_surveillances=found, next_page_token=next_page
        )

    def ListSurveillanceAlerts(
        self, request: api.ListSurveillanceAlertsRequest, context: grpc.ServicerContext
    ) -> api.ListSurveillanceAlertsResponse:
        with self._sessions() as s:
            found, next_page = surveillance.list_alerts(
                s,
                case_reference=request.legal_basis.case_reference,
                surveillance_id=request.surveillance_id,
                page_size=request.page_size,
                page_token=request.page_token,
            )
        return api.ListSurveillanceAlertsResponse(
            surveillance_alerts=found, next_page_token=next_page
        )
