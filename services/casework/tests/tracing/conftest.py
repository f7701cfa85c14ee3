"""What the tracing tests share: a TracingService client on the stack's casework, the gateways' scenario APIs to say
what the credit reference agency and HMRC hold about a person, and the money events of a case read back."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import grpc
import pytest

from cms.casework.v1 import tracing_service_pb2_grpc as tracing_grpc
from cms.common.v1 import types_pb2 as common
from cms.cra.v1 import cra_scenario_service_pb2 as cra_sc
from cms.cra.v1 import cra_scenario_service_pb2_grpc as cra_sc_grpc
from cms.cra.v1 import resources_pb2 as cra_pb
from cms.hmrc.v1 import hmrc_scenario_service_pb2 as hmrc_sc
from cms.hmrc.v1 import hmrc_scenario_service_pb2_grpc as hmrc_sc_grpc
from cms_devkit.testing import events_on

MONEY_TOPIC = "cms.casework.money.events.v1"


def rid() -> str:
    return str(uuid.uuid4())


@dataclass
class Tracing:
    stub: tracing_grpc.TracingServiceStub
    stack: object

    def call(self, method: str, request, *, as_=None, attempts: int = 3):
        return self.stack.call_on(  # type: ignore[attr-defined]
            self.stub, method, request, as_=as_, timeout=30, attempts=attempts
        )

    # -- what the gateways' simulated people hold (scenario admin) ---------------------------------------------------

    def _channel(self, service: str) -> grpc.Channel:
        port = self.stack.services[service].server.port  # type: ignore[attr-defined]
        return grpc.insecure_channel(f"127.0.0.1:{port}")

    @property
    def _admin(self):
        return self.stack.creds.staff("scenario-admin", "scenario_admin")  # type: ignore[attr-defined]

    def cra_scenarios(self, nino: str, *scenarios: int) -> None:
        with self._channel("cra") as channel:
            cra_sc_grpc.CraScenarioServiceStub(channel).ApplyCreditFileChange(
                cra_sc.ApplyCreditFileChangeRequest(
                    request_id=rid(),
                    nino=nino,
                    set_scenarios=cra_sc.SetScenarios(scenarios=list(scenarios)),
                ),
                metadata=self._admin,
                timeout=10,
            )

    def cra_add(self, nino: str, **change) -> str:
        with self._channel("cra") as channel:
            return (
                cra_sc_grpc.CraScenarioServiceStub(channel)
                .ApplyCreditFileChange(
                    cra_sc.ApplyCreditFileChangeRequest(request_id=rid(), nino=nino, **change),
                    metadata=self._admin,
                    timeout=10,
                )
                .created_id
            )

    def cra_footprints(self, nino: str) -> list[cra_pb.SearchFootprint]:
        with self._channel("cra") as channel:
            return list(
                cra_sc_grpc.CraScenarioServiceStub(channel)
                .ListSearchFootprints(
                    cra_sc.ListSearchFootprintsRequest(nino=nino, page_size=100),
                    metadata=self._admin,
                    timeout=10,
                )
                .search_footprints
            )

    def hmrc_holds_nothing(self, identity: common.PersonIdentity) -> None:
        """HMRC knows the person but holds no address and no employment for them."""
        with self._channel("hmrc") as channel:
            hmrc_sc_grpc.HmrcScenarioServiceStub(channel).UpsertPerson(
                hmrc_sc.UpsertPersonRequest(
                    request_id=rid(), person=hmrc_sc.SimulatedPerson(identity=identity)
                ),
                metadata=self._admin,
                timeout=10,
            )


@pytest.fixture
def tracing(stack):
    return Tracing(tracing_grpc.TracingServiceStub(stack.channel), stack)


def tracing_events(stack, case_name: str, kind: str, expected: int = 1) -> list:
    """The tracing events of one case (keyed by the case) of one CloudEvents type."""
    return events_on(
        stack.bootstrap, MONEY_TOPIC, f"uk.gov.cms.casework.tracing.{kind}.v1", case_name, expected
    )
