"""Readiness that follows the service's dependencies, with hysteresis.

Each dependency (the database, the broker) is checked cheaply every interval: `SELECT 1` through the service's own
pool, the broker's cluster metadata. A check that fails or does not answer within its timeout counts as a failure.
A dependency is down after `fail_after` failures in a row and up again after `recover_after` successes in a row, so
one slow answer does not take a pod out of rotation and a flapping database does not put it back at once.
Liveness never depends on these: a pod that cannot reach its database is not restarted, only not sent calls.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent import futures

import structlog
from sqlalchemy import text
from sqlalchemy.engine import Engine

from .topics import BrokerView

log = structlog.get_logger("cms.readiness")

Check = Callable[[], object]


class Hysteresis:
    """Up or down from consecutive outcomes: down after `fail_after` failures in a row, up after `recover_after`
    successes in a row. Starts up (the service checked its dependencies when it started)."""

    def __init__(self, *, fail_after: int, recover_after: int):
        if fail_after < 1 or recover_after < 1:
            raise ValueError("fail_after and recover_after must be at least 1")
        self._fail_after, self._recover_after = fail_after, recover_after
        self.up = True
        self._streak = 0  # consecutive outcomes that disagree with `up`

    def observe(self, ok: bool) -> bool:
        if ok == self.up:
            self._streak = 0
            return self.up
        self._streak += 1
        if self._streak >= (self._recover_after if ok else self._fail_after):
            self.up, self._streak = ok, 0
        return self.up


def database_check(engine: Engine, *, most: int | None = None) -> Check:
    """`SELECT 1` on a pooled connection (the pool's pre-ping replaces a dead one). With `most` (the pool's size +
    overflow), a pool whose every connection is checked out counts as reachable without queueing: the calls holding
    them are being answered (a lost database hands them back as errors), and a busy pod must not fail readiness and
    push its load onto the others."""

    def check() -> object:
        if most is not None and getattr(engine.pool, "checkedout", lambda: 0)() >= most:
            return "busy"
        with engine.connect() as conn:
            return conn.execute(text("SELECT 1")).scalar()

    return check


def broker_check(broker: BrokerView) -> Check:
    """The broker's cluster metadata (a reconnect after a failure is BrokerView's)."""
    return broker.cluster_id


class DependencyWatch:
    """Checks each dependency when polled and says which are down, by their hysteresis."""

    def __init__(
        self,
        checks: dict[str, Check],
        *,
        fail_after: int,
        recover_after: int,
        timeout: float,
        on_close: Callable[[], object] | None = None,
    ):
        self._checks = checks
        self._on_close = on_close
        self._timeout = timeout
        self._states = {
            name: Hysteresis(fail_after=fail_after, recover_after=recover_after) for name in checks
        }
        self._pool = futures.ThreadPoolExecutor(
            max_workers=max(1, len(checks)), thread_name_prefix="readiness-check"
        )
        # A check still running from an earlier poll (a connect hanging) is not started again.
        self._running: dict[str, futures.Future[object]] = {}

    def _ok(self, name: str, future: futures.Future[object]) -> bool:
        try:
            future.result(timeout=self._timeout)
        except futures.TimeoutError:
            return False
        except Exception as exc:  # noqa: BLE001 - any failure is "not reachable"; the kind is logged, no detail
            log.debug("dependency check failed", dependency=name, error=type(exc).__name__)
            self._running.pop(name, None)
            return False
        self._running.pop(name, None)
        return True

    def poll(self) -> list[str]:
        """Runs every check once (concurrently, each within the timeout); the names of the dependencies down."""
        for name, check in self._checks.items():
            if name not in self._running:
                self._running[name] = self._pool.submit(check)
        down = []
        for name, state in self._states.items():
            was = state.up
            if not state.observe(self._ok(name, self._running[name])):
                down.append(name)
            if state.up != was:
                if state.up:
                    log.info("dependency reachable again", dependency=name)
                else:
                    log.error("dependency unreachable; service not ready", dependency=name)
        return down

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._on_close is not None:
            self._on_close()
