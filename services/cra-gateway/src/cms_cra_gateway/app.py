"""The cra-gateway process: the simulated agency behind the port, the gateway and scenario APIs (the legal gateway
guarding the first), and the periodic surveillance pass."""

from __future__ import annotations

from pathlib import Path

from cms.cra.v1 import (
    cra_scenario_service_pb2,
    cra_scenario_service_pb2_grpc,
    cra_service_pb2,
    cra_service_pb2_grpc,
)
from cms.cra.v1 import events_pb2 as ev
from cms_platform import events
from cms_platform.clock import Clock
from cms_platform.server import ServiceRegistration
from cms_platform.service import CmsService
from cms_platform.service import main as run_main

from .audit import CraAuditTrail
from .legal_gateway import require_legal_basis
from .servicer import CraGatewayServicer
from .simulator.adapter import SimulatedCra
from .simulator.servicer import CraScenarioServicer
from .simulator.settings import CraGatewaySimulatorSettings
from .surveillance.periodic import surveillance_scheduler
from .surveillance.rules import SurveillanceParameters


class CraGatewayService(CmsService):
    name = "cra-gateway"
    settings_class = CraGatewaySimulatorSettings
    topics = (events.topic_of(ev.CaseSurveillanceAlertRaised),)
    migrations_dir = Path(__file__).parent / "migrations"

    def __init__(self, settings: CraGatewaySimulatorSettings, *, clock: Clock | None = None):
        super().__init__(settings, clock=clock)
        self.scenario_admin = settings.scenario_admin
        self.cra = SimulatedCra.from_settings(settings, sessions=self.sessions, clock=self.clock)
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
                    audit=CraAuditTrail(self.sessions, self.clock),
                ),
                guard=require_legal_basis,
            )
        ]
        if self.scenario_admin:
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
