"""CraGatewayService through the real server: the legal gateway, validation, the four searches, audit, and the
scenario service's idempotent changes (fixtures in conftest.py)."""

from __future__ import annotations

import uuid

import grpc
import structlog
from google.type import date_pb2

from cms.common.v1 import types_pb2 as common
from cms.cra.v1 import cra_scenario_service_pb2 as sc
from cms.cra.v1 import cra_service_pb2 as api
from cms.cra.v1 import resources_pb2 as pb
from cms_cra_gateway.audit import AuditRecord
from cms_cra_gateway.simulator.models import SearchFootprintRecord
from cms_platform.grpc_errors import violated_fields

from .conftest import ALEX, alex, basis, code_of, d, error_info

MATCHED, PARTIAL, NOT_FOUND = (
    common.MATCH_OUTCOME_MATCHED,
    common.MATCH_OUTCOME_PARTIAL,
    common.MATCH_OUTCOME_NOT_FOUND,
)


# -- legal gateway -----------------------------------------------------------------------------------------------


def test_a_search_without_case_and_purpose_is_refused_before_anything_else(cra):
    for request, field in (
        (api.TracePersonRequest(person=alex()), "legal_basis"),
        (
            api.TracePersonRequest(legal_basis=pb.LegalBasis(purpose=pb.SEARCH_PURPOSE_TRACE)),
            "legal_basis.case_reference",
        ),
        (
            api.GetCreditScoreRequest(legal_basis=pb.LegalBasis(case_reference="c")),
            "legal_basis.purpose",
        ),
    ):
        err = code_of(
            lambda request=request: cra(type(request).__name__.removesuffix("Request"), request)
        )
        assert err.code() == grpc.StatusCode.PERMISSION_DENIED
        info = error_info(err)
        assert (info.reason, info.metadata["field"]) == ("LEGAL_BASIS_MISSING", field)
    # A purpose the interface does not serve: surveillance cannot be used to trace, nor a trace to score.
    err = code_of(
        lambda: cra(
            "TracePerson",
            api.TracePersonRequest(
                legal_basis=basis(pb.SEARCH_PURPOSE_CASE_SURVEILLANCE), person=alex()
            ),
        )
    )
    assert (
        err.code() == grpc.StatusCode.PERMISSION_DENIED
        and error_info(err).reason == "PURPOSE_NOT_PERMITTED"
    )
    err = code_of(
        lambda: cra(
            "GetCreditScore",
            api.GetCreditScoreRequest(legal_basis=basis(pb.SEARCH_PURPOSE_TRACE), person=alex()),
        )
    )
    assert error_info(err).reason == "PURPOSE_NOT_PERMITTED"
    with cra.service.sessions() as s:  # nothing reached the agency: no footprint
        assert s.query(SearchFootprintRecord).count() == 0


def test_bad_input_names_the_field(cra):
    err = code_of(
        lambda: cra(
            "TracePerson",
            api.TracePersonRequest(
                legal_basis=basis(pb.SEARCH_PURPOSE_TRACE), person=alex(nino="AA12345")
            ),
        )
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "person.nino" in violated_fields(err)
    err = code_of(
        lambda: cra(
            "GetFinancialDataAtArrears",
            api.GetFinancialDataAtArrearsRequest(
                legal_basis=basis(pb.SEARCH_PURPOSE_ARREARS_COLLECTION)
            ),
        )
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "person" in violated_fields(err)
    err = code_of(
        lambda: cra(
            "StartCaseSurveillance",
            api.StartCaseSurveillanceRequest(
                request_id=str(uuid.uuid4()),
                legal_basis=basis(pb.SEARCH_PURPOSE_CASE_SURVEILLANCE),
                person=alex(),
                review_date=d(2026, 4, 6),
            ),
        )
    )
    assert violated_fields(err) == ["review_date"]  # not after today
    err = code_of(
        lambda: cra.change(
            add_current_account=pb.CurrentAccount(
                provider_name="Albion Bank",
                sort_code="123456",
                account_number="1234",
                holding=pb.ACCOUNT_HOLDING_SOLE,
            )
        )
    )
    assert sorted(violated_fields(err)) == [
        "add_current_account.account_number",
        "add_current_account.sort_code",
    ]
    err = code_of(
        lambda: cra(
            "ApplyCreditFileChange",
            sc.ApplyCreditFileChangeRequest(request_id=str(uuid.uuid4()), nino=ALEX),
        )
    )
    assert violated_fields(err) == ["change"]
    err = code_of(
        lambda: cra.change(
            update_credit_account_status=sc.UpdateCreditAccountStatus(
                account_id="cr-nothing", status=pb.ACCOUNT_STATUS_SETTLED
            )
        )
    )
    assert err.code() == grpc.StatusCode.NOT_FOUND


# -- searches ------------------------------------------------------------------------------------------------------


def test_trace_ranks_addresses_and_leaves_a_soft_footprint(cra):
    leeds = common.Address(lines=["14 Victoria Road"], post_town="LEEDS", postcode="LS61DL")
    found = cra(
        "TracePerson",
        api.TracePersonRequest(
            legal_basis=basis(pb.SEARCH_PURPOSE_TRACE), person=alex(), last_known_address=leeds
        ),
    )
    assert found.match.outcome == MATCHED and found.search_reference.startswith("SRCH-")
    assert [a.rank for a in found.addresses] == list(range(1, len(found.addresses) + 1))
    best = found.addresses[0]
    assert (best.address_link.link_type, best.address_link.address.postcode) == (
        pb.ADDRESS_LINK_TYPE_CURRENT,
        "LS6 1DL",
    )  # as HMRC and DWP hold it
    assert "MATCHES_LAST_KNOWN_ADDRESS" in best.reasons and found.last_known_address_confirmed

    # The agency sees credit activity at a newer address: the forward link now ranks first.
    cra.change(set_scenarios=sc.SetScenarios(scenarios=[pb.CREDIT_FILE_SCENARIO_FORWARD_ADDRESS]))
    moved = cra(
        "TracePerson",
        api.TracePersonRequest(
            legal_basis=basis(pb.SEARCH_PURPOSE_TRACE), person=alex(), last_known_address=leeds
        ),
    )
    assert moved.addresses[0].address_link.link_type == pb.ADDRESS_LINK_TYPE_FORWARD
    assert (
        "FORWARD_ADDRESS_LINK" in moved.addresses[0].reasons
        and not moved.last_known_address_confirmed
    )

    prints = cra(
        "ListSearchFootprints", sc.ListSearchFootprintsRequest(nino=ALEX)
    ).search_footprints
    assert [p.search_reference for p in prints] == [moved.search_reference, found.search_reference]
    assert {(p.type, p.searcher_name, p.purpose) for p in prints} == {
        (pb.SEARCH_FOOTPRINT_TYPE_SOFT, "Child Maintenance Service", pb.SEARCH_PURPOSE_TRACE)
    }

    with cra.service.sessions() as s:
        rows = s.query(AuditRecord).order_by(AuditRecord.id).all()
    assert [(r.interface, r.case_id, r.outcome) for r in rows] == [
        ("CRA Trace", "case-e1", "MATCHED")
    ] * 2
    assert rows[0].file_reference.startswith("cra-") and ALEX not in rows[0].file_reference
    assert rows[0].legal_basis.endswith("purpose TRACE") and "officer-7" in rows[0].caller


def test_not_found_and_partial_matches(cra):
    nobody = cra(
        "TracePerson",
        api.TracePersonRequest(
            legal_basis=basis(pb.SEARCH_PURPOSE_TRACE), person=alex(nino="ZX999999D")
        ),
    )
    assert (
        nobody.match.outcome == NOT_FOUND and not nobody.search_reference and not nobody.addresses
    )
    wrong_dob = cra(
        "GetCreditScore",
        api.GetCreditScoreRequest(legal_basis=basis(), person=alex(dob=(1985, 3, 15))),
    )
    assert wrong_dob.match.outcome == PARTIAL and list(wrong_dob.match.failed_rules) == [
        "DATE_OF_BIRTH"
    ]
    assert wrong_dob.score > 0  # the data comes back; the caller verifies before acting on it
    cra.change(set_scenarios=sc.SetScenarios(scenarios=[pb.CREDIT_FILE_SCENARIO_NO_TRACE]))
    gone = cra(
        "GetFinancialDataEnforcement",
        api.GetFinancialDataEnforcementRequest(legal_basis=basis(), person=alex()),
    )
    assert gone.match.outcome == NOT_FOUND and not gone.account_leads
    cra("ResetCreditFile", sc.ResetCreditFileRequest(request_id=str(uuid.uuid4()), nino=ALEX))
    back = cra(
        "GetFinancialDataEnforcement",
        api.GetFinancialDataEnforcementRequest(legal_basis=basis(), person=alex()),
    )
    assert back.match.outcome == MATCHED


def test_credit_score_falls_with_a_default_and_is_capped_by_insolvency(cra):
    def score():
        return cra(
            "GetCreditScore",
            api.GetCreditScoreRequest(
                legal_basis=basis(pb.SEARCH_PURPOSE_DEDUCTION_ORDER), person=alex()
            ),
        )

    before = score()
    assert 0 < before.score <= 999 and before.band != api.SCORE_BAND_UNSPECIFIED
    card = cra.change(
        add_credit_account=pb.CreditAccount(
            lender_name="Meridian Cards",
            balance_pence=1_900_00,
            type=pb.CREDIT_ACCOUNT_TYPE_CREDIT_CARD,
            credit_limit_pence=2_000_00,
            opened_date=d(2019, 1, 1),
        )
    )
    cra.change(
        update_credit_account_status=sc.UpdateCreditAccountStatus(
            account_id=card.created_id,
            status=pb.ACCOUNT_STATUS_DEFAULTED,
            default_date=d(2026, 3, 1),
            default_balance_pence=1_950_00,
        )
    )
    after = score()
    assert after.score < before.score and "RECENT_DEFAULT" in after.reason_codes
    assert after.attributes.default_count >= 1 and after.attributes.months_since_last_default == 1
    cra.change(set_scenarios=sc.SetScenarios(scenarios=[pb.CREDIT_FILE_SCENARIO_INSOLVENT]))
    insolvent = score()
    assert insolvent.score <= 250 and insolvent.attributes.insolvency_in_force


def test_financial_data_at_arrears_ranks_accounts_and_employment_together(cra):
    out = cra(
        "GetFinancialDataAtArrears",
        api.GetFinancialDataAtArrearsRequest(
            legal_basis=basis(pb.SEARCH_PURPOSE_ARREARS_COLLECTION), person=alex()
        ),
    )
    ranks = sorted(
        [a.assessment.rank for a in out.account_leads]
        + [e.assessment.rank for e in out.employment_leads]
    )
    assert ranks == list(range(1, len(ranks) + 1))
    # Salary credits from the employer HMRC reports (Harbour Logistics) point to a deduction from earnings order.
    [job] = [e for e in out.employment_leads if e.hint.employer_name == "Harbour Logistics Ltd"]
    assert job.assessment.suggested_action == pb.ENFORCEMENT_ACTION_DEDUCTION_FROM_EARNINGS_ORDER
    assert "RECENT_SALARY_CREDITS" in job.assessment.reasons
    main = out.account_leads[0].account
    assert len(main.monthly_turnover) == 12 and main.monthly_turnover[0].month == date_pb2.Date(
        year=2026, month=3
    )
    # £31,200 a year, 78% taken home: about £2,028 a month credited.
    assert 1_900_00 < main.average_monthly_credit_turnover_pence < 2_400_00


def test_financial_data_enforcement_adds_property_records_and_cautions(cra):
    home = common.Address(lines=["14 Victoria Road"], post_town="LEEDS", postcode="LS6 1DL")
    cra.change(
        add_property_indicator=pb.PropertyIndicator(
            type=pb.PROPERTY_INDICATOR_TYPE_MORTGAGE,
            address=home,
            holding=pb.ACCOUNT_HOLDING_SOLE,
            secured_balance_pence=90_000_00,
        )
    )
    ccj = cra.change(
        add_public_record=pb.PublicRecord(
            type=pb.PUBLIC_RECORD_TYPE_COUNTY_COURT_JUDGMENT,
            record_date=d(2025, 11, 3),
            amount_pence=2_400_00,
            court_name="County Court at Leeds",
            child_maintenance_liability_order=True,
        )
    )
    cra.change(
        add_fraud_marker=pb.FraudMarker(
            type=pb.FRAUD_MARKER_TYPE_PROTECTIVE_REGISTRATION,
            recorded_date=d(2026, 1, 10),
            expiry_date=d(2028, 1, 10),
        )
    )
    out = cra(
        "GetFinancialDataEnforcement",
        api.GetFinancialDataEnforcementRequest(legal_basis=basis(), person=alex()),
    )
    [house] = [p for p in out.property_leads if p.property.address.postcode == "LS6 1DL"]
    assert house.assessment.suggested_action == pb.ENFORCEMENT_ACTION_CHARGING_ORDER
    assert "AT_CURRENT_ADDRESS" in house.assessment.reasons
    assert ccj.created_id in [r.record_id for r in out.public_records]
    assert {"FRAUD_PROTECTIVE_REGISTRATION", "UNSATISFIED_JUDGMENTS"} <= set(out.cautions)
    every = [
        x.assessment.rank for x in (*out.account_leads, *out.employment_leads, *out.property_leads)
    ]
    assert sorted(every) == list(range(1, len(every) + 1))


def test_no_identifier_reaches_the_logs(cra):
    with structlog.testing.capture_logs() as logs:
        cra(
            "TracePerson",
            api.TracePersonRequest(legal_basis=basis(pb.SEARCH_PURPOSE_TRACE), person=alex()),
        )
        out = cra(
            "GetFinancialDataEnforcement",
            api.GetFinancialDataEnforcementRequest(legal_basis=basis(), person=alex()),
        )
        code_of(
            lambda: cra(
                "TracePerson",
                api.TracePersonRequest(
                    legal_basis=basis(pb.SEARCH_PURPOSE_TRACE), person=alex(nino="ZZ12")
                ),
            )
        )
        code_of(lambda: cra("GetCreditScore", api.GetCreditScoreRequest(person=alex())))
    numbers = {a.account.account_number for a in out.account_leads}
    text = repr(logs)
    assert logs, "the searches were logged"
    for secret in (ALEX, "Turner", "LS6 1DL", "Victoria Road", "ZZ12", *numbers):
        assert secret not in text


# -- idempotency ---------------------------------------------------------------------------------------------------


def test_mutations_are_idempotent_on_request_id(cra):
    request = sc.ApplyCreditFileChangeRequest(
        request_id=str(uuid.uuid4()),
        nino=ALEX,
        add_employment_hint=pb.EmploymentHint(
            employer_name="Kirkstall Joinery Ltd",
            source=pb.EMPLOYMENT_HINT_SOURCE_CREDIT_APPLICATION,
        ),
    )
    first, second = cra("ApplyCreditFileChange", request), cra("ApplyCreditFileChange", request)
    assert first.created_id == second.created_id
    file = cra("GetCreditFile", sc.GetCreditFileRequest(nino=ALEX))
    assert [h.employer_name for h in file.employment_hints].count("Kirkstall Joinery Ltd") == 1
    start = api.StartCaseSurveillanceRequest(
        request_id=str(uuid.uuid4()),
        legal_basis=basis(pb.SEARCH_PURPOSE_CASE_SURVEILLANCE, "case-i"),
        person=alex(),
        review_date=d(2026, 9, 1),
    )
    assert (
        cra("StartCaseSurveillance", start).surveillance_id
        == cra("StartCaseSurveillance", start).surveillance_id
    )
