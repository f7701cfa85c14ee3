"""The dwp-gateway process."""

from __future__ import annotations

from pathlib import Path

from cms.dwp.v1 import dwp_service_pb2, dwp_service_pb2_grpc
from cms_platform.consumer import Subscription
from cms_platform.population import Population
from cms_platform.server import ServiceRegistration
from cms_platform.service import CmsService
from cms_platform.service import main as run_main

from . import notices
from .servicer import DwpGatewayServicer
from .settings import DwpGatewaySettings
from .simulator import SimulatedCis

TOPIC = "cms.dwp.events.v1"


class DwpGatewayService(CmsService):
    name = "dwp-gateway"
    settings_class = DwpGatewaySettings
    topics = (TOPIC,)
    migrations_dir = Path(__file__).parent / "migrations"

    def registrations(self) -> list[ServiceRegistration]:
        full_name = dwp_service_pb2.DESCRIPTOR.services_by_name["DwpGatewayService"].full_name
        return [ServiceRegistration(full_name, dwp_service_pb2_grpc.add_DwpGatewayServiceServicer_to_server,
                                    DwpGatewayServicer(cis=SimulatedCis(Population()), clock=self.clock))]

    def subscriptions(self) -> list[Subscription]:
        return [notices.subscription(self.clock)]


def main(argv: list[str] | None = None) -> int:
    return run_main(DwpGatewayService, argv)
