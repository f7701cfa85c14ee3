"""hmrc-gateway's settings (environment prefix HMRC_GATEWAY_): what the gateway needs whichever HMRC is behind
its port. The simulator's settings are added in simulator/settings.py."""

from __future__ import annotations

from typing import ClassVar

from cms_platform.settings import ServiceSettings, prefixed


class HmrcGatewaySettings(ServiceSettings):
    model_config = prefixed("HMRC_GATEWAY_")
    service_name: ClassVar[str] = "hmrc-gateway"
    default_grpc_port: ClassVar[int] = 50053

    # How often the feed scheduler checks interests against the clock (0: never; tests call it directly).
    feed_check_interval_seconds: float = 30.0
