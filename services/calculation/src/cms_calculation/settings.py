"""The calculation service's settings (environment prefix CALCULATION_): the reform's start date and the number of
bulk worker processes, on top of every service's own."""

import datetime as dt
from typing import ClassVar

from cms_platform.settings import ServiceSettings, prefixed


class CalculationSettings(ServiceSettings):
    model_config = prefixed("CALCULATION_")
    service_name: ClassVar[str] = "calculation"
    default_grpc_port: ClassVar[int] = 50051
    # The announced reform (Direct Pay removed; 2%/2%/20% fees) applies from this date. Unset: the reform rule
    # set is usable only by name in what-if runs, never by effective date.
    reform_start_date: dt.date | None = None
    # Worker processes for what-if bulk batches. Unset: one per CPU the pod may use (none on a single CPU);
    # 0: calculate in the service process.
    bulk_workers: int | None = None
