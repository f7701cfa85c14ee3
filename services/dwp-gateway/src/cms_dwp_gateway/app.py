"""The dwp-gateway process: its settings, the simulated CIS and Jobcentre Plus behind the DWP port, the two APIs
(DwpGatewayService, and DwpScenarioService unless switched off), the topic it publishes and the CaseCalculated
subscription that drives JCP's automated route."""

from __future__ import annotations

import functools
from pathlib import Path

from cms.casework.v1 import events_pb2 as casework_events
from cms.dwp.v1 import (
    dwp_scenario_service_pb2,
    dwp_scenario_service_pb2_grpc,
    dwp_service_pb2,
    dwp_service_pb2_grpc,
)
from cms.dwp.v1 import events_pb2 as dwp_events
from cms_platform.clock import Clock
from cms_platform.consumer import Subscription
from cms_platform.events import topic_of
from cms_platform.server import ServiceRegistration
from cms_platform.service import CmsService
from cms_platform.service import main as run_main

from . import audit
from .deductions import flows as automated
from .deductions.rules import DeductionParameters
from .servicer import DwpGatewayServicer
from .simulator.adapter import simulated_dwp
from .simulator.servicer import DwpScenarioServicer
from .simulator.settings import SimulatedDwpGatewaySettings


class DwpGatewayService(CmsService):
    name = "dwp-gateway"
    settings_class = SimulatedDwpGatewaySettings
    topics = (topic_of(dwp_events.BenefitInformationChanged),)
    migrations_dir = Path(__file__).parent / "migrations"
    settings: SimulatedDwpGatewaySettings

    def __init__(self, settings: SimulatedDwpGatewaySettings, *, clock: Clock | None = None):
        super().__init__(settings, clock=clock)
        self.deduction_parameters = DeductionParameters(
            universal_credit_deductions_with_earnings=settings.universal_credit_deductions_with_earnings
        )
        self.cis, self.jcp, self.simulation = simulated_dwp(
            settings, clock=self.clock, sessions=self.sessions, params=self.deduction_parameters
        )

    def registrations(self) -> list[ServiceRegistration]:
        out = [
            ServiceRegistration(
                dwp_service_pb2.DESCRIPTOR.services_by_name["DwpGatewayService"].full_name,
                dwp_service_pb2_grpc.add_DwpGatewayServiceServicer_to_server,
                DwpGatewayServicer(
                    cis=self.cis,
                    jcp=self.jcp,
                    clock=self.clock,
                    sessions=self.sessions,
                    audit=audit.trail(self.sessions, self.clock),
                    deduction_parameters=self.deduction_parameters,
                ),
            )
        ]
        if self.settings.scenario_admin:
            out.append(
                ServiceRegistration(
                    dwp_scenario_service_pb2.DESCRIPTOR.services_by_name[
                        "DwpScenarioService"
                    ].full_name,
                    dwp_scenario_service_pb2_grpc.add_DwpScenarioServiceServicer_to_server,
                    DwpScenarioServicer(
                        cis=self.cis,
                        jcp=self.jcp,
                        controls=self.simulation,
                        sessions=self.sessions,
                        clock=self.clock,
                    ),
                )
            )
        return out

    def subscriptions(self) -> list[Subscription]:
        route = automated.AutomatedRoute(
            cis=self.cis, jcp=self.jcp, clock=self.clock, params=self.deduction_parameters
        )
        return [
            Subscription(
                self.settings.notices_consumer_group,
                {
                    casework_events.CaseCalculated: functools.partial(
                        automated.on_case_calculated, route=route
                    )
                },
            )
        ]


def main(argv: list[str] | None = None) -> int:
    return run_main(DwpGatewayService, argv)
