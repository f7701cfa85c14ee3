"""Business interests and the broadcasts they drive, through the real gRPC server and a real broker: benefit
changes reach a case only while its interest is registered, and a Send Update is applied and broadcast as the CMS's
own. Fixtures from libs/simulation/src/cms_simulation/population/fixtures.py; business clock: 6 April 2026."""

from __future__ import annotations

import grpc
import pytest
from google.type import date_pb2

from cms.common.v1 import types_pb2 as common
from cms.dwp.v1 import dwp_service_pb2 as api
from cms.dwp.v1 import dwp_service_pb2_grpc as api_grpc
from cms.dwp.v1 import resources_pb2 as pb
from cms_dwp_gateway.app import DwpGatewayService
from cms_platform.grpc_errors import violated_fields
from cms_simulation.population import ids


def d(y, m, day):
    return date_pb2.Date(year=y, month=m, day=day)


def test_benefit_changes_reach_a_case_only_while_its_interest_is_registered(
    start_service, creds, kafka_bootstrap
):
    import uuid

    from cms.dwp.v1 import dwp_scenario_service_pb2 as sc
    from cms.dwp.v1 import dwp_scenario_service_pb2_grpc as sc_grpc
    from cms.dwp.v1 import events_pb2 as ev
    from cms_devkit.testing import read_topic

    _, channel = start_service(DwpGatewayService, db_name="dwp-interests", kafka=kafka_bootstrap)
    gw, scenario = api_grpc.DwpGatewayServiceStub(channel), sc_grpc.DwpScenarioServiceStub(channel)

    def call(method, request):
        return method(request, metadata=creds.staff(), timeout=10)

    def admin_call(method, request):  # scenario (test-data) calls: the scenario_admin role only
        return method(request, metadata=creds.staff("scenario-admin", "scenario_admin"), timeout=10)

    watching = call(
        gw.RegisterInterest,
        api.RegisterInterestRequest(
            request_id=str(uuid.uuid4()),
            nino="AE456789D",
            case_id="case-1",
            role=pb.CASE_ROLE_PAYING_PARENT,
            businesses=[pb.CIS_BUSINESS_JOBSEEKERS_ALLOWANCE],
        ),
    )
    assert (
        watching.state == pb.INTEREST_STATE_ACTIVE
        and watching.businesses[0].business_interest_number
    )
    with pytest.raises(grpc.RpcError) as err:  # one active interest per case, person and role
        call(
            gw.RegisterInterest,
            api.RegisterInterestRequest(
                request_id=str(uuid.uuid4()),
                nino="AE456789D",
                case_id="case-1",
                role=pb.CASE_ROLE_PAYING_PARENT,
            ),
        )
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS
    gone = call(
        gw.RegisterInterest,
        api.RegisterInterestRequest(
            request_id=str(uuid.uuid4()),
            nino="AE456789D",
            case_id="case-2",
            role=pb.CASE_ROLE_PAYING_PARENT,
        ),
    )
    call(
        gw.DeregisterInterest,
        api.DeregisterInterestRequest(request_id=str(uuid.uuid4()), interest_id=gone.interest_id),
    )
    listed = call(gw.ListInterests, api.ListInterestsRequest(nino="AE456789D"))
    assert [i.case_id for i in listed.interests] == ["case-1"]

    # Dana's JSA ends (broadcast to case-1 only); a UC award starts (CIS never broadcasts UC).
    ended = admin_call(
        scenario.EndBenefitAward,
        sc.EndBenefitAwardRequest(
            request_id=str(uuid.uuid4()),
            award_id=ids.award_id("AE456789D", "B", 1),
            end_date=d(2026, 4, 30),
            end_reason=pb.AWARD_END_REASON_ENTITLEMENT_ENDED,
        ),
    )
    assert ended.end_date == d(2026, 4, 30)
    admin_call(
        scenario.StartBenefitAward,
        sc.StartBenefitAwardRequest(
            request_id=str(uuid.uuid4()),
            nino="AE456789D",
            benefit_type=pb.BENEFIT_TYPE_UNIVERSAL_CREDIT,
            start_date=d(2026, 5, 1),
            amount=common.PeriodicAmount(
                frequency=common.PAYMENT_FREQUENCY_MONTHLY, amount_pence=400_14
            ),
        ),
    )
    records = [
        r
        for r in read_topic(
            kafka_bootstrap,
            "cms.dwp.events.v1",
            expected=1,
            # The broker is shared: wait for this kind of event, not for any.
            where=lambda r: (
                dict(r.headers).get("ce_type") == b"uk.gov.cms.dwp.interest.benefit_changed.v1"
            ),
        )
    ]
    events = [
        e
        for e in (ev.BenefitInformationChanged.FromString(r.value) for r in records)
        if e.case_id in ("case-1", "case-2")
    ]  # other suites' cases broadcast on the shared broker too
    assert [(e.case_id, e.change_kind) for e in events] == [
        ("case-1", ev.BENEFIT_CHANGE_KIND_AWARD_ENDED)
    ]
    # An outside consumer sees the interest's resource name as the key and a URI as the dataschema.
    [record] = [r for r in records if r.key == f"interests/{events[0].interest_id}".encode()]
    assert dict(record.headers)["ce_dataschema"] == (
        b"https://schemas.cms.gov.uk/protos/cms/dwp/v1/events.proto"
        b"#cms.dwp.v1.BenefitInformationChanged"
    )
    assert events[0].award.end_reason == pb.AWARD_END_REASON_ENTITLEMENT_ENDED
    # CIS now holds the ended JSA and the new UC award.
    awards = call(
        gw.ListBenefitAwards, api.ListBenefitAwardsRequest(nino="AE456789D")
    ).benefit_awards
    assert [a.benefit_type for a in awards][:2] == [
        pb.BENEFIT_TYPE_UNIVERSAL_CREDIT,
        pb.BENEFIT_TYPE_JOBSEEKERS_ALLOWANCE_INCOME_BASED,
    ]


def test_send_update_applies_the_address_and_broadcasts_it_marked_as_the_cms_own(
    start_service, creds, kafka_bootstrap
):
    import uuid

    from cms.dwp.v1 import events_pb2 as ev
    from cms_devkit.testing import read_topic

    _, channel = start_service(DwpGatewayService, db_name="dwp-update", kafka=kafka_bootstrap)
    gw = api_grpc.DwpGatewayServiceStub(channel)

    def call(method, request):
        return method(request, metadata=creds.staff(), timeout=10)

    call(
        gw.RegisterInterest,
        api.RegisterInterestRequest(
            request_id=str(uuid.uuid4()),
            nino="AG765432A",
            case_id="case-rp",
            role=pb.CASE_ROLE_RECEIVING_PARENT,
        ),
    )
    new = common.Address(
        lines=["2 Ffordd y Môr", "Mumbles"], post_town="SWANSEA", postcode="SA3 4AA"
    )
    change = api.AddressChange(
        new_address=new,
        old_address_line_1="8 Heol y Felin",
        old_postcode="SA2 9GH",
        effective_date=d(2026, 4, 1),
    )
    done = call(
        gw.SendPersonUpdate,
        api.SendPersonUpdateRequest(
            request_id=str(uuid.uuid4()), nino="AG765432A", address_change=change
        ),
    )
    assert done.outcome == api.UPDATE_OUTCOME_APPLIED and done.update_reference
    record = call(gw.GetPersonRecord, api.GetPersonRecordRequest(nino="AG765432A"))
    assert record.addresses[0].address.postcode == "SA3 4AA"
    [raw] = [
        r
        for r in read_topic(
            kafka_bootstrap,
            "cms.dwp.events.v1",
            expected=1,
            # The broker is shared: wait for this kind of event, not for any.
            where=lambda r: (
                dict(r.headers).get("ce_type")
                == b"uk.gov.cms.dwp.interest.personal_details_changed.v1"
            ),
        )
    ]
    event = ev.PersonalDetailsChanged.FromString(raw.value)
    assert (event.case_id, event.cms_originated, event.address.address.postcode) == (
        "case-rp",
        True,
        "SA3 4AA",
    )
    stale = api.AddressChange(
        new_address=new,
        old_address_line_1="8 Heol y Felin",
        old_postcode="SA2 9GH",
        effective_date=d(2026, 4, 2),
    )  # CIS no longer holds that address
    with pytest.raises(grpc.RpcError) as err:
        call(
            gw.SendPersonUpdate,
            api.SendPersonUpdateRequest(
                request_id=str(uuid.uuid4()), nino="AG765432A", address_change=stale
            ),
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    too_long = api.AddressChange(
        new_address=common.Address(lines=["x" * 36, "y"], postcode="SA3 4AA"),
        old_address_line_1="2 Ffordd y Môr",
        old_postcode="SA3 4AA",
        effective_date=d(2026, 5, 1),
    )
    with pytest.raises(grpc.RpcError) as err:
        call(
            gw.SendPersonUpdate,
            api.SendPersonUpdateRequest(
                request_id=str(uuid.uuid4()), nino="AG765432A", address_change=too_long
            ),
        )
    assert violated_fields(err.value) == ["address_change.new_address.lines[0]"]
