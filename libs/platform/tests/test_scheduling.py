"""A background job run on a tick and when woken (cms_platform.scheduling)."""

from __future__ import annotations

import threading

from cms_devkit.testing import wait_until
from cms_platform.scheduling import PeriodicJob


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
