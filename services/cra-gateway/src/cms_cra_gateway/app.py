"""The cra-gateway process."""

from __future__ import annotations

from pathlib import Path

from cms.cra.v1 import (
    cra_scenario_service_pb2,
    cra_scenario_service_pb2_grpc,
    cra_service_pb2,
    cra_service_pb2_grpc,
)
from cms_platform.server import ServiceRegistration
from cms_platform.service import CmsService
from cms_platform.service import main as run_main
from cms_simulation.behaviour import behaviour_from
from cms_simulation.population import Population

from .legal_gateway import require_legal_basis
from .scenario_servicer import CraScenarioServicer
from .servicer import CraGatewayServicer, audit_trail
from .settings import CraGatewaySettings
from .simulator import SimulatedCra
from .surveillance import TOPIC, SurveillanceParameters, surveillance_scheduler


class CraGatewayService(CmsService):
    name = "cra-gateway"
    settings_class = CraGatewaySettings
    topics = (TOPIC,)
    migrations_dir = Path(__file__).parent / "migrations"

    def __init__(self, settings: CraGatewaySettings, **kw):
        super().__init__(settings, **kw)
        self.cra = SimulatedCra(
            Population(size=settings.population_size, seed=settings.population_seed),
            self.sessions,
            self.clock,
        )
        self.surveillance_parameters = SurveillanceParameters(
            turnover_increase_percent=settings.surveillance_turnover_increase_percent,
            turnover_increase_minimum_pence=settings.surveillance_turnover_increase_minimum_pence,
        )
        self.scheduler = surveillance_scheduler(
            sessions=self.sessions,
            cra=self.cra,
            clock=self.clock,
            interval_seconds=settings.surveillance_check_interval_seconds,
            params=self.surveillance_parameters,
        )

    def registrations(self) -> list[ServiceRegistration]:
        gateway = cra_service_pb2.DESCRIPTOR.services_by_name["CraGatewayService"].full_name
        out = [
            ServiceRegistration(
                gateway,
                cra_service_pb2_grpc.add_CraGatewayServiceServicer_to_server,
                CraGatewayServicer(
                    cra=self.cra,
                    sessions=self.sessions,
                    clock=self.clock,
                    behaviour=behaviour_from(
                        self.settings, self.clock, "the credit reference agency"
                    ),
                    audit=audit_trail(self.sessions, self.clock),
                    surveillance_parameters=self.surveillance_parameters,
                ),
                guard=require_legal_basis,
            )
        ]
        if self.settings.scenario_admin:
            scenario = cra_scenario_service_pb2.DESCRIPTOR.services_by_name[
                "CraScenarioService"
            ].full_name
            out.append(
                ServiceRegistration(
                    scenario,
                    cra_scenario_service_pb2_grpc.add_CraScenarioServiceServicer_to_server,
                    CraScenarioServicer(
                        cra=self.cra,
                        sessions=self.sessions,
                        clock=self.clock,
                        surveillance_parameters=self.surveillance_parameters,
                    ),
                )
            )
        return out

    def start(self, *, migrate: bool = True) -> int:
        port = super().start(migrate=migrate)
        self.scheduler.start()
        return port

    def stop(self) -> None:
        self.scheduler.stop()
        super().stop()


def main(argv: list[str] | None = None) -> int:
    return run_main(CraGatewayService, argv)
