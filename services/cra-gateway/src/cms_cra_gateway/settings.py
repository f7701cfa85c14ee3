from typing import ClassVar

from cms_platform.settings import SimulatorSettings, prefixed


class CraGatewaySettings(SimulatorSettings):
    model_config = prefixed("CRA_GATEWAY_")
    service_name: ClassVar[str] = "cra-gateway"
    default_grpc_port: ClassVar[int] = 50055
