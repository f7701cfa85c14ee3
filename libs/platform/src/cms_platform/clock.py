"""Business time. Domain code asks a Clock for "now" so tests and simulations can move time."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current instant, timezone-aware (UTC)."""
        ...

    def today(self) -> dt.date:
        """Today's date in UK civil time terms (the CMS works in calendar days)."""
        ...


class SystemClock:
    """Wall-clock time, optionally shifted by a fixed offset (for demos that run "in the future")."""

    def __init__(self, offset: dt.timedelta = dt.timedelta(0)) -> None:
        self._offset = offset

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self._offset

    def today(self) -> dt.date:
        return self.now().date()


class ManualClock:
    """A clock that only moves when told to: for tests and batch simulations."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return self._now

    def today(self) -> dt.date:
        return self.now().date()

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        with self._lock:
            self._now += delta
            return self._now

    def set(self, instant: dt.datetime) -> None:
        with self._lock:
            self._now = instant
