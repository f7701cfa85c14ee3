"""Thin gRPC adapter over the CIS port."""

from __future__ import annotations

from cms.dwp.v1 import dwp_service_pb2 as api
from cms.dwp.v1 import dwp_service_pb2_grpc as api_grpc
from cms_platform.convert import full_date, match_result

from .port import CisPort


class DwpGatewayServicer(api_grpc.DwpGatewayServiceServicer):
    def __init__(self, *, cis: CisPort):
        self._cis = cis

    def VerifyNino(self, request: api.VerifyNinoRequest, context) -> api.VerifyNinoResponse:
        p = request.person
        v = self._cis.verify_nino(nino=p.nino, forenames=p.name.forenames, surname=p.name.surname,
                                  date_of_birth=full_date(p.date_of_birth, "person.date_of_birth"))
        return api.VerifyNinoResponse(match=match_result(found=v.found, failed_rules=v.failed_rules), nino=v.nino)
