"""The simulated agency behaves as the real system would: in a maintenance window every search and every monitoring
registration or change is refused UNAVAILABLE with the retry delay, while a malformed search is refused for what it
is (it never reaches the agency) and what the gateway keeps itself (reading a surveillance, the periodic checks) goes
on. Throttling is per calling application."""

from __future__ import annotations

import datetime as dt
import uuid

import grpc
import pytest

from cms.cra.v1 import cra_scenario_service_pb2 as sc
from cms.cra.v1 import cra_service_pb2 as api
from cms.cra.v1 import resources_pb2 as pb
from cms_cra_gateway.app import CraGatewayService
from cms_platform.grpc_errors import violated_fields

from ..conftest import Gateway, alex, basis, code_of, d, error_info


@pytest.fixture
def maintained(start_service, creds, clock):
    """A gateway whose agency has a three-hour maintenance window tomorrow, with a surveillance started today; the
    clock is then moved an hour into the window."""
    service, channel = start_service(
        CraGatewayService,
        db_name="cra-maintenance",
        population_size=10_000,
        surveillance_check_interval_seconds=0,
        maintenance_windows=[
            (clock.now() + dt.timedelta(days=1), clock.now() + dt.timedelta(days=1, hours=3))
        ],
    )
    cra = Gateway(service, channel, creds)
    watch = cra(
        "StartCaseSurveillance",
        api.StartCaseSurveillanceRequest(
            request_id=str(uuid.uuid4()),
            legal_basis=basis(pb.SEARCH_PURPOSE_CASE_SURVEILLANCE, "case-m"),
            person=alex(),
            review_date=d(2026, 9, 1),
        ),
    )
    clock.advance(dt.timedelta(days=1, hours=1))
    return cra, watch


def test_searches_and_monitoring_are_refused_in_a_maintenance_window(maintained):
    cra, watch = maintained
    surveillance = basis(pb.SEARCH_PURPOSE_CASE_SURVEILLANCE, "case-m")
    for method, request in (
        (
            "TracePerson",
            api.TracePersonRequest(legal_basis=basis(pb.SEARCH_PURPOSE_TRACE), person=alex()),
        ),
        ("GetCreditScore", api.GetCreditScoreRequest(legal_basis=basis(), person=alex())),
        (
            "StartCaseSurveillance",
            api.StartCaseSurveillanceRequest(
                request_id=str(uuid.uuid4()),
                legal_basis=basis(pb.SEARCH_PURPOSE_CASE_SURVEILLANCE, "case-n"),
                person=alex(),
                review_date=d(2026, 9, 1),
            ),
        ),
        (
            "StopCaseSurveillance",
            api.StopCaseSurveillanceRequest(
                request_id=str(uuid.uuid4()),
                legal_basis=surveillance,
                surveillance_id=watch.surveillance_id,
                reason=pb.SURVEILLANCE_STOP_REASON_ENFORCEMENT_RESUMED,
            ),
        ),
    ):
        err = code_of(lambda method=method, request=request: cra(method, request))
        assert err.code() == grpc.StatusCode.UNAVAILABLE, method
        assert error_info(err).reason == "SCHEDULED_MAINTENANCE"
    # A malformed search never reaches the agency: it is refused for what it is.
    err = code_of(
        lambda: cra(
            "TracePerson",
            api.TracePersonRequest(
                legal_basis=basis(pb.SEARCH_PURPOSE_TRACE), person=alex(nino="AA12")
            ),
        )
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(err) == ["person.nino"]
    # What the gateway keeps itself is still there.
    got = cra(
        "GetCaseSurveillance",
        api.GetCaseSurveillanceRequest(
            legal_basis=surveillance, surveillance_id=watch.surveillance_id
        ),
    )
    assert got.state == pb.CASE_SURVEILLANCE_STATE_ACTIVE
    run = cra(
        "RunSurveillanceChecks", sc.RunSurveillanceChecksRequest(request_id=str(uuid.uuid4()))
    )
    assert run.surveillances_checked == 1


def test_the_agency_throttles_each_calling_application(start_service, creds):
    service, channel = start_service(
        CraGatewayService,
        db_name="cra-throttle",
        population_size=10_000,
        surveillance_check_interval_seconds=0,
        throttle_requests_per_second=0.001,
        throttle_burst=2,
    )
    cra = Gateway(service, channel, creds)

    def score() -> api.GetCreditScoreResponse:
        return cra("GetCreditScore", api.GetCreditScoreRequest(legal_basis=basis(), person=alex()))

    score(), score()
    err = code_of(score)
    assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error_info(err).reason == "MESSAGE_THROTTLED_OUT"
