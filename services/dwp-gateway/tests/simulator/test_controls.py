"""The scenario admin's run-time controls through the real gRPC server and database: outage windows on the gateway's
clock that make the real-system interface (DwpGatewayService) answer UNAVAILABLE with a retry delay until they end
or are cancelled, and the simulation settings (profiles, field masks, their checks and their effect on calls).
Fixture: Siân Llewellyn-Price AG765432A; business clock: Monday 6 April 2026 09:00 UTC."""

from __future__ import annotations

import datetime as dt
import uuid

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
from cms_dwp_gateway.app import DwpGatewayService
from cms_platform.grpc_errors import details_of, violated_fields


def ts(at: dt.datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(at)
    return out


@pytest.fixture
def dwp(start_service, creds, clock):
    _, channel = start_service(DwpGatewayService, db_name="dwp-controls")
    gw, scenario = api_grpc.DwpGatewayServiceStub(channel), sc_grpc.DwpScenarioServiceStub(channel)

    def admin(method: str, request):
        return getattr(scenario, method)(
            request, metadata=creds.staff("scenario-admin", "scenario_admin"), timeout=10
        )

    def verify():
        return gw.VerifyNino(
            api.VerifyNinoRequest(
                person=common.PersonIdentity(
                    nino="AG765432A",
                    name=common.PersonName(forenames="Siân", surname="Llewellyn-Price"),
                    date_of_birth=date_pb2.Date(year=1983, month=5, day=17),
                )
            ),
            metadata=creds.staff(),
            timeout=10,
        )

    def record():
        return gw.GetPersonRecord(
            api.GetPersonRecordRequest(nino="AG765432A"), metadata=creds.staff(), timeout=10
        )

    return admin, verify, record


def _unavailable(call) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as err:
        call()
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    return err.value


def _outage(start: dt.datetime, seconds: float, kind=sc.OUTAGE_KIND_UNPLANNED, methods=()):
    return sc.Outage(
        kind=kind,
        start_time=ts(start),
        end_time=ts(start + dt.timedelta(seconds=seconds)),
        methods=list(methods),
    )


def test_an_outage_starting_now_holds_the_interface_unavailable_until_it_ends(dwp, clock):
    admin, verify, record = dwp
    assert verify().match.outcome == common.MATCH_OUTCOME_MATCHED
    now = clock.now()
    outage = admin(
        "ScheduleOutage",
        sc.ScheduleOutageRequest(request_id=str(uuid.uuid4()), outage=_outage(now, 30)),
    )
    assert outage.outage_id and outage.end_time.ToDatetime(dt.UTC) == now + dt.timedelta(seconds=30)
    for call in (verify, record):  # no methods named: every call reaching CIS
        err = _unavailable(call)
        details = details_of(err)
        assert details["ErrorInfo"].reason == "SERVICE_UNAVAILABLE"
        assert details["RetryInfo"].retry_delay.ToTimedelta() == dt.timedelta(seconds=30)
    listed = admin("ListOutages", sc.ListOutagesRequest())
    assert [o.outage_id for o in listed.outages] == [outage.outage_id]

    clock.advance(dt.timedelta(seconds=20))
    assert details_of(_unavailable(verify))["RetryInfo"].retry_delay.ToTimedelta() == dt.timedelta(
        seconds=10
    )
    clock.advance(dt.timedelta(seconds=10))
    assert verify().match.outcome == common.MATCH_OUTCOME_MATCHED
    assert not admin("ListOutages", sc.ListOutagesRequest()).outages  # ended: no longer listed


def test_an_outage_of_named_methods_refuses_only_them_until_cancelled(dwp, clock):
    admin, verify, record = dwp
    outage = admin(
        "ScheduleOutage",
        sc.ScheduleOutageRequest(
            request_id=str(uuid.uuid4()),
            outage=_outage(
                clock.now(),
                3600,
                kind=sc.OUTAGE_KIND_SCHEDULED_MAINTENANCE,
                methods=["VerifyNino"],
            ),
        ),
    )
    assert details_of(_unavailable(verify))["ErrorInfo"].reason == "SCHEDULED_MAINTENANCE"
    assert record().nino == "AG765432A"
    cancelled = admin(
        "CancelOutage",
        sc.CancelOutageRequest(request_id=str(uuid.uuid4()), outage_id=outage.outage_id),
    )
    assert cancelled.end_time.ToDatetime(dt.UTC) == clock.now()
    assert verify().match.outcome == common.MATCH_OUTCOME_MATCHED
    assert not admin("ListOutages", sc.ListOutagesRequest()).outages

    with pytest.raises(grpc.RpcError) as err:  # over already
        admin(
            "CancelOutage",
            sc.CancelOutageRequest(request_id=str(uuid.uuid4()), outage_id=outage.outage_id),
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.RpcError) as err:
        admin(
            "CancelOutage",
            sc.CancelOutageRequest(request_id=str(uuid.uuid4()), outage_id=str(uuid.uuid4())),
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_a_later_outage_starts_on_the_clock_and_a_cancelled_one_never_does(dwp, clock):
    admin, verify, _ = dwp
    later = clock.now() + dt.timedelta(minutes=10)
    first = admin(
        "ScheduleOutage",
        sc.ScheduleOutageRequest(request_id=str(uuid.uuid4()), outage=_outage(later, 60)),
    )
    second = admin(
        "ScheduleOutage",
        sc.ScheduleOutageRequest(
            request_id=str(uuid.uuid4()), outage=_outage(later + dt.timedelta(hours=1), 60)
        ),
    )
    page = admin("ListOutages", sc.ListOutagesRequest(page_size=1))
    assert [o.outage_id for o in page.outages] == [first.outage_id] and page.next_page_token
    rest = admin("ListOutages", sc.ListOutagesRequest(page_size=1, page_token=page.next_page_token))
    assert [o.outage_id for o in rest.outages] == [second.outage_id] and not rest.next_page_token

    assert verify().match.outcome == common.MATCH_OUTCOME_MATCHED  # not started yet
    admin(
        "CancelOutage",
        sc.CancelOutageRequest(request_id=str(uuid.uuid4()), outage_id=second.outage_id),
    )
    clock.set(later)
    _unavailable(verify)
    clock.set(later + dt.timedelta(hours=1, seconds=30))  # inside the cancelled window
    assert verify().match.outcome == common.MATCH_OUTCOME_MATCHED


def test_scheduling_is_idempotent_on_the_request_id(dwp, clock):
    admin, _, _ = dwp
    request = sc.ScheduleOutageRequest(
        request_id=str(uuid.uuid4()), outage=_outage(clock.now(), 30)
    )
    first, again = admin("ScheduleOutage", request), admin("ScheduleOutage", request)
    assert again == first
    assert len(admin("ListOutages", sc.ListOutagesRequest()).outages) == 1


def test_bad_outages_are_named(dwp, clock):
    admin, _, _ = dwp
    now = clock.now()
    for outage, field in [
        (_outage(now, -5), "outage.end_time"),  # end before start
        (_outage(now - dt.timedelta(hours=2), 60), "outage.end_time"),  # already over
        (_outage(now, 30, methods=["NoSuchMethod"]), "outage.methods[0]"),
        (sc.Outage(kind=sc.OUTAGE_KIND_UNPLANNED, end_time=ts(now)), "outage.start_time"),
        (
            sc.Outage(
                kind=sc.OUTAGE_KIND_UNPLANNED, start_time=ts(now), end_time=Timestamp(seconds=2**62)
            ),
            "outage.end_time",
        ),
    ]:
        with pytest.raises(grpc.RpcError) as err:
            admin(
                "ScheduleOutage",
                sc.ScheduleOutageRequest(request_id=str(uuid.uuid4()), outage=outage),
            )
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert field in violated_fields(err.value), field
    assert not admin("ListOutages", sc.ListOutagesRequest()).outages


# -- settings --------------------------------------------------------------------------------------------------------


def _update(admin, settings: sc.SimulationSettings, *paths: str, request_id: str | None = None):
    return admin(
        "UpdateSimulationSettings",
        sc.UpdateSimulationSettingsRequest(
            request_id=request_id or str(uuid.uuid4()),
            settings=settings,
            update_mask=field_mask_pb2.FieldMask(paths=list(paths)),
        ),
    )


def test_a_profile_resets_the_settings_and_a_mask_changes_only_what_it_names(dwp):
    admin, _, _ = dwp
    before = admin("GetSimulationSettings", sc.GetSimulationSettingsRequest())
    assert before.profile == sc.SIMULATION_PROFILE_DEFAULT and not before.HasField("update_time")

    realistic = _update(
        admin,
        sc.SimulationSettings(profile=sc.SIMULATION_PROFILE_REALISTIC, requests_per_second_limit=5),
        "profile",
        "requests_per_second_limit",
    )
    assert realistic.profile == sc.SIMULATION_PROFILE_REALISTIC
    assert realistic.latency_p50.ToTimedelta() == dt.timedelta(milliseconds=300)
    assert realistic.jcp_decision_delay.ToTimedelta() == dt.timedelta(days=3)
    assert realistic.requests_per_second_limit == 5  # set alongside the profile: overrides its 3
    assert realistic.HasField("update_time")

    request_id = str(uuid.uuid4())
    changed = _update(
        admin,
        sc.SimulationSettings(random_failure_basis_points=0),
        "random_failure_basis_points",
        request_id=request_id,
    )
    assert changed.random_failure_basis_points == 0
    assert changed.latency_p50 == realistic.latency_p50 and changed.weekend_maintenance
    assert admin("GetSimulationSettings", sc.GetSimulationSettingsRequest()) == changed

    default = _update(
        admin, sc.SimulationSettings(profile=sc.SIMULATION_PROFILE_DEFAULT), "profile"
    )
    assert not default.weekend_maintenance and not default.latency_p50.ToTimedelta()
    # A retry of the earlier update answers as then and changes nothing.
    again = _update(
        admin,
        sc.SimulationSettings(random_failure_basis_points=0),
        "random_failure_basis_points",
        request_id=request_id,
    )
    assert again == changed
    assert admin("GetSimulationSettings", sc.GetSimulationSettingsRequest()) == default


def test_bad_settings_are_named_and_change_nothing(dwp):
    admin, _, _ = dwp
    for settings, paths, field in [
        (
            sc.SimulationSettings(random_failure_basis_points=10_001),
            (),
            "settings.random_failure_basis_points",
        ),
        (
            sc.SimulationSettings(requests_per_second_limit=-1),
            (),
            "settings.requests_per_second_limit",
        ),
        (sc.SimulationSettings(), ("no_such_field",), "update_mask.paths[0]"),
        (sc.SimulationSettings(), ("profile",), "settings.profile"),
    ]:
        with pytest.raises(grpc.RpcError) as err:
            _update(admin, settings, *paths)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert field in violated_fields(err.value), field
    endless = sc.SimulationSettings()
    endless.latency_p50.seconds = 10**12  # past what a timedelta holds: named, not an overflow
    with pytest.raises(grpc.RpcError) as err:
        _update(admin, endless, "latency_p50")
    assert "settings.latency_p50" in violated_fields(err.value)
    slow = sc.SimulationSettings()
    slow.latency_p50.FromTimedelta(dt.timedelta(seconds=2))
    slow.latency_p95.FromTimedelta(dt.timedelta(seconds=1))
    with pytest.raises(grpc.RpcError) as err:
        _update(admin, slow, "latency_p50", "latency_p95")
    assert "settings.latency_p95" in violated_fields(err.value)
    assert not admin("GetSimulationSettings", sc.GetSimulationSettingsRequest()).HasField(
        "update_time"
    )


def test_settings_act_on_the_next_call(dwp, clock):
    admin, verify, _ = dwp
    _update(
        admin,
        sc.SimulationSettings(random_failure_basis_points=10_000),
        "random_failure_basis_points",
    )
    assert details_of(_unavailable(verify))["ErrorInfo"].reason == "SERVICE_UNAVAILABLE"
    _update(
        admin, sc.SimulationSettings(random_failure_basis_points=0), "random_failure_basis_points"
    )
    assert verify().match.outcome == common.MATCH_OUTCOME_MATCHED

    _update(admin, sc.SimulationSettings(weekend_maintenance=True), "weekend_maintenance")
    assert (
        verify().match.outcome == common.MATCH_OUTCOME_MATCHED
    )  # Monday 09:00: the window has closed
    clock.set(dt.datetime(2026, 4, 11, 12, 0, tzinfo=dt.UTC))  # Saturday noon
    details = details_of(_unavailable(verify))
    assert details["ErrorInfo"].reason == "SCHEDULED_MAINTENANCE"
    assert details["RetryInfo"].retry_delay.ToTimedelta() == dt.timedelta(days=1, hours=21)

    _update(
        admin,
        sc.SimulationSettings(weekend_maintenance=False, partial_match_basis_points=10_000),
        "weekend_maintenance",
        "partial_match_basis_points",
    )
    assert verify().match.outcome == common.MATCH_OUTCOME_PARTIAL
