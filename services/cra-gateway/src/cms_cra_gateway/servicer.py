"""Thin gRPC adapter over the credit reference port."""

from __future__ import annotations

from cms.cra.v1 import cra_service_pb2 as api
from cms.cra.v1 import cra_service_pb2_grpc as api_grpc
from cms_platform.convert import full_date, match_result

from .port import CreditReferencePort


class CraGatewayServicer(api_grpc.CraGatewayServiceServicer):
    def __init__(self, *, cra: CreditReferencePort):
        self._cra = cra

    def TracePerson(self, request: api.TracePersonRequest, context) -> api.TracePersonResponse:
        p = request.person
        r = self._cra.trace(case_reference=request.legal_basis.case_reference, nino=p.nino,
                            forenames=p.name.forenames, surname=p.name.surname,
                            date_of_birth=full_date(p.date_of_birth, "person.date_of_birth"))
        return api.TracePersonResponse(match=match_result(found=r.found, failed_rules=r.failed_rules))
