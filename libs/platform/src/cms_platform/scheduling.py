"""A job a service runs every so often in a background thread (feeds, surveillance checks, scheduled work).

The job itself must be safe to repeat and to run on several replicas at once (each unit of work in its own
transaction with its row locked): this class only decides when, never what."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Sequence
from concurrent import futures
from typing import TypeVar

import structlog

from .metrics import JOB_LAST_SUCCESS, JOB_RUNS

log = structlog.get_logger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class PeriodicJob:
    """Calls `run()` every `interval_seconds`, and at once when woken (0 disables both: tests and RPCs call the job
    directly). A wake while a pass runs starts one more pass after it, so work committed too late for the running
    pass's read still goes at once; wakes meanwhile are folded into that one pass. A failed pass is logged and
    retried on the next wake or tick; it never kills the thread."""

    def __init__(self, name: str, interval_seconds: float, run: Callable[[], object]):
        self._name, self._interval, self._run_once = name, interval_seconds, run
        self._stop = threading.Event()
        self._woken = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def wake(self) -> None:
        """Start a pass now (e.g. from a consumer once the transaction that made work for the job has committed)."""
        self._woken.set()

    def start(self) -> None:
        if self._interval > 0:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._woken.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while True:
            self._woken.wait(self._interval)
            if self._stop.is_set():
                return
            self._woken.clear()  # before the pass: a wake during it is kept for the next
            self.run_pass()

    def run_pass(self) -> bool:
        """One pass, counted in cms_scheduled_job_runs_total (and its success timestamp); a failure is logged, not
        raised. Returns whether it succeeded."""
        try:
            self._run_once()
        except Exception as exc:  # noqa: BLE001 - the next pass retries; nothing was half-written
            JOB_RUNS.labels(self._name, "failure").inc()
            log.warning("periodic job failed; will retry", job=self._name, error=str(exc))
            return False
        JOB_RUNS.labels(self._name, "success").inc()
        JOB_LAST_SUCCESS.labels(self._name).set_to_current_time()
        return True


def side_by_side(work: Callable[[T], R], items: Sequence[T], *, at_most: int, name: str) -> list[R]:
    """`work` on each item, up to `at_most` at once, the results in the items' order: for a job whose items each wait
    mostly on other services and the database (a case's recalculation), where one at a time leaves the cores idle.
    Each item runs in a copy of the caller's context (its caller identity, operation and deadline go with it). The
    items must be independent, each its own transactions; `at_most` 1 (SQLite's single writer) runs them in turn."""
    if at_most <= 1 or len(items) <= 1:
        return [work(item) for item in items]
    with futures.ThreadPoolExecutor(
        max_workers=min(at_most, len(items)), thread_name_prefix=name
    ) as pool:
        done = [pool.submit(contextvars.copy_context().run, work, item) for item in items]
        return [f.result() for f in done]
