"""dwp-gateway's CIS enquiries through the real gRPC server (port 0) over the shared population's fixtures
(libs/simulation/src/cms_simulation/population/fixtures.py): identity, records, benefits, the audit trail and the
simulated system's maintenance window. Business clock: 6 April 2026."""

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

MATCHED, PARTIAL, NOT_FOUND = (
    common.MATCH_OUTCOME_MATCHED,
    common.MATCH_OUTCOME_PARTIAL,
    common.MATCH_OUTCOME_NOT_FOUND,
)


def d(y, m, day):
    return date_pb2.Date(year=y, month=m, day=day)


def person(nino="AG765432A", forenames="Siân", surname="Llewellyn-Price", dob=(1983, 5, 17)):
    return common.PersonIdentity(
        nino=nino,
        name=common.PersonName(forenames=forenames, surname=surname),
        date_of_birth=d(*dob),
    )


@pytest.fixture
def cis(start_service, creds):
    _, channel = start_service(DwpGatewayService)
    stub = api_grpc.DwpGatewayServiceStub(channel)
    return lambda method, request: getattr(stub, method)(request, metadata=creds.staff(), timeout=5)


def test_verify_nino_normalises_names_and_names_each_failed_rule(cis):
    ok = cis(
        "VerifyNino",
        api.VerifyNinoRequest(person=person(surname="llewellyn price"), postcode="sa2 9gh"),
    )
    assert (
        ok.match.outcome == MATCHED and ok.nino == "AG765432A" and ok.person_id.startswith("cis-")
    )
    assert "AG765432A" not in ok.person_id  # the opaque id is what the gateway logs and audits
    partial = cis(
        "VerifyNino",
        api.VerifyNinoRequest(
            person=person(surname="Okafor", dob=(1983, 5, 18)), postcode="SA1 1AA"
        ),
    )
    assert partial.match.outcome == PARTIAL
    assert list(partial.match.failed_rules) == ["SURNAME", "DATE_OF_BIRTH", "POSTCODE"]
    assert (
        cis("VerifyNino", api.VerifyNinoRequest(person=person(nino="ZX999999D"))).match.outcome
        == NOT_FOUND
    )


def test_verify_child_reference_number_directly_or_through_a_parent(cis):
    by_crn = cis(
        "VerifyChildReferenceNumber",
        api.VerifyChildReferenceNumberRequest(
            child_reference_number="AK100004D",
            name=common.PersonName(forenames="Tomos", surname="Okafor"),
            date_of_birth=d(2010, 3, 1),
        ),
    )
    assert by_crn.match.outcome == MATCHED
    via_parent = cis(
        "VerifyChildReferenceNumber",
        api.VerifyChildReferenceNumberRequest(
            parent_nino="AG765432A",
            name=common.PersonName(forenames="Osian", surname="Okafor"),
            date_of_birth=d(2014, 11, 11),
        ),
    )
    assert (via_parent.match.outcome, via_parent.child_reference_number) == (MATCHED, "AK100005A")
    nobody = cis(
        "VerifyChildReferenceNumber",
        api.VerifyChildReferenceNumberRequest(
            parent_nino="AG765432A",
            name=common.PersonName(forenames="Zoe", surname="Okafor"),
            date_of_birth=d(2012, 1, 1),
        ),
    )
    assert nobody.match.outcome == NOT_FOUND


def test_person_records_for_an_adult_and_a_child(cis):
    record = cis("GetPersonRecord", api.GetPersonRecordRequest(nino="AG765432A"))
    assert (
        record.name.surname == "Llewellyn-Price"
        and record.addresses[0].address.postcode == "SA2 9GH"
    )
    children = [
        r.related_child_reference_number
        for r in record.relationships
        if r.type == pb.RELATIONSHIP_TYPE_CHILD
    ]
    assert children == ["AK100003C", "AK100004D", "AK100005A"]
    child = cis("GetPersonRecord", api.GetPersonRecordRequest(child_reference_number="AK100003C"))
    assert child.name.forenames == "Ffion" and child.relationships[0].related_nino == "AG765432A"
    with pytest.raises(grpc.RpcError) as err:
        cis("GetPersonRecord", api.GetPersonRecordRequest(nino="ZX999999D"))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_benefit_awards_and_the_caseworker_view(cis):
    awards = cis("ListBenefitAwards", api.ListBenefitAwardsRequest(nino="AE456789D")).benefit_awards
    jsa = next(
        a for a in awards if a.benefit_type == pb.BENEFIT_TYPE_JOBSEEKERS_ALLOWANCE_INCOME_BASED
    )
    assert jsa.status == pb.BENEFIT_AWARD_STATUS_IN_PAYMENT
    assert (jsa.administering_system, jsa.cis_business) == (
        pb.BENEFIT_SYSTEM_JSAPS,
        pb.CIS_BUSINESS_JOBSEEKERS_ALLOWANCE,
    )
    assert (jsa.flat_rate_prescription, jsa.deduction_route) == (
        pb.FLAT_RATE_PRESCRIPTION_PARENT_OR_PARTNER,
        pb.DEDUCTION_ROUTE_AUTOMATED,
    )
    view = cis("ViewBenefitInfo", api.ViewBenefitInfoRequest(nino="AE456789D"))
    assert view.flat_rate_benefit_in_payment and view.as_of_date == d(2026, 4, 6)
    assert cis("ViewBenefitInfo", api.ViewBenefitInfoRequest(nino="AG765432A")).live_awards == []
    only_uc = cis(
        "ListBenefitAwards",
        api.ListBenefitAwardsRequest(
            nino="AE456789D", benefit_types=[pb.BENEFIT_TYPE_UNIVERSAL_CREDIT]
        ),
    )
    assert all(a.benefit_type == pb.BENEFIT_TYPE_UNIVERSAL_CREDIT for a in only_uc.benefit_awards)


def test_bad_input_is_named(cis):
    for method, request, field in [
        ("VerifyNino", api.VerifyNinoRequest(person=person(nino="QQ123456A")), "person.nino"),
        ("GetPersonRecord", api.GetPersonRecordRequest(), "nino"),
        (
            "ListBenefitAwards",
            api.ListBenefitAwardsRequest(nino="AE456789D", benefit_types=[99]),
            "benefit_types[0]",
        ),
        (
            "ListBenefitAwards",
            api.ListBenefitAwardsRequest(
                nino="AE456789D", effective_from_date=d(2026, 5, 1), effective_to_date=d(2026, 4, 1)
            ),
            "effective_to_date",
        ),
        (
            "ViewBenefitInfo",
            api.ViewBenefitInfoRequest(nino="AE456789D", as_of_date=d(2026, 2, 30)),
            "as_of_date",
        ),
    ]:
        with pytest.raises(grpc.RpcError) as err:
            cis(method, request)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, (method, field)
        assert field in violated_fields(err.value), (method, field)


def test_enquiries_are_audited_by_person_id_never_by_nino(start_service, creds):
    from cms.dwp.v1 import resources_pb2 as res
    from cms_dwp_gateway.audit import AuditRecord

    service, channel = start_service(DwpGatewayService, db_name="dwp-audit")
    gw = api_grpc.DwpGatewayServiceStub(channel)
    context = res.EnquiryContext(case_id="case-77", service_request_id="sr-9")
    gw.VerifyNino(
        api.VerifyNinoRequest(person=person(), context=context), metadata=creds.staff(), timeout=5
    )
    gw.ListBenefitAwards(
        api.ListBenefitAwardsRequest(nino="AG765432A", context=context),
        metadata=creds.staff(),
        timeout=5,
    )
    with service.sessions() as s:
        rows = s.query(AuditRecord).filter_by(case_id="case-77").order_by(AuditRecord.id).all()
    assert [(r.interface, r.outcome, r.service_request_id) for r in rows] == [
        ("VerifyNino", "MATCHED", "sr-9"),
        ("ListBenefitAwards", "FOUND", "sr-9"),
    ]
    assert all(r.person_id.startswith("cis-") and "AG765432A" not in r.person_id for r in rows)
    assert "Child Support Act 1991 s14" in rows[0].legal_basis and rows[0].caller.startswith(
        "staff"
    )


def test_cis_maintenance_window_answers_unavailable_with_the_retry_delay(
    start_service, creds, clock
):
    import datetime as dt

    from cms_platform.grpc_errors import details_of

    _, channel = start_service(
        DwpGatewayService,
        db_name="dwp-maintenance",
        maintenance_windows=[
            (clock.now() - dt.timedelta(hours=1), clock.now() + dt.timedelta(hours=2))
        ],
    )
    with pytest.raises(grpc.RpcError) as err:
        api_grpc.DwpGatewayServiceStub(channel).VerifyNino(
            api.VerifyNinoRequest(person=person()), metadata=creds.staff(), timeout=5
        )
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    assert details_of(err.value)["ErrorInfo"].reason == "SCHEDULED_MAINTENANCE"
    assert details_of(err.value)["RetryInfo"].retry_delay.ToTimedelta() == dt.timedelta(hours=2)
    # A malformed request is refused for what it is, maintenance or not: it never reaches CIS.
    with pytest.raises(grpc.RpcError) as err:
        api_grpc.DwpGatewayServiceStub(channel).VerifyNino(
            api.VerifyNinoRequest(person=person(nino="AA12")), metadata=creds.staff(), timeout=5
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and violated_fields(err.value) == [
        "person.nino"
    ]
