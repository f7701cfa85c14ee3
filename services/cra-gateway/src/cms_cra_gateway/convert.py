"""Contract messages ↔ the port's types: a search request as the port's Search, a search outcome as the contract's
MatchResult and as the outcome an audit row records."""

from __future__ import annotations

from cms.common.v1 import types_pb2 as common
from cms.cra.v1 import cra_service_pb2 as api
from cms_platform.convert import date_or_violation, match_result
from cms_platform.errors import ViolationCollector
from cms_platform.identifiers import normalise_nino, valid_nino

from .port import Search, SearchOutcome

SearchRequest = (
    api.TracePersonRequest
    | api.GetCreditScoreRequest
    | api.GetFinancialDataAtArrearsRequest
    | api.GetFinancialDataEnforcementRequest
)


def search_of(request: SearchRequest) -> Search:
    """The search a request asks for; INVALID_ARGUMENT naming every bad field of the person sought."""
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
    assert born is not None  # required: a missing date is a violation above
    return Search(
        case_reference=request.legal_basis.case_reference,
        purpose=request.legal_basis.purpose,
        nino=nino,
        forenames=p.name.forenames,
        surname=p.name.surname,
        date_of_birth=born,
    )


def match_of(outcome: SearchOutcome) -> common.MatchResult:
    return match_result(found=outcome.found, failed_rules=outcome.failed_rules)


def outcome_name(match: common.MatchResult) -> str:
    """MATCHED, PARTIAL or NOT_FOUND, as the audit trail records a search."""
    return common.MatchOutcome.Name(match.outcome).removeprefix("MATCH_OUTCOME_")
