"""The cra-gateway process."""

from __future__ import annotations

from pathlib import Path

from cms.cra.v1 import cra_service_pb2, cra_service_pb2_grpc
from cms_platform.population import Population
from cms_platform.server import ServiceRegistration
from cms_platform.service import CmsService
from cms_platform.service import main as run_main

from .legal_gateway import require_legal_basis
from .servicer import CraGatewayServicer
from .settings import CraGatewaySettings
from .simulator import SimulatedCra

TOPIC = "cms.cra.events.v1"


class CraGatewayService(CmsService):
    name = "cra-gateway"
    settings_class = CraGatewaySettings
    topics = (TOPIC,)
    migrations_dir = Path(__file__).parent / "migrations"

    def registrations(self) -> list[ServiceRegistration]:
        full_name = cra_service_pb2.DESCRIPTOR.services_by_name["CraGatewayService"].full_name
        population = Population(size=self.settings.population_size, seed=self.settings.population_seed)
        return [ServiceRegistration(full_name, cra_service_pb2_grpc.add_CraGatewayServiceServicer_to_server,
                                    CraGatewayServicer(cra=SimulatedCra(population)), guard=require_legal_basis)]


def main(argv: list[str] | None = None) -> int:
    return run_main(CraGatewayService, argv)
