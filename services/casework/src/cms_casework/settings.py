from typing import ClassVar

from cms_platform.settings import ServiceSettings, prefixed


class CaseworkSettings(ServiceSettings):
    model_config = prefixed("CASEWORK_")
    service_name: ClassVar[str] = "casework"
    default_grpc_port: ClassVar[int] = 50052

    calculation_address: str = "127.0.0.1:50051"
    hmrc_gateway_address: str = "127.0.0.1:50053"
    dwp_gateway_address: str = "127.0.0.1:50054"
    cra_gateway_address: str = "127.0.0.1:50055"
    # Deadline for a call to another service when our own caller left more time than this.
    downstream_deadline_seconds: float = 5.0
