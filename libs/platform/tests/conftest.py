"""What the platform's tests share: a real server for a test servicer, and a private PostgreSQL server a test may
stop and start again."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from sqlalchemy.orm import sessionmaker

from cms.calculation.v1 import calculation_service_pb2 as api
from cms.calculation.v1 import calculation_service_pb2_grpc as api_grpc
from cms_devkit import infra
from cms_platform.db import Base, make_engine, make_sessionmaker
from cms_platform.identity import IdentityVerifier
from cms_platform.models import PLATFORM_TABLES
from cms_platform.server import GrpcServer, ServiceRegistration

CALCULATION = api.DESCRIPTOR.services_by_name["CalculationService"].full_name


@pytest.fixture
def serve_calculation() -> Iterator[Callable[..., api_grpc.CalculationServiceStub]]:
    """serve(servicer, identity, **registration) -> a stub on a real GrpcServer on port 0 serving `servicer` as
    the CalculationService contract (its access policies included); stopped after the test."""
    started: list[tuple[GrpcServer, grpc.Channel]] = []

    def serve(
        servicer: api_grpc.CalculationServiceServicer,
        identity: IdentityVerifier,
        **registration: Any,
    ) -> api_grpc.CalculationServiceStub:
        server = GrpcServer(
            service="test",
            registrations=[
                ServiceRegistration(
                    CALCULATION,
                    api_grpc.add_CalculationServiceServicer_to_server,
                    servicer,
                    **registration,
                )
            ],
            identity=identity,
            host="127.0.0.1",
            port=0,
        )
        channel = grpc.insecure_channel(f"127.0.0.1:{server.start()}")
        started.append((server, channel))
        return api_grpc.CalculationServiceStub(channel)

    yield serve
    for server, channel in started:
        channel.close()
        server.stop(0)


@pytest.fixture
def sessions(database_url) -> Iterator[sessionmaker]:
    """Sessions on a database of the test's own holding the platform's tables (outbox, processed events,
    positions, idempotent answers)."""
    engine = make_engine(database_url("platform"))
    Base.metadata.create_all(engine, tables=PLATFORM_TABLES)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def private_postgres() -> Iterator[infra.PrivatePostgres]:
    """A PostgreSQL server of the test's own (restarting the shared one would break the other suites); the
    restart tests run in the PostgreSQL suite only."""
    if os.environ.get("CMS_TEST_DATABASE") == "sqlite":
        pytest.skip("a PostgreSQL restart: run by the PostgreSQL suite")
    if not sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        pytest.skip("no PostgreSQL binaries to run a private server")
    pg = infra.start_private_postgres()
    try:
        yield pg
    finally:
        pg.stop()


@pytest.fixture
def private_broker() -> Iterator[infra.TansuBroker]:
    """A Tansu broker of the test's own, which the test can restart empty (`restart()`: it keeps messages in memory,
    so a restart loses every topic, event and committed offset, as a broker replaced would)."""
    broker = infra.start_tansu()
    try:
        yield broker
    finally:
        broker.stop()
