import datetime as dt
from typing import ClassVar

from pydantic import model_validator

from cms_platform.population import DEFAULT_SEED, DEFAULT_SIZE
from cms_platform.settings import ServiceSettings, prefixed


class HmrcGatewaySettings(ServiceSettings):
    model_config = prefixed("HMRC_GATEWAY_")
    service_name: ClassVar[str] = "hmrc-gateway"
    default_grpc_port: ClassVar[int] = 50053

    # The synthetic population every gateway shares: same size and seed everywhere, so they agree on people.
    population_size: int = DEFAULT_SIZE
    population_seed: int = DEFAULT_SEED
    # The scenario admin service (UpsertPerson, ApplyLifeEvent). Unset: on, except in production, where it
    # cannot be switched on.
    scenario_admin_enabled: bool | None = None
    # How often the feed scheduler checks interests against the clock (0: never; tests call it directly).
    feed_check_interval_seconds: float = 30.0
    # HMRC's behaviour (interfaces.md §1.8, §4); all off by default.
    throttle_requests_per_second: float = 0.0  # the real platform: 3 per application
    throttle_burst: float = 10.0
    maintenance_windows: list[tuple[dt.datetime, dt.datetime]] = []
    outage_probability: float = 0.0
    latency_p50_ms: float = 0.0  # the realistic profile: 300

    @model_validator(mode="after")
    def _no_scenarios_in_production(self):
        if self.environment == "production" and self.scenario_admin_enabled:
            raise ValueError("the scenario admin service must be off in production "
                             "(HMRC_GATEWAY_SCENARIO_ADMIN_ENABLED=false)")
        return self

    @property
    def scenario_admin(self) -> bool:
        return self.scenario_admin_enabled if self.scenario_admin_enabled is not None else (
            self.environment != "production")
