"""cra-gateway's own settings (env prefix CRA_GATEWAY_): the case surveillance checks and thresholds. The simulated
agency's settings are added in simulator/settings.py."""

from typing import ClassVar

from cms_platform.settings import ServiceSettings, prefixed


class CraGatewaySettings(ServiceSettings):
    model_config = prefixed("CRA_GATEWAY_")
    service_name: ClassVar[str] = "cra-gateway"
    default_grpc_port: ClassVar[int] = 50055
    # How often case surveillances are checked at the clock's date (agencies send monitoring alerts daily; a shorter
    # interval notices a moved clock soon). 0 turns the scheduler off (RunSurveillanceChecks still works).
    surveillance_check_interval_seconds: float = 60.0
    # A current account's average monthly credit turnover this far above its baseline raises an alert [D].
    surveillance_turnover_increase_percent: int = 25
    surveillance_turnover_increase_minimum_pence: int = 200_00
