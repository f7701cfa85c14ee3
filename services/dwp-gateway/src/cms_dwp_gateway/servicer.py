"""Thin gRPC adapter over the CIS port."""

from __future__ import annotations

import datetime as dt

from cms.common.v1 import types_pb2 as common
from cms.dwp.v1 import dwp_service_pb2 as api
from cms.dwp.v1 import dwp_service_pb2_grpc as api_grpc
from cms_platform.errors import InvalidArgument

from .port import CisPort


class DwpGatewayServicer(api_grpc.DwpGatewayServiceServicer):
    def __init__(self, *, cis: CisPort):
        self._cis = cis

    def VerifyNino(self, request: api.VerifyNinoRequest, context) -> api.VerifyNinoResponse:
        p = request.person
        d = p.date_of_birth
        if not (d.year and d.month and d.day):
            raise InvalidArgument.field("person.date_of_birth", "must be a full date")
        v = self._cis.verify_nino(nino=p.nino, forenames=p.name.forenames, surname=p.name.surname,
                                  date_of_birth=dt.date(d.year, d.month, d.day))
        if not v.found:
            outcome = common.MATCH_OUTCOME_NOT_FOUND
        elif v.failed_rules:
            outcome = common.MATCH_OUTCOME_PARTIAL
        else:
            outcome = common.MATCH_OUTCOME_MATCHED
        return api.VerifyNinoResponse(match=common.MatchResult(outcome=outcome, failed_rules=list(v.failed_rules)),
                                      nino=v.nino)
