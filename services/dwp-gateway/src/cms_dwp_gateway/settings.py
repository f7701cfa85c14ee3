from typing import ClassVar

from cms_platform.settings import ServiceSettings, prefixed


class DwpGatewaySettings(ServiceSettings):
    model_config = prefixed("DWP_GATEWAY_")
    service_name: ClassVar[str] = "dwp-gateway"
    default_grpc_port: ClassVar[int] = 50054
