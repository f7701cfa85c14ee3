"""Settings of a gateway that simulates an external system: the synthetic population it serves, how the simulated
system behaves (cms_simulation.behaviour) and its scenario admin service (test-data control)."""

from __future__ import annotations

import datetime as dt
from typing import Self

from pydantic import model_validator

from cms_platform.settings import ServiceSettings

from .population import DEFAULT_SEED, DEFAULT_SIZE


class SimulatorSettings(ServiceSettings):
    """Settings of a gateway that simulates an external system: its scenario admin service (test-data control)."""

    # Unset: on, except in production, where it cannot be switched on.
    scenario_admin_enabled: bool | None = None
    # The synthetic population the gateways share: the same size and seed everywhere, so they agree on people.
    population_size: int = DEFAULT_SIZE
    population_seed: int = DEFAULT_SEED
    # How the simulated system behaves (cms_simulation.behaviour); all off by default. Realistic values: HMRC
    # throttles at 3 requests a second per application; p50 latency 300 ms.
    throttle_requests_per_second: float = 0.0
    throttle_burst: float = 10.0
    maintenance_windows: list[tuple[dt.datetime, dt.datetime]] = []
    outage_probability: float = 0.0
    latency_p50_ms: float = 0.0

    @model_validator(mode="after")
    def _no_scenarios_in_production(self) -> Self:
        if self.environment == "production" and self.scenario_admin_enabled:
            prefix = self.model_config.get("env_prefix", "")
            raise ValueError(
                f"the scenario admin service must be off in production ({prefix}SCENARIO_ADMIN_ENABLED=false)"
            )
        return self

    @property
    def scenario_admin(self) -> bool:
        if self.scenario_admin_enabled is not None:
            return self.scenario_admin_enabled
        return self.environment != "production"
