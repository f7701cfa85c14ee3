"""A job a service runs every so often in a background thread (feeds, surveillance checks, scheduled work).

The job itself must be safe to repeat and to run on several replicas at once (each unit of work in its own
transaction with its row locked): this class only decides when, never what."""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog

log = structlog.get_logger(__name__)


class PeriodicJob:
    """Calls `run()` every `interval_seconds` (0 disables it: tests and RPCs call the job directly). A failed pass
    is logged and retried on the next tick; it never kills the thread."""

    def __init__(self, name: str, interval_seconds: float, run: Callable[[], object]):
        self._name, self._interval, self._run_once = name, interval_seconds, run
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        if self._interval > 0:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._run_once()
            except Exception as exc:  # noqa: BLE001 - the next pass retries; nothing was half-written
                log.warning("periodic job failed; will retry", job=self._name, error=str(exc))
