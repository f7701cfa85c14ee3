"""Readiness follows the database and the broker with hysteresis (cms_platform.readiness, CmsService): a private
PostgreSQL server halted under a service takes it out of rotation after the set number of failed checks, and back
once it answers again; liveness stays SERVING throughout."""

from __future__ import annotations

import os
import socket

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from cms_devkit import infra
from cms_devkit.testing import wait_until
from cms_platform.db import make_engine
from cms_platform.readiness import DependencyWatch, Hysteresis, broker_check, database_check
from cms_platform.service import CmsService
from cms_platform.settings import ServiceSettings
from cms_platform.topics import BrokerView

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def test_hysteresis_needs_consecutive_outcomes_to_change() -> None:
    h = Hysteresis(fail_after=3, recover_after=2)
    seen = [
        h.observe(ok) for ok in (False, False, True, False, False, False, True, False, True, True)
    ]
    # Two failures then a success: still up. Three in a row: down. One success, a failure: still down. Two: up.
    assert seen == [True, True, True, True, True, False, False, False, False, True]
    with pytest.raises(ValueError):
        Hysteresis(fail_after=0, recover_after=1)


def test_the_database_check_goes_down_after_the_threshold_and_up_after_recovering(
    private_postgres: infra.PrivatePostgres,
) -> None:
    engine = make_engine(private_postgres.url, pool_size=1)
    watch = DependencyWatch(
        {"database": database_check(engine)}, fail_after=3, recover_after=2, timeout=5
    )
    try:
        assert watch.poll() == []
        private_postgres.halt()
        assert [watch.poll() for _ in range(3)] == [[], [], ["database"]]
        private_postgres.resume()
        assert [watch.poll() for _ in range(2)] == [["database"], []]
    finally:
        watch.close()
        engine.dispose()


def test_a_pool_busy_with_calls_is_not_a_database_down(database_url) -> None:
    """Every connection checked out by calls: the check does not queue behind them (and time out) but passes."""
    if os.environ.get("CMS_TEST_DATABASE") == "sqlite":
        pytest.skip("SQLite's engine has no sized pool to fill")
    engine = make_engine(database_url("busy"), pool_size=1, max_overflow=0)
    watch = DependencyWatch(
        {"database": database_check(engine, most=1)}, fail_after=1, recover_after=1, timeout=1
    )
    try:
        with engine.connect():
            assert watch.poll() == []
        assert watch.poll() == []
    finally:
        watch.close()
        engine.dispose()


def _closed_address() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"  # closed again: nothing listens there


def test_a_broker_that_does_not_answer_within_the_timeout_is_down() -> None:
    broker = BrokerView(_closed_address(), client_id="readiness-test")
    # The admin client would take its own 10 s to give up; the check's timeout decides first.
    watch = DependencyWatch(
        {"broker": broker_check(broker)}, fail_after=1, recover_after=1, timeout=1
    )
    try:
        assert watch.poll() == ["broker"]
    finally:
        watch.close()
        broker.close()


class _Plain(CmsService):
    name = "plain"

    def registrations(self):
        return []


def test_a_service_is_not_ready_while_its_database_is_down(
    private_postgres: infra.PrivatePostgres, clock
) -> None:
    settings = ServiceSettings(
        environment="test",
        grpc_host="127.0.0.1",
        grpc_port=0,
        database_url=private_postgres.url,
        readiness_check_interval_seconds=0.1,
        readiness_check_timeout_seconds=5,
        readiness_fail_after=3,
        readiness_recover_after=2,
        log_format="console",
    )
    service = _Plain(settings, clock=clock)
    port = service.start(migrate=False)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)

            def status(name: str) -> int:
                return health.Check(health_pb2.HealthCheckRequest(service=name), timeout=2).status

            assert status("readiness") == SERVING
            private_postgres.halt()
            wait_until(
                lambda: status("readiness") == NOT_SERVING, timeout=30, what="readiness to drop"
            )
            assert status("liveness") == SERVING
            private_postgres.resume()
            wait_until(
                lambda: status("readiness") == SERVING, timeout=30, what="readiness to return"
            )
            assert status("") == SERVING
    finally:
        service.stop()
