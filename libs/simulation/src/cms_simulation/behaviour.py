"""How a simulated external system (HMRC, CIS/JCP, a CRA) behaves beyond its data (docs/domain/external-systems.md §1.8, §4):
throttling per calling application, maintenance windows, outages and latency. All configurable and off by default,
so tests choose what they exercise."""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cms_platform.clock import Clock
from cms_platform.errors import ResourceExhausted, Unavailable

if TYPE_CHECKING:
    from .settings import SimulatorSettings


@dataclass(frozen=True)
class MaintenanceWindow:
    start: dt.datetime
    end: dt.datetime


class TokenBucket:
    """HMRC's platform throttle: `rate` requests a second per application, bursts up to `burst` (real time)."""

    def __init__(self, rate: float, burst: float):
        self.rate, self.burst = rate, burst
        self._tokens: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 when allowed, else the seconds until a token is free."""
        now = time.monotonic()
        with self._lock:
            tokens, at = self._tokens.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            if tokens >= 1:
                self._tokens[key] = (tokens - 1, now)
                return 0.0
            self._tokens[key] = (tokens, now)
            return (1 - tokens) / self.rate


class ExternalSystemBehaviour:
    def __init__(
        self,
        *,
        clock: Clock,
        system: str = "the external system",
        outage_reason: str = "SERVER_ERROR",
        requests_per_second: float = 0.0,
        burst: float = 10.0,
        maintenance: tuple[MaintenanceWindow, ...] = (),
        outage_probability: float = 0.0,
        latency_p50_ms: float = 0.0,
        seed: int | None = None,
    ):
        self._clock = clock
        self._system = system
        self._outage_reason = outage_reason
        self._bucket = TokenBucket(requests_per_second, burst) if requests_per_second > 0 else None
        self._maintenance = maintenance
        self._outage = outage_probability
        self._latency = latency_p50_ms / 1000
        self._random = random.Random(seed)

    def admit(self, caller: str) -> None:
        """Before every enquiry: UNAVAILABLE in a maintenance window or an outage, RESOURCE_EXHAUSTED when
        throttled (both with the RetryInfo delay), then the simulated network and back-end latency."""
        now = self._clock.now()
        for w in self._maintenance:
            if w.start <= now < w.end:
                raise Unavailable(
                    f"{self._system} is in a scheduled maintenance window until {w.end.isoformat()}",
                    reason="SCHEDULED_MAINTENANCE",
                    retry_after_seconds=(w.end - now).total_seconds(),
                )
        if self._outage and self._random.random() < self._outage:
            raise Unavailable(
                f"{self._system} did not answer", reason=self._outage_reason, retry_after_seconds=5
            )
        if self._bucket is not None:
            wait = self._bucket.take(caller)
            if wait:
                raise ResourceExhausted(
                    f"{self._system} throttled the request (too many requests a second)",
                    reason="MESSAGE_THROTTLED_OUT",
                    retry_after_seconds=wait,
                )
        if self._latency:
            # Log-normal around the p50: most calls near it, a long tail (p95 ≈ 6.7 × p50).
            time.sleep(self._latency * self._random.lognormvariate(0, 1.15))


def behaviour_from(
    settings: SimulatorSettings, clock: Clock, system: str, outage_reason: str = "SERVER_ERROR"
) -> ExternalSystemBehaviour:
    """The behaviour a gateway's SimulatorSettings describe."""
    return ExternalSystemBehaviour(
        clock=clock,
        system=system,
        outage_reason=outage_reason,
        requests_per_second=settings.throttle_requests_per_second,
        burst=settings.throttle_burst,
        outage_probability=settings.outage_probability,
        latency_p50_ms=settings.latency_p50_ms,
        maintenance=tuple(MaintenanceWindow(a, b) for a, b in settings.maintenance_windows),
    )
