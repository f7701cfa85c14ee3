"""The walking skeleton over real gRPC, a real broker and real databases:
caseworker → casework → hmrc-gateway + calculation → CaseCalculated (outbox) → dwp-gateway consumer, exactly once,
also across a SIGKILL of the consumer's process mid-stream.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import casework_service_pb2_grpc as api_grpc
from cms.casework.v1 import events_pb2
from cms.casework.v1 import resources_pb2 as pb
from cms_calculation.app import CalculationService
from cms_casework.app import CaseworkService
from cms_devkit import infra
from cms_devkit.testing import wait_until
from cms_dwp_gateway.app import DwpGatewayService
from cms_dwp_gateway.deductions.models import CaseCalculationNotice
from cms_hmrc_gateway.app import HmrcGatewayService
from cms_platform import events, outbox
from cms_platform.db import make_engine, make_sessionmaker
from cms_platform.models import ProcessedEvent
from cms_platform.service import ensure_topics

from .helpers import create_case_request, generated_families

CASE_CALCULATED = events.event_type(events_pb2.CaseCalculated)
TOPIC = events.topic_of(events_pb2.CaseCalculated)

pytestmark = pytest.mark.e2e


@pytest.fixture
def broker() -> Iterator[str]:
    """A broker of this test's own: the exactly-once check counts every CaseCalculated on casework's topic, so
    other suites' events (on the session's broker) must not be there, whatever ran before it."""
    own = infra.start_broker()
    try:
        yield own.bootstrap
    finally:
        own.stop()


@pytest.fixture
def stack(broker, start_service):
    calc, calc_ch = start_service(CalculationService, kafka=broker)
    hmrc, hmrc_ch = start_service(HmrcGatewayService, kafka=broker, feed_check_interval_seconds=0)
    # The application checks ask CIS; this dwp-gateway does not consume (the test runs its own below).
    dwp, _ = start_service(DwpGatewayService, db_name="dwp-checks")
    casework, ch = start_service(
        CaseworkService,
        kafka=broker,
        calculation_address=f"127.0.0.1:{calc.server.port}",
        hmrc_gateway_address=f"127.0.0.1:{hmrc.server.port}",
        dwp_gateway_address=f"127.0.0.1:{dwp.server.port}",
        scheduler_interval_seconds=0,
    )
    return casework, api_grpc.CaseworkServiceStub(ch)


class DwpProcess:
    """dwp-gateway as a real separate process, so the test can SIGKILL it."""

    def __init__(self, *, database_url: str, bootstrap: str, log_path):
        self.env = dict(
            os.environ,
            DWP_GATEWAY_DATABASE_URL=database_url,
            DWP_GATEWAY_KAFKA_BOOTSTRAP_SERVERS=bootstrap,
            DWP_GATEWAY_GRPC_HOST="127.0.0.1",
            DWP_GATEWAY_GRPC_PORT=str(infra.free_port()),
            DWP_GATEWAY_CONSUMER_SESSION_TIMEOUT_MS="6000",
            DWP_GATEWAY_CONSUMER_HEARTBEAT_INTERVAL_MS="2000",
            DWP_GATEWAY_LOG_LEVEL="WARNING",
        )
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "cms_dwp_gateway", "serve"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(15)


def test_case_calculated_reaches_another_service_exactly_once_across_a_consumer_kill(
    stack, creds, database_url, broker, tmp_path
):
    casework, stub = stack
    dwp_url = database_url("dwp-gateway")
    ensure_topics(broker, [TOPIC])

    # 1. The real flow for a few cases: create, calculate; each publishes CaseCalculated through the outbox.
    real_cases, amounts = [], {}
    for request in (create_case_request(), *generated_families(2)):
        case = stub.CreateCase(request, metadata=creds.staff(), timeout=10)
        calculated = stub.CalculateCase(
            api.CalculateCaseRequest(request_id=str(uuid.uuid4()), name=case.name),
            metadata=creds.staff(),
            timeout=10,
        )
        assert calculated.state == pb.CASE_STATE_LIVE and calculated.current_payment_plan
        real_cases.append(calculated.name.removeprefix("cases/"))
        amounts[real_cases[-1]] = (
            calculated.latest_calculation.rate,
            calculated.latest_calculation.weekly_amount_pence,
        )
    # Alex Turner: £598.36 a week, 2 children, 16%.
    assert amounts[real_cases[0]] == ("BASIC", 96_00)

    # 2. A stream long enough to kill the consumer in the middle of it: more CaseCalculated events written
    #    through casework's own outbox (same path, without 3 RPCs per event).
    bulk = 1500
    with casework.sessions.begin() as s:
        for i in range(bulk):
            outbox.publish(
                s,
                clock=casework.clock,
                key=f"cases/bulk-{i}",
                subject=f"cases/bulk-{i}",
                message=events_pb2.CaseCalculated(
                    case_id=f"bulk-{i}",
                    calculation=f"calculations/b{i}",
                    weekly_amount_pence=700,
                    rate="FLAT",
                ),
            )
    total = len(real_cases) + bulk

    dwp = DwpProcess(database_url=dwp_url, bootstrap=broker, log_path=tmp_path / "dwp.log")
    dwp_db = make_engine(dwp_url)
    sessions = make_sessionmaker(dwp_db)

    def notices() -> int:
        try:
            with sessions() as s:
                return s.scalar(select(func.count()).select_from(CaseCalculationNotice)) or 0
        except Exception:  # noqa: BLE001 - the service may not have migrated yet
            return 0

    try:
        dwp.start()
        seen_at_kill = wait_until(
            lambda: notices() >= 100 and notices(),
            timeout=60,
            interval=0.01,
            what="dwp-gateway to start consuming",
        )
        dwp.kill()
        assert seen_at_kill < total, "the consumer finished before it could be killed mid-stream"
        killed_at = notices()

        # Events keep arriving while the consumer is down.
        case = stub.CreateCase(
            next(generated_families(1, start=300)), metadata=creds.staff(), timeout=10
        )
        stub.CalculateCase(
            api.CalculateCaseRequest(request_id=str(uuid.uuid4()), name=case.name),
            metadata=creds.staff(),
            timeout=10,
        )
        real_cases.append(case.name.removeprefix("cases/"))
        total += 1

        dwp.start()
        wait_until(
            lambda: notices() == total, timeout=90, interval=0.1, what=f"all {total} notices"
        )
    finally:
        dwp.stop()

    with sessions() as s:
        counts = s.scalars(select(CaseCalculationNotice.notices_received)).all()
        assert len(counts) == total and set(counts) == {1}, "an event was applied twice or lost"
        for case_id, (rate, weekly) in amounts.items():
            notice = s.get(CaseCalculationNotice, case_id)
            assert (notice.rate, notice.weekly_amount_pence) == (rate, weekly)
        # Only the handled events are recorded: dwp-gateway has no handler for CaseCreated.
        handled = s.scalar(
            select(func.count())
            .select_from(ProcessedEvent)
            .where(ProcessedEvent.outcome == "handled")
        )
        assert handled == total
    dwp_db.dispose()
    assert 0 < killed_at < total


def test_retried_create_case_has_one_effect(stack, creds):
    casework, stub = stack
    request = create_case_request()
    first = stub.CreateCase(request, metadata=creds.staff(), timeout=10)
    second = stub.CreateCase(request, metadata=creds.staff(), timeout=10)
    assert first == second
    from cms_casework.case_records.models import CaseRecord

    with casework.sessions() as s:
        assert s.scalar(select(func.count()).select_from(CaseRecord)) == 1


def test_retried_calculate_case_has_one_effect(stack, creds):
    casework, stub = stack
    case = stub.CreateCase(create_case_request(), metadata=creds.staff(), timeout=10)
    request = api.CalculateCaseRequest(request_id=str(uuid.uuid4()), name=case.name)
    first = stub.CalculateCase(request, metadata=creds.staff(), timeout=10)
    second = stub.CalculateCase(request, metadata=creds.staff(), timeout=10)
    assert first == second
    from cms_platform.models import OutboxEvent

    with casework.sessions() as s:
        calculated = s.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.event_type == CASE_CALCULATED)
        )
        assert calculated == 1


def test_unmatched_paying_parent_is_a_clear_precondition(stack, creds):
    import grpc

    from cms_platform.grpc_errors import details_of

    _, stub = stack
    request = create_case_request()
    request.paying_parent.identity.name.surname = "Smith"  # the surname rules fail (CIS, then HMRC)
    case = stub.CreateCase(request, metadata=creds.staff(), timeout=10)
    with pytest.raises(grpc.RpcError) as err:
        stub.CalculateCase(
            api.CalculateCaseRequest(request_id=str(uuid.uuid4()), name=case.name),
            metadata=creds.staff(),
            timeout=10,
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    violation = details_of(err.value)["PreconditionFailure"].violations[0]
    assert (violation.type, violation.subject) == (
        "APPLICATION_CHECK_FAILED",
        "paying_parent.identity",
    )
    assert "SURNAME" in violation.description
    # The outcome is on the case for the caseworker; it stays an application.
    held = stub.GetCase(api.GetCaseRequest(name=case.name), metadata=creds.staff(), timeout=10)
    assert held.state == pb.CASE_STATE_APPLICATION
    assert list(held.application_checks.outstanding_checks) == ["paying_parent.identity"]
