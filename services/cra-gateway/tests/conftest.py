"""cra-gateway through the real gRPC server (port 0), the real database and the real broker, over the shared
population's fixtures (Alex Turner AA123456A: PAYE at Harbour Logistics, 14 Victoria Road, Leeds LS6 1DL; Chidi
Okafor AC345678C: self-employed, partner of Dana Whitfield AE456789D). Business clock: 6 April 2026."""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.type import date_pb2

from cms.common.v1 import types_pb2 as common
from cms.cra.v1 import cra_scenario_service_pb2 as sc
from cms.cra.v1 import cra_scenario_service_pb2_grpc as sc_grpc
from cms.cra.v1 import cra_service_pb2_grpc as api_grpc
from cms.cra.v1 import resources_pb2 as pb
from cms_cra_gateway.app import CraGatewayService
from cms_platform.grpc_errors import details_of

ALEX = "AA123456A"
TOPIC = "cms.cra.events.v1"


def d(y, m, day):
    return date_pb2.Date(year=y, month=m, day=day)


def alex(**changes):
    values = dict(nino=ALEX, forenames="Alex", surname="Turner", dob=(1985, 3, 14))
    values.update(changes)
    return common.PersonIdentity(
        nino=values["nino"],
        name=common.PersonName(forenames=values["forenames"], surname=values["surname"]),
        date_of_birth=d(*values["dob"]),
    )


def basis(purpose=pb.SEARCH_PURPOSE_ENFORCEMENT, case="case-e1"):
    return pb.LegalBasis(case_reference=case, purpose=purpose)


class Gateway:
    def __init__(self, service, channel, creds):
        self.service = service
        self._gw, self._sc = (
            api_grpc.CraGatewayServiceStub(channel),
            sc_grpc.CraScenarioServiceStub(channel),
        )
        self._md = creds.staff("officer-7", "caseworker")
        # The scenario (test-data) service admits only the scenario_admin role.
        self._admin = creds.staff("scenario-admin", "scenario_admin")

    def __call__(self, method, request):
        if hasattr(self._gw, method):
            return getattr(self._gw, method)(request, metadata=self._md, timeout=15)
        return getattr(self._sc, method)(request, metadata=self._admin, timeout=15)

    def change(self, nino=ALEX, effective=None, **change):
        request = sc.ApplyCreditFileChangeRequest(request_id=str(uuid.uuid4()), nino=nino, **change)
        if effective:
            request.effective_date.CopyFrom(effective)
        return self("ApplyCreditFileChange", request)


@pytest.fixture
def cra(start_service, creds):
    service, channel = start_service(
        CraGatewayService, population_size=10_000, surveillance_check_interval_seconds=0
    )
    return Gateway(service, channel, creds)


def error_info(err):
    return details_of(err)["ErrorInfo"]


def code_of(call):
    with pytest.raises(grpc.RpcError) as err:
        call()
    return err.value
