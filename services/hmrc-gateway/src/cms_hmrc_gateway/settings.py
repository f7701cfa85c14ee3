from typing import ClassVar

from cms_platform.settings import ServiceSettings, prefixed


class HmrcGatewaySettings(ServiceSettings):
    model_config = prefixed("HMRC_GATEWAY_")
    service_name: ClassVar[str] = "hmrc-gateway"
    default_grpc_port: ClassVar[int] = 50053

