import datetime as dt
from typing import ClassVar

from cms_platform.settings import SimulatorSettings, prefixed


class HmrcGatewaySettings(SimulatorSettings):
    model_config = prefixed("HMRC_GATEWAY_")
    service_name: ClassVar[str] = "hmrc-gateway"
    default_grpc_port: ClassVar[int] = 50053

    # How often the feed scheduler checks interests against the clock (0: never; tests call it directly).
    feed_check_interval_seconds: float = 30.0
    # HMRC's behaviour (interfaces.md §1.8, §4); all off by default.
    throttle_requests_per_second: float = 0.0  # the real platform: 3 per application
    throttle_burst: float = 10.0
    maintenance_windows: list[tuple[dt.datetime, dt.datetime]] = []
    outage_probability: float = 0.0
    latency_p50_ms: float = 0.0  # the realistic profile: 300
