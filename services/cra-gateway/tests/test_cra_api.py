"""cra-gateway through the real gRPC server (port 0), the real database and the real broker, over the shared
population's fixtures (Alex Turner AA123456A: PAYE at Harbour Logistics, 14 Victoria Road, Leeds LS6 1DL; Chidi
Okafor AC345678C: self-employed, partner of Dana Whitfield AE456789D). Business clock: 6 April 2026."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import grpc
import pytest
from google.type import date_pb2

from cms.common.v1 import types_pb2 as common
from cms.cra.v1 import cra_scenario_service_pb2 as sc
from cms.cra.v1 import cra_scenario_service_pb2_grpc as sc_grpc
from cms.cra.v1 import cra_service_pb2 as api
from cms.cra.v1 import cra_service_pb2_grpc as api_grpc
from cms.cra.v1 import events_pb2 as ev
from cms.cra.v1 import resources_pb2 as pb
from cms_cra_gateway.app import CraGatewayService
from cms_platform.grpc_errors import details_of, violated_fields

MATCHED, PARTIAL, NOT_FOUND = (
    common.MATCH_OUTCOME_MATCHED,
    common.MATCH_OUTCOME_PARTIAL,
    common.MATCH_OUTCOME_NOT_FOUND,
)
ALEX = "AA123456A"
TOPIC = "cms.cra.events.v1"


def d(y, m, day):
    return date_pb2.Date(year=y, month=m, day=day)


def alex(**changes):
    values = dict(nino=ALEX, forenames="Alex", surname="Turner", dob=(1985, 3, 14))
    values.update(changes)
    return common.PersonIdentity(
        nino=values["nino"],
        name=common.PersonName(forenames=values["forenames"], surname=values["surname"]),
        date_of_birth=d(*values["dob"]),
    )


def basis(purpose=pb.SEARCH_PURPOSE_ENFORCEMENT, case="case-e1"):
    return pb.LegalBasis(case_reference=case, purpose=purpose)


class Gateway:
    def __init__(self, service, channel, creds):
        self.service = service
        self._gw, self._sc = (
            api_grpc.CraGatewayServiceStub(channel),
            sc_grpc.CraScenarioServiceStub(channel),
        )
        self._md = creds.staff("officer-7", "caseworker")

    def __call__(self, method, request):
        stub = self._gw if hasattr(self._gw, method) else self._sc
        return getattr(stub, method)(request, metadata=self._md, timeout=15)

    def change(self, nino=ALEX, effective=None, **change):
        request = sc.ApplyCreditFileChangeRequest(request_id=str(uuid.uuid4()), nino=nino, **change)
        if effective:
            request.effective_date.CopyFrom(effective)
        return self("ApplyCreditFileChange", request)


@pytest.fixture
def cra(start_service, creds):
    service, channel = start_service(
        CraGatewayService, population_size=10_000, surveillance_check_interval_seconds=0
    )
    return Gateway(service, channel, creds)


@pytest.fixture
def cra_with_broker(start_service, creds, kafka_bootstrap):
    service, channel = start_service(
        CraGatewayService,
        db_name="cra-events",
        kafka=kafka_bootstrap,
        population_size=10_000,
        surveillance_check_interval_seconds=0,
    )
    return Gateway(service, channel, creds), kafka_bootstrap


def error_info(err):
    return details_of(err)["ErrorInfo"]


def code_of(call):
    with pytest.raises(grpc.RpcError) as err:
        call()
    return err.value


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
        from cms_cra_gateway.simulator.models import SearchFootprintRecord

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

    from cms_cra_gateway.audit import AuditRecord

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


def test_files_agree_with_the_other_gateways_for_a_couple(cra):
    chidi = cra("GetCreditFile", sc.GetCreditFileRequest(nino="AC345678C"))
    dana = cra("GetCreditFile", sc.GetCreditFileRequest(nino="AE456789D"))
    joint = {a.account_id for a in chidi.current_accounts if a.holding == pb.ACCOUNT_HOLDING_JOINT}
    assert joint and joint == {
        a.account_id for a in dana.current_accounts if a.holding == pb.ACCOUNT_HOLDING_JOINT
    }
    assert [a.name.surname for a in chidi.financial_associates] == ["Whitfield"]
    # Self-employed with £182,000 profit: takings land in a sole trader's business account.
    business = [
        a for a in chidi.current_accounts if a.holding == pb.ACCOUNT_HOLDING_SOLE_TRADER_BUSINESS
    ]
    assert business and business[0].average_monthly_credit_turnover_pence > 15_000_00


def test_no_identifier_reaches_the_logs(cra):
    import structlog

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


# -- case surveillance ----------------------------------------------------------------------------------------------


def _surveil(cra, case, review=d(2026, 7, 1), kinds=()):
    return cra(
        "StartCaseSurveillance",
        api.StartCaseSurveillanceRequest(
            request_id=str(uuid.uuid4()),
            legal_basis=basis(pb.SEARCH_PURPOSE_CASE_SURVEILLANCE, case),
            person=alex(),
            review_date=review,
            watched_kinds=kinds,
        ),
    )


def _events(bootstrap, case, expected):
    from cms_devkit.testing import read_topic

    out = []
    for r in read_topic(bootstrap, TOPIC, expected=expected):
        kind = dict(r.headers)["ce_type"].decode().split(".")[-2]
        message = {
            "alert_raised": ev.CaseSurveillanceAlertRaised,
            "review_due": ev.CaseSurveillanceReviewDue,
            "stopped": ev.CaseSurveillanceStopped,
        }[kind].FromString(r.value)
        if message.case_reference == case:
            out.append((dict(r.headers)["ce_id"].decode(), kind, message))
    return out


def test_surveillance_alerts_on_new_findings_then_review_and_stop(cra_with_broker, clock):
    cra, bootstrap = cra_with_broker
    case = f"case-{uuid.uuid4().hex[:8]}"
    watch = _surveil(
        cra,
        case,
        kinds=[
            pb.SURVEILLANCE_ALERT_KIND_NEW_CURRENT_ACCOUNT,
            pb.SURVEILLANCE_ALERT_KIND_NEW_EMPLOYMENT_HINT,
            pb.SURVEILLANCE_ALERT_KIND_NEW_ADDRESS,
        ],
    )
    assert watch.state == pb.CASE_SURVEILLANCE_STATE_ACTIVE and watch.case_reference == case
    err = code_of(lambda: _surveil(cra, case))
    assert err.code() == grpc.StatusCode.ALREADY_EXISTS

    # A new bank account: one alert, assessed as a deduction-order lead, in the change's own transaction.
    opened = cra.change(
        add_current_account=pb.CurrentAccount(
            provider_name="Thameside Bank",
            sort_code="30-90-12",
            account_number="41234567",
            holding=pb.ACCOUNT_HOLDING_SOLE,
            balance_pence=2_300_00,
            monthly_turnover=[
                pb.MonthlyTurnover(
                    month=date_pb2.Date(year=2026, month=3), credit_turnover_pence=2_600_00
                )
            ],
        )
    )
    [alert] = opened.raised_alerts
    assert (alert.kind, alert.current_account.account_id) == (
        pb.SURVEILLANCE_ALERT_KIND_NEW_CURRENT_ACCOUNT,
        opened.created_id,
    )
    assert alert.assessment.rank == 1 and alert.assessment.suggested_action != 0
    # A judgment is not a watched kind here: recorded on the file, no alert.
    assert not cra.change(
        add_public_record=pb.PublicRecord(
            type=pb.PUBLIC_RECORD_TYPE_COUNTY_COURT_JUDGMENT, record_date=d(2026, 4, 1)
        )
    ).raised_alerts
    # A new job seen from next month: nothing today; the scheduler finds it when the clock gets there.
    hint = cra.change(
        effective=d(2026, 5, 10),
        add_employment_hint=pb.EmploymentHint(
            employer_name="Aire Valley Foods Ltd",
            source=pb.EMPLOYMENT_HINT_SOURCE_CREDIT_APPLICATION,
        ),
    )
    assert not hint.raised_alerts
    run = cra(
        "RunSurveillanceChecks", sc.RunSurveillanceChecksRequest(request_id=str(uuid.uuid4()))
    )
    assert (run.alerts_raised, run.reviews_due) == (0, 0)
    clock.advance(dt.timedelta(days=40))  # 16 May 2026
    run = cra(
        "RunSurveillanceChecks", sc.RunSurveillanceChecksRequest(request_id=str(uuid.uuid4()))
    )
    assert (run.surveillances_checked, run.alerts_raised, run.reviews_due) == (1, 1, 0)

    clock.advance(dt.timedelta(days=46))  # 1 July 2026: the review date
    run = cra(
        "RunSurveillanceChecks", sc.RunSurveillanceChecksRequest(request_id=str(uuid.uuid4()))
    )
    assert run.reviews_due == 1
    again = cra(
        "RunSurveillanceChecks", sc.RunSurveillanceChecksRequest(request_id=str(uuid.uuid4()))
    )
    assert (again.alerts_raised, again.reviews_due) == (0, 0)  # once per review date
    got = cra(
        "GetCaseSurveillance",
        api.GetCaseSurveillanceRequest(
            legal_basis=basis(pb.SEARCH_PURPOSE_CASE_SURVEILLANCE, case),
            surveillance_id=watch.surveillance_id,
        ),
    )
    assert got.state == pb.CASE_SURVEILLANCE_STATE_REVIEW_DUE and got.alert_count == 2
    # Another case cannot see it.
    err = code_of(
        lambda: cra(
            "GetCaseSurveillance",
            api.GetCaseSurveillanceRequest(
                legal_basis=basis(pb.SEARCH_PURPOSE_CASE_SURVEILLANCE, "case-other"),
                surveillance_id=watch.surveillance_id,
            ),
        )
    )
    assert err.code() == grpc.StatusCode.NOT_FOUND

    stopped = cra(
        "StopCaseSurveillance",
        api.StopCaseSurveillanceRequest(
            request_id=str(uuid.uuid4()),
            legal_basis=basis(pb.SEARCH_PURPOSE_CASE_SURVEILLANCE, case),
            surveillance_id=watch.surveillance_id,
            reason=pb.SURVEILLANCE_STOP_REASON_ENFORCEMENT_RESUMED,
        ),
    )
    assert stopped.state == pb.CASE_SURVEILLANCE_STATE_STOPPED
    # Stopped: a new account raises nothing.
    assert not cra.change(
        add_current_account=pb.CurrentAccount(
            provider_name="Albion Bank",
            sort_code="20-00-00",
            account_number="55555555",
            holding=pb.ACCOUNT_HOLDING_SOLE,
        )
    ).raised_alerts

    events = _events(bootstrap, case, expected=4)
    assert [kind for _, kind, _ in events] == [
        "alert_raised",
        "alert_raised",
        "review_due",
        "stopped",
    ]
    assert len({ce_id for ce_id, _, _ in events}) == 4
    review = events[2][2]
    assert review.alerts_since_last_review_count == 2 and review.review_date == d(2026, 7, 1)
    assert list(review.alert_kinds_since_last_review) == [
        pb.SURVEILLANCE_ALERT_KIND_NEW_CURRENT_ACCOUNT,
        pb.SURVEILLANCE_ALERT_KIND_NEW_EMPLOYMENT_HINT,
    ]
    assert events[3][2].alert_count == 2 and events[0][2].nino == ALEX
    alerts = cra(
        "ListSurveillanceAlerts",
        api.ListSurveillanceAlertsRequest(
            legal_basis=basis(pb.SEARCH_PURPOSE_CASE_SURVEILLANCE, case),
            surveillance_id=watch.surveillance_id,
        ),
    )
    assert len(alerts.surveillance_alerts) == 2


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


def test_surveillance_events_reach_a_consumer_group_exactly_once_across_a_restart(
    cra_with_broker, database_url, clock
):
    """A consumer that handles events but dies before committing its offsets gets them again from the broker; the
    platform's idempotent consumer applies each once (its processed-event record is in the handler's transaction)."""
    from kafka import KafkaConsumer
    from sqlalchemy import text

    from cms_devkit.testing import wait_until
    from cms_platform import cloudevents
    from cms_platform.consumer import IdempotentConsumer, Subscription
    from cms_platform.db import make_engine, make_sessionmaker
    from cms_platform.models import ProcessedEvent

    cra, bootstrap = cra_with_broker
    case = f"case-{uuid.uuid4().hex[:8]}"
    watch = _surveil(cra, case)
    for n in range(3):
        cra.change(
            add_current_account=pb.CurrentAccount(
                provider_name="Albion Bank",
                sort_code="20-00-00",
                account_number=f"7000000{n}",
                holding=pb.ACCOUNT_HOLDING_SOLE,
            )
        )
    assert wait_until(lambda: len(_events(bootstrap, case, expected=3)) == 3, timeout=30)

    engine = make_engine(database_url("casework-consumer"))
    ProcessedEvent.__table__.create(engine)
    with engine.begin() as c:
        c.execute(
            text(
                "CREATE TABLE handled (event_id VARCHAR(64) PRIMARY KEY, surveillance_id VARCHAR(64))"
            )
        )
    sessions = make_sessionmaker(engine)

    def handle(s, event: ev.CaseSurveillanceAlertRaised, env: cloudevents.Envelope) -> None:
        if event.case_reference == case:
            s.execute(
                text("INSERT INTO handled VALUES (:e, :s)"),
                {"e": env.id, "s": event.surveillance_id},
            )

    group = f"casework-{uuid.uuid4().hex[:6]}"
    subscription = Subscription(group_id=group, handlers={ev.CaseSurveillanceAlertRaised: handle})
    # First life: handles everything, then "crashes" before committing its offsets.
    first = IdempotentConsumer(
        service="casework",
        subscription=subscription,
        bootstrap_servers=bootstrap,
        sessions=sessions,
        clock=clock,
    )
    raw = KafkaConsumer(
        TOPIC,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=4000,
        heartbeat_interval_ms=1000,
    )

    def handled() -> int:
        with engine.connect() as c:
            return c.execute(text("SELECT count(*) FROM handled")).scalar()

    deadline = dt.datetime.now() + dt.timedelta(seconds=20)
    while handled() < 3 and dt.datetime.now() < deadline:
        for records in raw.poll(timeout_ms=300).values():
            for r in records:
                first.handle_record(r.headers, r.key, r.value)
    assert handled() == 3
    raw.close(autocommit=False)
    # Second life: the group starts again from the beginning and sees every event a second time.
    second = IdempotentConsumer(
        service="casework",
        subscription=subscription,
        bootstrap_servers=bootstrap,
        sessions=sessions,
        clock=clock,
    )
    second.start()
    try:
        wait_until(
            lambda: second.assigned.is_set(), timeout=30, what="the restarted consumer to join"
        )
        cra.change(
            add_current_account=pb.CurrentAccount(
                provider_name="Albion Bank",
                sort_code="20-00-00",
                account_number="70000009",
                holding=pb.ACCOUNT_HOLDING_SOLE,
            )
        )
        wait_until(lambda: handled() == 4, timeout=30, what="the fourth alert")
        time.sleep(
            1
        )  # anything redelivered late would show up as a fifth row or an integrity error
        with engine.connect() as c:
            rows = c.execute(text("SELECT surveillance_id FROM handled")).scalars().all()
            redelivered = c.execute(
                text("SELECT count(*) FROM processed_events WHERE outcome = 'handled'")
            ).scalar()
        assert (
            rows == [watch.surveillance_id] * 4
        )  # each alert applied once, though three were delivered twice
        assert redelivered >= 4
        from cms_platform.metrics import EVENTS_CONSUMED

        assert (
            EVENTS_CONSUMED.labels("casework", group, "duplicate")._value.get() >= 3
        )  # they did come again
    finally:
        second.stop()
        engine.dispose()
