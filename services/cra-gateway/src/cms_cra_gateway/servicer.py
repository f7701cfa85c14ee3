"""Thin gRPC adapter: check the request, admit it to the agency, search through the port, rank what came back
(assessment.py), audit. The legal basis was already checked by the guard (legal_gateway.py) before this runs.

Nothing that identifies a person (NINO, name, address, account number) is logged: audit rows and any log line name
the file by its opaque reference."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import sessionmaker

from cms.common.v1 import types_pb2 as common
from cms.cra.v1 import cra_service_pb2 as api
from cms.cra.v1 import cra_service_pb2_grpc as api_grpc
from cms.cra.v1 import resources_pb2 as pb
from cms_platform.audit import AuditTrail
from cms_platform.clock import Clock
from cms_platform.convert import date_or_violation, match_result
from cms_platform.errors import ViolationCollector
from cms_platform.idempotency import run_idempotent
from cms_platform.identity import current_caller
from cms_simulation.behaviour import ExternalSystemBehaviour
from cms_simulation.population import normalise_nino, valid_nino

from . import surveillance
from .assessment import rules as assessment
from .legal_gateway import describe
from .models import AuditRecord, SurveillanceRecord
from .port import CreditReferencePort, Search, SearchOutcome

TRACE, SCORE, ARREARS, ENFORCEMENT, SURVEILLANCE = (
    "CRA Trace",
    "CRA Credit Score",
    "CRA Financial Data At Arrears",
    "CRA Financial Data Enforcement",
    "CRA Case Surveillance",
)


def audit_trail(sessions: sessionmaker, clock: Clock) -> AuditTrail:
    return AuditTrail(
        sessions, clock, lambda *, subject, **f: AuditRecord(file_reference=subject, **f)
    )


def _outcome(match: common.MatchResult) -> str:
    return common.MatchOutcome.Name(match.outcome).removeprefix("MATCH_OUTCOME_")


class CraGatewayServicer(api_grpc.CraGatewayServiceServicer):
    def __init__(
        self,
        *,
        cra: CreditReferencePort,
        sessions: sessionmaker,
        clock: Clock,
        behaviour: ExternalSystemBehaviour | None = None,
        audit: AuditTrail | None = None,
        assessment_parameters: assessment.AssessmentParameters = assessment.DEFAULTS,
        surveillance_parameters: surveillance.SurveillanceParameters = surveillance.DEFAULTS,
    ):
        self._cra, self._sessions, self._clock = cra, sessions, clock
        self._behaviour = behaviour or ExternalSystemBehaviour(
            clock=clock, system="the credit reference agency"
        )
        self._audit = audit or audit_trail(sessions, clock)
        self._params = assessment_parameters
        self._surveillance_params = surveillance_parameters

    def _admit(self) -> None:
        caller = current_caller()
        self._behaviour.admit(caller.subject if caller else "")

    def _record(self, interface: str, request, nino: str, outcome: str) -> None:
        basis = request.legal_basis
        self._audit.records(
            [(self._cra.file_reference(nino), basis.case_reference, "", outcome)],
            legal_basis=describe(basis.purpose),
            interface=interface,
        )

    # -- searches ----------------------------------------------------------------------------------------------------

    def _search(self, request, interface: str) -> tuple[SearchOutcome, common.MatchResult, dt.date]:
        v = ViolationCollector()
        p = request.person
        nino = normalise_nino(p.nino)
        if not valid_nino(nino):
            v.add(
                "person.nino",
                "is not a valid National Insurance number (two letters, six digits, A-D)",
            )
        born = date_or_violation(p.date_of_birth, "person.date_of_birth", v)
        v.raise_if_any()
        self._admit()  # only a well-formed request reaches the agency
        on = self._clock.today()
        outcome = self._cra.search(
            Search(
                case_reference=request.legal_basis.case_reference,
                purpose=request.legal_basis.purpose,
                nino=nino,
                forenames=p.name.forenames,
                surname=p.name.surname,
                date_of_birth=born,
            ),
            on=on,
        )
        match = match_result(found=outcome.found, failed_rules=outcome.failed_rules)
        self._record(interface, request, nino, _outcome(match))
        return outcome, match, on

    def TracePerson(self, request: api.TracePersonRequest, context) -> api.TracePersonResponse:
        outcome, match, on = self._search(request, TRACE)
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
        self, request: api.GetCreditScoreRequest, context
    ) -> api.GetCreditScoreResponse:
        outcome, match, on = self._search(request, SCORE)
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
        self, request: api.GetFinancialDataAtArrearsRequest, context
    ) -> api.GetFinancialDataAtArrearsResponse:
        outcome, match, on = self._search(request, ARREARS)
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
        self, request: api.GetFinancialDataEnforcementRequest, context
    ) -> api.GetFinancialDataEnforcementResponse:
        outcome, match, on = self._search(request, ENFORCEMENT)
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

    def _surveillance_nino(self, request) -> str:
        with self._sessions() as s:
            row = (
                s.get(SurveillanceRecord, request.surveillance_id)
                if surveillance.is_surveillance_id(request.surveillance_id)
                else None
            )
            return row.nino if row is not None else ""

    def _mutate(self, method: str, request, execute, nino: str) -> pb.CaseSurveillance:
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
            self._record(SURVEILLANCE, request, nino, type(exc).__name__.upper()[:40])
            raise
        self._record(SURVEILLANCE, request, nino or result.person.nino, method.upper()[:40])
        return result

    def StartCaseSurveillance(
        self, request: api.StartCaseSurveillanceRequest, context
    ) -> pb.CaseSurveillance:
        self._admit()
        nino = normalise_nino(request.person.nino)
        # Read before the transaction: the agency is another system (a retry reads again; only the first is kept).
        current = self._cra.monitor(nino, on=self._clock.today()) if valid_nino(nino) else None
        return self._mutate(
            "StartCaseSurveillance",
            request,
            lambda s: surveillance.start(s, request=request, file=current, clock=self._clock),
            nino,
        )

    def RescheduleCaseSurveillanceReview(
        self, request: api.RescheduleCaseSurveillanceReviewRequest, context
    ) -> pb.CaseSurveillance:
        self._admit()
        return self._mutate(
            "RescheduleCaseSurveillanceReview",
            request,
            lambda s: surveillance.reschedule(s, request=request, clock=self._clock),
            self._surveillance_nino(request),
        )

    def StopCaseSurveillance(
        self, request: api.StopCaseSurveillanceRequest, context
    ) -> pb.CaseSurveillance:
        self._admit()
        return self._mutate(
            "StopCaseSurveillance",
            request,
            lambda s: surveillance.stop(s, request=request, clock=self._clock),
            self._surveillance_nino(request),
        )

    def GetCaseSurveillance(
        self, request: api.GetCaseSurveillanceRequest, context
    ) -> pb.CaseSurveillance:
        with self._sessions() as s:
            found = surveillance.get(
                s,
                case_reference=request.legal_basis.case_reference,
                surveillance_id=request.surveillance_id,
            )
        self._record(SURVEILLANCE, request, found.person.nino, "READ")
        return found

    def ListCaseSurveillances(
        self, request: api.ListCaseSurveillancesRequest, context
    ) -> api.ListCaseSurveillancesResponse:
        with self._sessions() as s:
            return surveillance.list_for_case(s, request=request)

    def ListSurveillanceAlerts(
        self, request: api.ListSurveillanceAlertsRequest, context
    ) -> api.ListSurveillanceAlertsResponse:
        with self._sessions() as s:
            return surveillance.list_alerts(s, request=request)
