"""The dwp-gateway process."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cms.dwp.v1 import (
    dwp_scenario_service_pb2,
    dwp_scenario_service_pb2_grpc,
    dwp_service_pb2,
    dwp_service_pb2_grpc,
)
from cms_platform.consumer import Subscription
from cms_platform.population import Population
from cms_platform.server import ServiceRegistration
from cms_platform.service import CmsService
from cms_platform.service import main as run_main

from . import deduction_rules, notices
from .cis import TOPIC, AwardStore
from .scenario_servicer import DwpScenarioServicer
from .servicer import DwpGatewayServicer
from .settings import DwpGatewaySettings
from .simulator import SimulatedCis


class DwpGatewayService(CmsService):
    name = "dwp-gateway"
    settings_class = DwpGatewaySettings
    topics = (TOPIC,)
    migrations_dir = Path(__file__).parent / "migrations"

    def __init__(self, settings: DwpGatewaySettings, **kw):
        super().__init__(settings, **kw)
        self.cis = SimulatedCis(Population(size=settings.population_size, seed=settings.population_seed),
                                AwardStore(self.sessions))

    def registrations(self) -> list[ServiceRegistration]:
        full_name = dwp_service_pb2.DESCRIPTOR.services_by_name["DwpGatewayService"].full_name
        s = self.settings
        params = deduction_rules.DeductionParameters(
            universal_credit_deductions_with_earnings=s.universal_credit_deductions_with_earnings)
        out = [ServiceRegistration(full_name, dwp_service_pb2_grpc.add_DwpGatewayServiceServicer_to_server,
                                   DwpGatewayServicer(cis=self.cis, clock=self.clock, sessions=self.sessions,
                                                      deduction_parameters=params,
                                                      decision_delay=dt.timedelta(hours=s.jcp_decision_delay_hours)))]
        if self.settings.scenario_admin:
            scenario = dwp_scenario_service_pb2.DESCRIPTOR.services_by_name["DwpScenarioService"].full_name
            out.append(ServiceRegistration(scenario, dwp_scenario_service_pb2_grpc.add_DwpScenarioServiceServicer_to_server,
                                           DwpScenarioServicer(cis_view=self.cis, sessions=self.sessions,
                                                               clock=self.clock, deduction_parameters=params)))
        return out

    def subscriptions(self) -> list[Subscription]:
        return [notices.subscription(self.clock)]


def main(argv: list[str] | None = None) -> int:
    return run_main(DwpGatewayService, argv)
