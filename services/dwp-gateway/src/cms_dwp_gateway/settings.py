from typing import ClassVar

from cms_platform.settings import prefixed
from cms_simulation.settings import SimulatorSettings


class DwpGatewaySettings(SimulatorSettings):
    model_config = prefixed("DWP_GATEWAY_")
    service_name: ClassVar[str] = "dwp-gateway"
    default_grpc_port: ClassVar[int] = 50054

    # JCP decides automated and interface instructions in batch windows: this long after submission (0: at the
    # next batch run). Deductions from UC in a period with earnings are refused unless switched on (rules.md §9).
    jcp_decision_delay_hours: float = 0.0
    universal_credit_deductions_with_earnings: bool = False
    # The consumer group reading casework's CaseCalculated events; one per environment sharing a broker.
    notices_consumer_group: str = "dwp-gateway.case-calculated"
