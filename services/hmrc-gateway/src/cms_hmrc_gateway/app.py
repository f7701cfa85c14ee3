"""The hmrc-gateway process: HmrcGatewayService wires the HMRC port (here the simulated HMRC), the gRPC API, the
scenario admin service when enabled, and the feed scheduler."""

from __future__ import annotations

from pathlib import Path

import structlog

from cms.hmrc.v1 import events_pb2 as ev
from cms.hmrc.v1 import (
    hmrc_scenario_service_pb2,
    hmrc_scenario_service_pb2_grpc,
    hmrc_service_pb2,
    hmrc_service_pb2_grpc,
)
from cms_platform import events
from cms_platform.clock import Clock
from cms_platform.scheduling import PeriodicJob
from cms_platform.server import ServiceRegistration
from cms_platform.service import CmsService
from cms_platform.service import main as run_main

from .audit import audit_trail
from .interests import flows as interests
from .servicer import HmrcGatewayServicer
from .simulator.adapter import SimulatedHmrc
from .simulator.service import Overrides
from .simulator.servicer import HmrcScenarioServicer
from .simulator.settings import SimulatedHmrcSettings

log = structlog.get_logger(__name__)


class HmrcGatewayService(CmsService):
    name = "hmrc-gateway"
    settings_class = SimulatedHmrcSettings
    topics = (events.topic_of(ev.AnnualIncomeUpdated),)
    migrations_dir = Path(__file__).parent / "migrations"
    settings: SimulatedHmrcSettings

    def __init__(self, settings: SimulatedHmrcSettings, *, clock: Clock | None = None):
        super().__init__(settings, clock=clock)
        self.overrides = Overrides(self.sessions)
        # The HMRC port (enquiries and feeds): the simulated HMRC over the shared population.
        self.hmrc = SimulatedHmrc.from_settings(
            settings, clock=self.clock, overrides=self.overrides, overrides_of=self.overrides.many
        )
        self.feeds = PeriodicJob("hmrc-feeds", settings.feed_check_interval_seconds, self.run_feeds)

    def run_feeds(self) -> int:
        """One feed pass over every active interest (what the scheduler runs); the events queued."""
        n = interests.run_due(sessions=self.sessions, hmrc=self.hmrc, clock=self.clock)
        if n:
            log.info("feed events queued", events=n)
        return n

    def registrations(self) -> list[ServiceRegistration]:
        gateway = hmrc_service_pb2.DESCRIPTOR.services_by_name["HmrcGatewayService"].full_name
        out = [
            ServiceRegistration(
                gateway,
                hmrc_service_pb2_grpc.add_HmrcGatewayServiceServicer_to_server,
                HmrcGatewayServicer(
                    hmrc=self.hmrc,
                    feeds=self.hmrc,
                    sessions=self.sessions,
                    clock=self.clock,
                    audit=audit_trail(self.sessions, self.clock),
                ),
                # a bad child in the monthly run is that child's error, not the end of the run
                item_validated=frozenset({"RunMonthlyChildBenefitCheck"}),
            )
        ]
        if self.settings.scenario_admin:
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
