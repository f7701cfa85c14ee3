from typing import ClassVar

from cms_platform.settings import prefixed
from cms_simulation.settings import SimulatorSettings


class HmrcGatewaySettings(SimulatorSettings):
    model_config = prefixed("HMRC_GATEWAY_")
    service_name: ClassVar[str] = "hmrc-gateway"
    default_grpc_port: ClassVar[int] = 50053

    # How often the feed scheduler checks interests against the clock (0: never; tests call it directly).
    feed_check_interval_seconds: float = 30.0
