"""The casework process."""

from __future__ import annotations

from pathlib import Path

from cms.casework.v1 import casework_service_pb2, casework_service_pb2_grpc
from cms_platform.server import ServiceRegistration
from cms_platform.service import CmsService
from cms_platform.service import main as run_main

from . import downstream
from .cases.service import TOPIC
from .cases.servicer import CaseworkServicer
from .settings import CaseworkSettings


class CaseworkService(CmsService):
    name = "casework"
    settings_class = CaseworkSettings
    topics = (TOPIC,)
    migrations_dir = Path(__file__).parent / "migrations"

    def __init__(self, settings: CaseworkSettings, **kw):
        super().__init__(settings, **kw)
        self.downstream = downstream.connect(calculation_address=settings.calculation_address,
                                             hmrc_address=settings.hmrc_gateway_address, tokens=self.tokens,
                                             deadline=settings.downstream_deadline_seconds)

    def registrations(self) -> list[ServiceRegistration]:
        full_name = casework_service_pb2.DESCRIPTOR.services_by_name["CaseworkService"].full_name
        return [ServiceRegistration(full_name, casework_service_pb2_grpc.add_CaseworkServiceServicer_to_server,
                                    CaseworkServicer(sessions=self.sessions, clock=self.clock,
                                                     downstream=self.downstream,
                                                     deadline=self.settings.downstream_deadline_seconds))]

    def close_clients(self) -> None:
        self.downstream.close()


def main(argv: list[str] | None = None) -> int:
    return run_main(CaseworkService, argv)
