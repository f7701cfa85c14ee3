"""Simulated Jobcentre Plus under the scenario admin's controls, through the real gRPC server and database: the
decision delay and batch times set at run time, JCP's batch held while an outage of the whole system runs, and a
person's scenario forcing a rejection reason. Fixture: Ryan Doherty AH567890B on UC without earnings; clock:
Monday 6 April 2026 09:00 UTC."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from google.protobuf import field_mask_pb2
from google.type import date_pb2, timeofday_pb2

from cms.dwp.v1 import dwp_scenario_service_pb2 as sc
from cms.dwp.v1 import dwp_scenario_service_pb2_grpc as sc_grpc
from cms.dwp.v1 import dwp_service_pb2 as api
from cms.dwp.v1 import dwp_service_pb2_grpc as api_grpc
from cms.dwp.v1 import resources_pb2 as pb
from cms_dwp_gateway.app import DwpGatewayService

RYAN = "AH567890B"


@pytest.fixture
def dwp(start_service, creds):
    _, channel = start_service(DwpGatewayService, db_name="dwp-jcp-controls")
    gw, scenario = api_grpc.DwpGatewayServiceStub(channel), sc_grpc.DwpScenarioServiceStub(channel)

    def call(method, request):
        return getattr(gw, method)(request, metadata=creds.staff(), timeout=10)

    def admin(method, request):
        return getattr(scenario, method)(
            request, metadata=creds.staff("scenario-admin", "scenario_admin"), timeout=10
        )

    def set_up() -> pb.Deduction:
        return call(
            "SetUpDeduction",
            api.SetUpDeductionRequest(
                request_id=str(uuid.uuid4()),
                case_id="case-uc",
                paying_parent_nino=RYAN,
                benefit_type=pb.BENEFIT_TYPE_UNIVERSAL_CREDIT,
                deduction_type=pb.DEDUCTION_TYPE_STANDARD_FLAT_RATE,
                effective_date=date_pb2.Date(year=2026, month=4, day=6),
            ),
        )

    def run(ignore_delays=False) -> list[str]:
        return list(
            admin(
                "RunDueBatches",
                sc.RunDueBatchesRequest(request_id=str(uuid.uuid4()), ignore_delays=ignore_delays),
            ).decided_deduction_ids
        )

    return call, admin, set_up, run


def test_jcp_decides_after_the_delay_at_the_next_batch_time_the_settings_give(dwp, clock):
    _, admin, set_up, run = dwp
    settings = sc.SimulationSettings(jcp_batch_times=[timeofday_pb2.TimeOfDay(hours=2)])
    settings.jcp_decision_delay.FromTimedelta(dt.timedelta(days=1))
    admin(
        "UpdateSimulationSettings",
        sc.UpdateSimulationSettingsRequest(
            request_id=str(uuid.uuid4()),
            settings=settings,
            update_mask=field_mask_pb2.FieldMask(paths=["jcp_decision_delay", "jcp_batch_times"]),
        ),
    )
    deduction = set_up()
    due = deduction.pending_instruction.expected_decision_time.ToDatetime(dt.UTC)
    assert due == dt.datetime(
        2026, 4, 8, 2, 0, tzinfo=dt.UTC
    )  # Tuesday 09:00, then Wednesday's 02:00 batch
    assert run() == []
    clock.set(due)
    assert run() == [deduction.deduction_id]


def test_an_outage_of_the_whole_system_holds_jcps_batch_until_it_ends(dwp, clock):
    _, admin, set_up, run = dwp
    deduction = set_up()
    start = clock.now()
    outage = sc.Outage(kind=sc.OUTAGE_KIND_UNPLANNED)
    outage.start_time.FromDatetime(start)
    outage.end_time.FromDatetime(start + dt.timedelta(hours=1))
    admin("ScheduleOutage", sc.ScheduleOutageRequest(request_id=str(uuid.uuid4()), outage=outage))
    assert run(ignore_delays=True) == []
    clock.advance(dt.timedelta(hours=1))
    assert run(ignore_delays=True) == [deduction.deduction_id]


def test_a_persons_scenario_makes_jcp_reject_with_its_reason(dwp):
    call, admin, set_up, run = dwp
    held = call("GetPersonRecord", api.GetPersonRecordRequest(nino=RYAN))
    for name in ("person_id", "create_time", "update_time"):
        held.ClearField(name)
    admin(
        "UpsertPerson",
        sc.UpsertPersonRequest(
            request_id=str(uuid.uuid4()),
            person=held,
            scenario=sc.PersonScenario(
                deduction_rejection_reason=pb.DEDUCTION_REJECTION_REASON_THIRD_PARTY_DEDUCTION_LIMIT
            ),
        ),
    )
    deduction = set_up()  # the UC award the population gave him is still his
    assert run() == [deduction.deduction_id]
    decided = call("GetDeduction", api.GetDeductionRequest(deduction_id=deduction.deduction_id))
    assert decided.decisions[-1].outcome == pb.DEDUCTION_OUTCOME_REJECTED
    assert (
        decided.decisions[-1].rejection_reason
        == pb.DEDUCTION_REJECTION_REASON_THIRD_PARTY_DEDUCTION_LIMIT
    )
