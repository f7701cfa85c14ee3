"""dwp-gateway's settings (env prefix DWP_GATEWAY_): what the gateway itself needs, whichever CIS and Jobcentre Plus
it talks to. The simulated systems add theirs in simulator/settings.py."""

from __future__ import annotations

from typing import ClassVar

from cms_platform.settings import ServiceSettings, prefixed


class DwpGatewaySettings(ServiceSettings):
    model_config = prefixed("DWP_GATEWAY_")
    service_name: ClassVar[str] = "dwp-gateway"
    default_grpc_port: ClassVar[int] = 50054

    # Deductions from UC in a period with earnings are refused unless switched on (docs/domain/money.md §9).
    universal_credit_deductions_with_earnings: bool = False
    # The consumer group reading casework's CaseCalculated events; one per environment sharing a broker.
    notices_consumer_group: str = "dwp-gateway.case-calculated"
