"""People a scenario admin upserts on the simulated CIS, through the real gRPC server and database: a new person is
held like a generated one, a replaced record is broadcast to interested cases as PersonalDetailsChanged (once per
request id), and scenario flags steer matching. Fixture: Siân Llewellyn-Price AG765432A; clock: 6 April 2026."""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.type import date_pb2
from sqlalchemy import select

from cms.common.v1 import types_pb2 as common
from cms.dwp.v1 import dwp_scenario_service_pb2 as sc
from cms.dwp.v1 import dwp_scenario_service_pb2_grpc as sc_grpc
from cms.dwp.v1 import dwp_service_pb2 as api
from cms.dwp.v1 import dwp_service_pb2_grpc as api_grpc
from cms.dwp.v1 import events_pb2 as ev
from cms.dwp.v1 import resources_pb2 as pb
from cms_dwp_gateway.app import DwpGatewayService
from cms_platform.grpc_errors import violated_fields
from cms_platform.models import OutboxEvent

NEW = "ZX999999D"  # no one in the population


def d(y, m, day):
    return date_pb2.Date(year=y, month=m, day=day)


def record(
    nino=NEW, forenames="Rhian", surname="Evans", postcode="CF10 1AA", **fields
) -> pb.PersonRecord:
    return pb.PersonRecord(
        nino=nino,
        name=common.PersonName(forenames=forenames, surname=surname),
        date_of_birth=d(1990, 2, 3),
        addresses=[
            pb.PersonAddress(
                address=common.Address(
                    lines=["1 Heol y Frenhines"], post_town="Cardiff", postcode=postcode
                )
            )
        ],
        **fields,
    )


@pytest.fixture
def dwp(start_service, creds):
    service, channel = start_service(DwpGatewayService, db_name="dwp-people")
    gw, scenario = api_grpc.DwpGatewayServiceStub(channel), sc_grpc.DwpScenarioServiceStub(channel)

    def upsert(person: pb.PersonRecord, scenario_flags=None, request_id=None) -> pb.PersonRecord:
        return scenario.UpsertPerson(
            sc.UpsertPersonRequest(
                request_id=request_id or str(uuid.uuid4()),
                person=person,
                scenario=scenario_flags or sc.PersonScenario(),
            ),
            metadata=creds.staff("scenario-admin", "scenario_admin"),
            timeout=10,
        )

    def verify(nino, forenames, surname, dob) -> api.VerifyNinoResponse:
        return gw.VerifyNino(
            api.VerifyNinoRequest(
                person=common.PersonIdentity(
                    nino=nino,
                    name=common.PersonName(forenames=forenames, surname=surname),
                    date_of_birth=dob,
                )
            ),
            metadata=creds.staff(),
            timeout=10,
        )

    return service, gw, upsert, verify


def test_a_new_person_is_held_like_a_generated_one(dwp, creds):
    _, gw, upsert, verify = dwp
    assert (
        verify(NEW, "Rhian", "Evans", d(1990, 2, 3)).match.outcome == common.MATCH_OUTCOME_NOT_FOUND
    )
    made = upsert(record(nino="zx 99 99 99 d"))
    assert made.nino == NEW and made.person_id.startswith("cis-") and NEW not in made.person_id
    held = gw.GetPersonRecord(
        api.GetPersonRecordRequest(nino=NEW), metadata=creds.staff(), timeout=10
    )
    assert held.name.surname == "Evans" and held.addresses[0].address.postcode == "CF10 1AA"
    assert verify(NEW, "R", "EVANS", d(1990, 2, 3)).match.outcome == common.MATCH_OUTCOME_MATCHED


def test_scenario_flags_fail_the_named_match_rules(dwp):
    _, _, upsert, verify = dwp
    upsert(record(), sc.PersonScenario(failed_match_rules=["SURNAME"]))
    found = verify(NEW, "Rhian", "Evans", d(1990, 2, 3))
    assert found.match.outcome == common.MATCH_OUTCOME_PARTIAL
    assert list(found.match.failed_rules) == ["SURNAME"]


def test_a_replaced_record_is_broadcast_to_interested_cases_once_per_request(dwp, creds):
    service, gw, upsert, _ = dwp
    interest = gw.RegisterInterest(
        api.RegisterInterestRequest(
            request_id=str(uuid.uuid4()),
            nino="AG765432A",
            case_id="case-1",
            role=pb.CASE_ROLE_RECEIVING_PARENT,
        ),
        metadata=creds.staff(),
        timeout=10,
    )
    moved = record(nino="AG765432A", forenames="Siân", surname="Price", postcode="SA2 0AA")
    moved.date_of_birth.CopyFrom(d(1983, 5, 17))
    request_id = str(uuid.uuid4())
    first = upsert(moved, request_id=request_id)
    assert upsert(moved, request_id=request_id) == first
    assert first.name.surname == "Price"

    with service.sessions() as s:
        rows = s.scalars(
            select(OutboxEvent).where(OutboxEvent.event_type.contains("personal_details"))
        ).all()
    assert len(rows) == 1
    event = ev.PersonalDetailsChanged.FromString(rows[0].payload)
    assert event.interest_id == interest.interest_id and event.case_id == "case-1"
    assert set(event.change_kinds) == {
        ev.PERSONAL_DETAILS_CHANGE_KIND_ADDRESS,
        ev.PERSONAL_DETAILS_CHANGE_KIND_NAME,
    }
    assert event.address.address.postcode == "SA2 0AA" and event.name.surname == "Price"
    assert not event.cms_originated

    upsert(moved)  # the same record again: nothing differs, nothing is broadcast
    with service.sessions() as s:
        assert (
            len(
                s.scalars(
                    select(OutboxEvent).where(OutboxEvent.event_type.contains("personal_details"))
                ).all()
            )
            == 1
        )


def test_bad_people_are_named(dwp):
    _, _, upsert, _ = dwp
    no_address = record()
    del no_address.addresses[:]
    for person, flags, field in [
        (record(nino="QQ123456A"), None, "person.nino"),
        (record(child_reference_number="AK100004D"), None, "person.child_reference_number"),
        (no_address, None, "person.addresses"),
        (
            record(
                relationships=[pb.Relationship(type=pb.RELATIONSHIP_TYPE_PARTNER, related_nino=NEW)]
            ),
            None,
            "person.relationships[0].related_nino",
        ),
        (
            record(),
            sc.PersonScenario(failed_match_rules=["EYE_COLOUR"]),
            "scenario.failed_match_rules[0]",
        ),
    ]:
        with pytest.raises(grpc.RpcError) as err:
            upsert(person, flags)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert field in violated_fields(err.value), field
