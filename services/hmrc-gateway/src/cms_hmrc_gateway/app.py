"""The hmrc-gateway process."""

from __future__ import annotations

from pathlib import Path

from cms.hmrc.v1 import (
    hmrc_scenario_service_pb2,
    hmrc_scenario_service_pb2_grpc,
    hmrc_service_pb2,
    hmrc_service_pb2_grpc,
)
from cms_platform.server import ServiceRegistration
from cms_platform.service import CmsService
from cms_platform.service import main as run_main
from cms_simulation.behaviour import behaviour_from
from cms_simulation.population import Population

from .audit import audit_trail
from .feeds import feed_scheduler
from .interests import TOPIC
from .servicer import HmrcGatewayServicer
from .settings import HmrcGatewaySettings
from .simulator.adapter import SimulatedHmrc
from .simulator.service import Overrides
from .simulator.servicer import HmrcScenarioServicer


class HmrcGatewayService(CmsService):
    name = "hmrc-gateway"
    settings_class = HmrcGatewaySettings
    topics = (TOPIC,)
    migrations_dir = Path(__file__).parent / "migrations"

    def __init__(self, settings: HmrcGatewaySettings, **kw):
        super().__init__(settings, **kw)
        self.population = Population(size=settings.population_size, seed=settings.population_seed)
        self.overrides = Overrides(self.sessions)
        self.hmrc = SimulatedHmrc(self.population, self.overrides)
        self.feeds = feed_scheduler(
            sessions=self.sessions,
            hmrc=self.hmrc,
            clock=self.clock,
            interval_seconds=settings.feed_check_interval_seconds,
        )

    def registrations(self) -> list[ServiceRegistration]:
        s = self.settings
        behaviour = behaviour_from(s, self.clock, "HMRC")
        gateway = hmrc_service_pb2.DESCRIPTOR.services_by_name["HmrcGatewayService"].full_name
        out = [
            ServiceRegistration(
                gateway,
                hmrc_service_pb2_grpc.add_HmrcGatewayServiceServicer_to_server,
                HmrcGatewayServicer(
                    hmrc=self.hmrc,
                    sessions=self.sessions,
                    clock=self.clock,
                    behaviour=behaviour,
                    audit=audit_trail(self.sessions, self.clock),
                ),
                # a bad child in the monthly run is that child's error, not the end of the run
                item_validated=frozenset({"RunMonthlyChildBenefitCheck"}),
            )
        ]
        if s.scenario_admin:
            scenario = hmrc_scenario_service_pb2.DESCRIPTOR.services_by_name[
                "HmrcScenarioService"
            ].full_name
            out.append(
                ServiceRegistration(
                    scenario,
                    hmrc_scenario_service_pb2_grpc.add_HmrcScenarioServiceServicer_to_server,
                    HmrcScenarioServicer(
                        hmrc=self.hmrc,
                        sessions=self.sessions,
                        clock=self.clock,
                        overrides=self.overrides,
                    ),
                )
            )
        return out

    def start(self, *, migrate: bool = True) -> int:
        port = super().start(migrate=migrate)
        self.feeds.start()
        return port

    def stop(self) -> None:
        self.feeds.stop()
        super().stop()


def main(argv: list[str] | None = None) -> int:
    return run_main(HmrcGatewayService, argv)
