from typing import ClassVar

from cms_platform.settings import ServiceSettings, prefixed


class CalculationSettings(ServiceSettings):
    model_config = prefixed("CALCULATION_")
    service_name: ClassVar[str] = "calculation"
    default_grpc_port: ClassVar[int] = 50051
