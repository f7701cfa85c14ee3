"""How a simulated external system (HMRC, CIS/JCP, a CRA) behaves beyond its data (docs/domain/external-systems.md §1.8, §4):
throttling per calling application, maintenance windows, outages and latency. All configurable and off by default,
so tests choose what they exercise; a gateway whose scenario admin can change them at run time passes `live`
(cms_simulation.controls), read before each call."""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cms_platform import calls
from cms_platform.clock import Clock
from cms_platform.errors import ResourceExhausted, Unavailable

from .controls import Conditions, OutageWindow, latency, refusal, weekend_window

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


# The conditions in force and the outage windows covering a method at an instant.
Live = Callable[[dt.datetime, str], tuple[Conditions, list[OutageWindow]]]


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
        live: Live | None = None,
    ):
        self._clock = clock
        self._system = system
        self._outage_reason = outage_reason
        self._burst = burst
        self._buckets: dict[float, TokenBucket] = {}
        self._buckets_lock = threading.Lock()
        self._maintenance = maintenance
        self._static = Conditions(
            latency_p50=latency_p50_ms / 1000,
            failure_probability=outage_probability,
            requests_per_second=requests_per_second,
        )
        self._live = live
        self._random = random.Random(seed)

    def _bucket(self, rate: float) -> TokenBucket:
        """One bucket per rate: a new limit starts with a full bucket."""
        with self._buckets_lock:
            bucket = self._buckets.get(rate)
            if bucket is None:
                bucket = self._buckets[rate] = TokenBucket(rate, self._burst)
            return bucket

    def admit(self, caller: str, method: str | None = None) -> None:
        """Before every enquiry (`method`: the operation being served unless given): UNAVAILABLE in a
        maintenance window or an outage, RESOURCE_EXHAUSTED when throttled (both with the RetryInfo delay), then
        the simulated network and back-end latency."""
        now = self._clock.now()
        for w in self._maintenance:
            if w.start <= now < w.end:
                raise Unavailable(
                    f"{self._system} is in a scheduled maintenance window until {w.end.isoformat()}",
                    reason="SCHEDULED_MAINTENANCE",
                    retry_after_seconds=(w.end - now).total_seconds(),
                )
        conditions = self._static
        if self._live is not None:
            conditions, windows = self._live(now, calls.operation() if method is None else method)
            refused = refusal(windows, now, self._system, self._outage_reason)
            if refused is not None:
                raise refused
        weekend = weekend_window(now) if conditions.weekend_maintenance else None
        if weekend is not None:
            raise Unavailable(
                f"{self._system} is in its weekend maintenance window until {weekend[1].isoformat()}",
                reason="SCHEDULED_MAINTENANCE",
                retry_after_seconds=(weekend[1] - now).total_seconds(),
            )
        if (
            conditions.failure_probability
            and self._random.random() < conditions.failure_probability
        ):
            raise Unavailable(
                f"{self._system} did not answer", reason=self._outage_reason, retry_after_seconds=5
            )
        if conditions.requests_per_second > 0:
            wait = self._bucket(conditions.requests_per_second).take(caller)
            if wait:
                raise ResourceExhausted(
                    f"{self._system} throttled the request (too many requests a second)",
                    reason="MESSAGE_THROTTLED_OUT",
                    retry_after_seconds=wait,
                )
        delay = latency(conditions, self._random)
        left = calls.time_remaining()
        if left is not None and delay > left - calls.ANSWER_MARGIN_SECONDS:
            # The gateway gives up on the system when its own caller would: it answers UNAVAILABLE in time rather
            # than past the deadline.
            time.sleep(max(0.0, left - calls.ANSWER_MARGIN_SECONDS))
            raise Unavailable(
                f"{self._system} did not answer within the call's deadline",
                reason=self._outage_reason,
                retry_after_seconds=1,
            )
        if delay:
            time.sleep(delay)  # the simulated network and back end: real time, as a real call takes


def behaviour_from(
    settings: SimulatorSettings,
    clock: Clock,
    system: str,
    outage_reason: str = "SERVER_ERROR",
    live: Live | None = None,
) -> ExternalSystemBehaviour:
    """The behaviour a gateway's SimulatorSettings describe (and, with `live`, what its scenario admin sets)."""
    return ExternalSystemBehaviour(
        clock=clock,
        system=system,
        outage_reason=outage_reason,
        requests_per_second=settings.throttle_requests_per_second,
        burst=settings.throttle_burst,
        outage_probability=settings.outage_probability,
        latency_p50_ms=settings.latency_p50_ms,
        maintenance=tuple(MaintenanceWindow(a, b) for a, b in settings.maintenance_windows),
        live=live,
    )
