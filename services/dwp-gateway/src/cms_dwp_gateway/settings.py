from typing import ClassVar

from cms_platform.settings import SimulatorSettings, prefixed


class DwpGatewaySettings(SimulatorSettings):
    model_config = prefixed("DWP_GATEWAY_")
    service_name: ClassVar[str] = "dwp-gateway"
    default_grpc_port: ClassVar[int] = 50054
