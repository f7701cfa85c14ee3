"""Starting benefit awards on the simulated CIS (simulator/service.py), through the real gRPC server and database:
each start is a new award with its own id, and a start that finds its id taken by a concurrent one is ABORTED with a
retry hint, never overwriting the other award nor answering INTERNAL. Fixture: Alex Turner AA123456A."""

from __future__ import annotations

import datetime as dt
import uuid

import grpc
import pytest
from google.type import date_pb2

from cms.common.v1 import types_pb2 as common
from cms.dwp.v1 import dwp_scenario_service_pb2 as sc
from cms.dwp.v1 import dwp_scenario_service_pb2_grpc as sc_grpc
from cms.dwp.v1 import resources_pb2 as pb
from cms_dwp_gateway.app import DwpGatewayService
from cms_dwp_gateway.simulator.models import AwardRecord
from cms_platform.grpc_errors import details_of
from cms_simulation.population import ids


@pytest.fixture
def dwp(start_service, creds):
    service, channel = start_service(DwpGatewayService)
    scenario = sc_grpc.DwpScenarioServiceStub(channel)

    def start() -> pb.BenefitAward:
        return scenario.StartBenefitAward(
            sc.StartBenefitAwardRequest(
                request_id=str(uuid.uuid4()),
                nino="AA123456A",
                benefit_type=pb.BENEFIT_TYPE_STATE_PENSION,
                start_date=date_pb2.Date(year=2026, month=1, day=1),
                amount=common.PeriodicAmount(
                    frequency=common.PAYMENT_FREQUENCY_FOUR_WEEKLY, amount_pence=921_00
                ),
            ),
            metadata=creds.staff("scenario-admin", "scenario_admin"),
            timeout=10,
        )

    return service, start


def _next_id(award_id: str) -> str:
    """The id the simulator gives the claimant's next started award (ids are opaque: decoded, not split)."""
    decoded = ids.decode(award_id)
    assert decoded is not None, award_id
    nino, kind, number = decoded
    return ids.award_id(nino, kind, number + 1)


def test_each_start_is_a_new_award(dwp):
    _, start = dwp
    first, second = start(), start()
    assert second.award_id == _next_id(first.award_id)


def test_a_start_that_lost_the_race_for_its_id_is_aborted_and_overwrites_nothing(dwp):
    service, start = dwp
    first = start()
    # A concurrent start committed the id this one will choose (listed under nobody, so it is not counted).
    with service.sessions.begin() as s:
        s.add(
            AwardRecord(
                award_id=_next_id(first.award_id),
                claimant_nino="",
                award="the winner's award",
                updated_at=dt.datetime(2026, 4, 6, tzinfo=dt.UTC),
            )
        )
    with pytest.raises(grpc.RpcError) as err:
        start()
    assert err.value.code() == grpc.StatusCode.ABORTED
    details = details_of(err.value)
    assert details["ErrorInfo"].reason == "CONCURRENT_UPDATE"
    assert details["RetryInfo"].retry_delay.ToNanoseconds() > 0
    with service.sessions() as s:
        winner = s.get(AwardRecord, _next_id(first.award_id))
        assert winner is not None and winner.award == "the winner's award"
