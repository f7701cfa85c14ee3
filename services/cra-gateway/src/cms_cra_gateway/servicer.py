"""Thin gRPC adapter over the credit reference port."""

from __future__ import annotations

import datetime as dt

from cms.common.v1 import types_pb2 as common
from cms.cra.v1 import cra_service_pb2 as api
from cms.cra.v1 import cra_service_pb2_grpc as api_grpc
from cms_platform.errors import InvalidArgument

from .port import CreditReferencePort


class CraGatewayServicer(api_grpc.CraGatewayServiceServicer):
    def __init__(self, *, cra: CreditReferencePort):
        self._cra = cra

    def TracePerson(self, request: api.TracePersonRequest, context) -> api.TracePersonResponse:
        p = request.person
        d = p.date_of_birth
        if not (d.year and d.month and d.day):
            raise InvalidArgument.field("person.date_of_birth", "must be a full date")
        r = self._cra.trace(case_reference=request.legal_basis.case_reference, nino=p.nino,
                            forenames=p.name.forenames, surname=p.name.surname,
                            date_of_birth=dt.date(d.year, d.month, d.day))
        if not r.found:
            outcome = common.MATCH_OUTCOME_NOT_FOUND
        elif r.failed_rules:
            outcome = common.MATCH_OUTCOME_PARTIAL
        else:
            outcome = common.MATCH_OUTCOME_MATCHED
        return api.TracePersonResponse(match=common.MatchResult(outcome=outcome, failed_rules=list(r.failed_rules)))
