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
from cms_platform.server import ServiceRegistration
from cms_platform.service import CmsService
from cms_platform.service import main as run_main
from cms_simulation.behaviour import behaviour_from
from cms_simulation.population import Population

from . import deduction_rules, deductions, notices
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
        self.deduction_parameters = deduction_rules.DeductionParameters(
            universal_credit_deductions_with_earnings=settings.universal_credit_deductions_with_earnings
        )
        self.decision_delay = dt.timedelta(hours=settings.jcp_decision_delay_hours)
        self.cis = SimulatedCis(
            Population(size=settings.population_size, seed=settings.population_seed),
            AwardStore(self.sessions),
        )

    def registrations(self) -> list[ServiceRegistration]:
        full_name = dwp_service_pb2.DESCRIPTOR.services_by_name["DwpGatewayService"].full_name
        params = self.deduction_parameters
        out = [
            ServiceRegistration(
                full_name,
                dwp_service_pb2_grpc.add_DwpGatewayServiceServicer_to_server,
                DwpGatewayServicer(
                    cis=self.cis,
                    clock=self.clock,
                    sessions=self.sessions,
                    deduction_parameters=params,
                    decision_delay=self.decision_delay,
                    behaviour=behaviour_from(
                        self.settings, self.clock, "CIS", "SERVICE_UNAVAILABLE"
                    ),
                ),
            )
        ]
        if self.settings.scenario_admin:
            scenario = dwp_scenario_service_pb2.DESCRIPTOR.services_by_name[
                "DwpScenarioService"
            ].full_name
            out.append(
                ServiceRegistration(
                    scenario,
                    dwp_scenario_service_pb2_grpc.add_DwpScenarioServiceServicer_to_server,
                    DwpScenarioServicer(
                        cis_view=self.cis,
                        sessions=self.sessions,
                        clock=self.clock,
                        deduction_parameters=params,
                    ),
                )
            )
        return out

    def subscriptions(self) -> list[Subscription]:
        def pick_up(session, calculated) -> None:
            deductions.pick_up_flat_rate(
                session,
                case_id=calculated.case_id,
                paying_parent_nino=calculated.paying_parent_nino,
                calculation_id=calculated.calculation,
                cis_view=self.cis,
                clock=self.clock,
                params=self.deduction_parameters,
                effective=dt.date(
                    calculated.effective_date.year,
                    calculated.effective_date.month,
                    calculated.effective_date.day,
                )
                if calculated.effective_date.year
                else self.clock.today(),
                decision_delay=self.decision_delay,
            )

        return [
            notices.subscription(self.clock, pick_up, group=self.settings.notices_consumer_group)
        ]


def main(argv: list[str] | None = None) -> int:
    return run_main(DwpGatewayService, argv)
