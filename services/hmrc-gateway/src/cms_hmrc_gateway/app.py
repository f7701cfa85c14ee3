"""The hmrc-gateway process."""

from __future__ import annotations

from pathlib import Path

from cms.hmrc.v1 import hmrc_service_pb2, hmrc_service_pb2_grpc
from cms_platform.population import Population
from cms_platform.server import ServiceRegistration
from cms_platform.service import CmsService
from cms_platform.service import main as run_main

from .servicer import HmrcGatewayServicer
from .settings import HmrcGatewaySettings
from .simulator import SimulatedHmrc

TOPIC = "cms.hmrc.events.v1"


class HmrcGatewayService(CmsService):
    name = "hmrc-gateway"
    settings_class = HmrcGatewaySettings
    topics = (TOPIC,)
    migrations_dir = Path(__file__).parent / "migrations"

    def registrations(self) -> list[ServiceRegistration]:
        full_name = hmrc_service_pb2.DESCRIPTOR.services_by_name["HmrcGatewayService"].full_name
        return [ServiceRegistration(full_name, hmrc_service_pb2_grpc.add_HmrcGatewayServiceServicer_to_server,
                                    HmrcGatewayServicer(hmrc=SimulatedHmrc(Population())))]


def main(argv: list[str] | None = None) -> int:
    return run_main(HmrcGatewayService, argv)
