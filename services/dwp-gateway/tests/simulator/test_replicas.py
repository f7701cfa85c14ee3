"""Two replicas of the gateway over one database, through their real gRPC servers: a change a scenario admin (or Send
Update) makes through one holds at the other on its very next call, although the other has already served and kept
in memory the person and the simulation's controls (docs/domain/external-systems.md §4). Fixtures: Alex Turner
AA123456A, Siân Llewellyn-Price AG765432A (8 Heol y Felin, SA2 9GH); clock: Monday 6 April 2026 09:00 UTC."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2
from google.protobuf.timestamp_pb2 import Timestamp
from google.type import date_pb2

from cms.common.v1 import types_pb2 as common
from cms.dwp.v1 import dwp_scenario_service_pb2 as sc
from cms.dwp.v1 import dwp_scenario_service_pb2_grpc as sc_grpc
from cms.dwp.v1 import dwp_service_pb2 as api
from cms.dwp.v1 import dwp_service_pb2_grpc as api_grpc
from cms.dwp.v1 import resources_pb2 as pb
from cms_dwp_gateway.app import DwpGatewayService

ALEX, SIAN, NEW = "AA123456A", "AG765432A", "ZX999999D"


def d(y: int, m: int, day: int) -> date_pb2.Date:
    return date_pb2.Date(year=y, month=m, day=day)


def ts(at: dt.datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(at)
    return out


class Replica:
    """One replica's two APIs: the real-system interface as caseworkers call it, the scenario admin's."""

    def __init__(self, channel: grpc.Channel, creds: Any):
        self._gw = api_grpc.DwpGatewayServiceStub(channel)
        self._scenario = sc_grpc.DwpScenarioServiceStub(channel)
        self._creds = creds

    def cis(self, method: str, request: Any) -> Any:
        return getattr(self._gw, method)(request, metadata=self._creds.staff(), timeout=10)

    def admin(self, method: str, request: Any) -> Any:
        if hasattr(request, "request_id"):
            request.request_id = str(uuid.uuid4())
        return getattr(self._scenario, method)(
            request, metadata=self._creds.staff("scenario-admin", "scenario_admin"), timeout=10
        )

    def awards(self, nino: str) -> dict[str, int]:
        listed = self.cis("ListBenefitAwards", api.ListBenefitAwardsRequest(nino=nino))
        return {a.award_id: a.amount.amount_pence for a in listed.benefit_awards}

    def record(self, nino: str) -> pb.PersonRecord:
        return self.cis("GetPersonRecord", api.GetPersonRecordRequest(nino=nino))


@pytest.fixture
def replicas(start_service, creds, clock) -> Iterator[tuple[Replica, Replica]]:
    first, channel = start_service(DwpGatewayService, db_name="dwp-replicas")
    second = DwpGatewayService(first.settings, clock=clock)  # the same database, its own memory
    port = second.start(migrate=False)
    other = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield Replica(channel, creds), Replica(other, creds)
    finally:
        other.close()
        second.stop()


def _refused(call: Callable[[], Any]) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as err:
        call()
    return err.value.code()


def test_awards_started_and_changed_through_one_replica_are_listed_by_the_other_at_once(replicas):
    admin, other = replicas
    generated = other.awards(ALEX)
    assert generated == other.awards(ALEX)  # served twice, kept
    started = admin.admin(
        "StartBenefitAward",
        sc.StartBenefitAwardRequest(
            nino=ALEX,
            benefit_type=pb.BENEFIT_TYPE_STATE_PENSION,
            start_date=d(2026, 1, 1),
            amount=common.PeriodicAmount(
                frequency=common.PAYMENT_FREQUENCY_FOUR_WEEKLY, amount_pence=921_00
            ),
        ),
    )
    assert other.awards(ALEX) == generated | {started.award_id: 921_00}
    admin.admin(
        "ChangeBenefitAward",
        sc.ChangeBenefitAwardRequest(
            award_id=started.award_id,
            effective_date=d(2026, 4, 6),
            amount=common.PeriodicAmount(
                frequency=common.PAYMENT_FREQUENCY_FOUR_WEEKLY, amount_pence=950_00
            ),
        ),
    )
    assert other.awards(ALEX)[started.award_id] == 950_00


def test_people_upserted_and_addresses_changed_through_one_replica_are_held_by_the_other_at_once(
    replicas,
):
    admin, other = replicas
    assert other.record(SIAN).name.surname == "Llewellyn-Price"
    assert _refused(lambda: other.record(NEW)) == grpc.StatusCode.NOT_FOUND  # "no one": kept too
    person = pb.PersonRecord(
        nino=NEW,
        name=common.PersonName(forenames="Rhian", surname="Evans"),
        date_of_birth=d(1990, 2, 3),
        addresses=[
            pb.PersonAddress(
                address=common.Address(
                    lines=["1 Heol y Frenhines"], post_town="Cardiff", postcode="CF10 1AA"
                )
            )
        ],
    )
    admin.admin("UpsertPerson", sc.UpsertPersonRequest(person=person))
    assert other.record(NEW).name.surname == "Evans"

    replaced = other.record(SIAN)  # the generated record, kept again
    upserted = pb.PersonRecord(nino=SIAN, name=replaced.name, date_of_birth=replaced.date_of_birth)
    upserted.name.surname = "Price"
    upserted.addresses.add().CopyFrom(replaced.addresses[0])
    admin.admin("UpsertPerson", sc.UpsertPersonRequest(person=upserted))
    assert other.record(SIAN).name.surname == "Price"

    admin.cis(
        "SendPersonUpdate",
        api.SendPersonUpdateRequest(
            request_id=str(uuid.uuid4()),
            nino=SIAN,
            address_change=api.AddressChange(
                new_address=common.Address(
                    lines=["2 Ffordd y Môr", "Mumbles"], post_town="SWANSEA", postcode="SA3 4AA"
                ),
                old_address_line_1="8 Heol y Felin",
                old_postcode="SA2 9GH",
                effective_date=d(2026, 4, 1),
            ),
        ),
    )
    assert other.record(SIAN).addresses[0].address.postcode == "SA3 4AA"


def test_settings_and_outages_set_through_one_replica_hold_at_the_other_at_once(replicas, clock):
    admin, other = replicas
    assert other.awards(ALEX) == {}  # answered (Alex holds no award), the controls read and kept

    def failing(basis_points: int) -> None:
        admin.admin(
            "UpdateSimulationSettings",
            sc.UpdateSimulationSettingsRequest(
                settings=sc.SimulationSettings(random_failure_basis_points=basis_points),
                update_mask=field_mask_pb2.FieldMask(paths=["random_failure_basis_points"]),
            ),
        )

    failing(10_000)
    assert _refused(lambda: other.awards(ALEX)) == grpc.StatusCode.UNAVAILABLE
    failing(0)
    assert other.awards(ALEX) == {}

    now = clock.now()
    outage = admin.admin(
        "ScheduleOutage",
        sc.ScheduleOutageRequest(
            outage=sc.Outage(
                kind=sc.OUTAGE_KIND_UNPLANNED,
                start_time=ts(now),
                end_time=ts(now + dt.timedelta(hours=1)),
                methods=["ListBenefitAwards"],
            )
        ),
    )
    assert _refused(lambda: other.awards(ALEX)) == grpc.StatusCode.UNAVAILABLE
    assert other.record(ALEX).nino == ALEX  # a method the outage does not name
    admin.admin("CancelOutage", sc.CancelOutageRequest(outage_id=outage.outage_id))
    assert other.awards(ALEX) == {}
