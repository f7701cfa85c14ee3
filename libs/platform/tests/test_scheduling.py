"""A background job run on a tick and when woken, and its items side by side (cms_platform.scheduling)."""

from __future__ import annotations

import contextvars
import threading

import pytest

from cms_devkit.testing import wait_until
from cms_platform.scheduling import PeriodicJob, side_by_side


def test_a_wake_during_a_pass_runs_one_more_pass_after_it():
    passes: list[int] = []
    first_running, release = threading.Event(), threading.Event()

    def run() -> None:
        passes.append(len(passes) + 1)
        if len(passes) == 1:
            first_running.set()
            release.wait(30)

    job = PeriodicJob("test-job", 3600.0, run)
    job.start()
    try:
        job.wake()
        assert first_running.wait(30)
        job.wake()  # a change committed after the running pass read the pending cases
        job.wake()
        release.set()
        wait_until(lambda: len(passes) >= 2, timeout=30, what="the second pass")
    finally:
        job.stop()
    assert passes == [1, 2]  # the two wakes during the first pass made one more, not two


def test_side_by_side_keeps_the_order_runs_at_once_and_carries_the_context():
    job = contextvars.ContextVar("job", default="none")
    job.set("annual review")
    inside: list[int] = []
    most = [0]
    lock = threading.Lock()
    both_in = threading.Barrier(2, timeout=5)

    def work(n: int) -> tuple[int, str]:
        with lock:
            inside.append(n)
            most[0] = max(most[0], len(inside))
        if n < 2:
            both_in.wait()  # the first two can only pass together: they run side by side
        with lock:
            inside.remove(n)
        return n * n, job.get()

    out = side_by_side(work, list(range(6)), at_most=2, name="t")
    assert out == [(n * n, "annual review") for n in range(6)]
    assert most[0] == 2  # never more than at_most at once


def test_side_by_side_one_at_a_time_and_errors_reach_the_caller():
    seen: list[int] = []
    assert side_by_side(lambda n: seen.append(n) or n, [3, 1, 2], at_most=1, name="t") == [3, 1, 2]
    assert seen == [3, 1, 2]

    def failing(n: int) -> int:
        if n == 2:
            raise ValueError("item 2")
        return n

    with pytest.raises(ValueError, match="item 2"):
        side_by_side(failing, [1, 2, 3], at_most=3, name="t")
