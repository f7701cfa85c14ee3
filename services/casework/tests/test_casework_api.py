"""casework through its real gRPC server with the real calculation service and gateways (conftest.stack): the
application flow to the first payment plan, safeguards, routing, service requests, feeds and the scheduler."""

from __future__ import annotations

import datetime as dt
import uuid

import grpc
import pytest

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms.dwp.v1 import dwp_scenario_service_pb2 as dwp_sc
from cms.dwp.v1 import dwp_scenario_service_pb2_grpc as dwp_sc_grpc
from cms.dwp.v1 import resources_pb2 as dwp_pb
from cms_devkit.testing import read_topic, wait_until
from cms_platform.grpc_errors import details_of, violated_fields

from .conftest import alex_and_bethan, d, person


def error(call):
    with pytest.raises(grpc.RpcError) as err:
        call()
    return err.value


def events_of(stack, case_name: str, kind: str, expected: int = 1) -> list:
    wanted = f"uk.gov.cms.casework.{kind}.v1".encode()
    return [
        r
        for r in read_topic(stack.bootstrap, "cms.casework.events.v1", expected=expected)
        if dict(r.headers).get("ce_type") == wanted and r.key == case_name.encode()
    ]


# -- the application flow ------------------------------------------------------------------------------------------


def _first_calculations_measured() -> float:
    from cms_casework.cases.application import APPLICATION_TO_FIRST_CALCULATION

    return next(
        s.value
        for s in APPLICATION_TO_FIRST_CALCULATION.collect()[0].samples
        if s.name.endswith("_count")
    )


def test_an_application_reaches_its_first_payment_plan(stack):
    measured = _first_calculations_measured()
    case = stack.call("CreateCase", alex_and_bethan())
    assert (
        case.state == pb.CASE_STATE_APPLICATION and case.paying_parent.identity.nino == "AA123456A"
    )
    verified = stack.call(
        "VerifyApplication",
        api.VerifyApplicationRequest(request_id=str(uuid.uuid4()), name=case.name),
    )
    checks = verified.application_checks
    assert verified.state == pb.CASE_STATE_INITIAL_CALCULATION and not checks.outstanding_checks
    assert checks.paying_parent_nino_verification.outcome == common.MATCH_OUTCOME_MATCHED
    assert checks.paying_parent_employment_status == pb.EMPLOYMENT_STATUS_EMPLOYED
    assert checks.cis_interest_registered and checks.hmrc_interest_registered
    assert all(c.child_benefit.entitled for c in verified.qualifying_children)
    assert (verified.initial_effective_date, verified.annual_review_date) == (
        d(2026, 4, 6),
        d(2027, 4, 6),
    )

    live = stack.call(
        "CalculateCase", api.CalculateCaseRequest(request_id=str(uuid.uuid4()), name=case.name)
    )
    assert live.state == pb.CASE_STATE_LIVE
    assert (live.latest_calculation.rate, live.latest_calculation.weekly_amount_pence) == (
        "BASIC",
        96_00,
    )
    plan = stack.call("GetPaymentPlan", api.GetPaymentPlanRequest(name=live.current_payment_plan))
    assert (
        plan.state == pb.PAYMENT_PLAN_STATE_CURRENT
        and plan.payment_frequency == common.PAYMENT_FREQUENCY_MONTHLY
    )
    assert plan.period.start_date == d(2026, 4, 6) and plan.period.end_date == d(2027, 4, 5)
    assert (
        len(plan.payments) == 12 and plan.payments[0].amount_due_pence == 416_00
    )  # £96 × 52 / 12, Direct Pay
    assert plan.total_due_pence == 12 * 416_00

    issued = events_of(stack, case.name, "case.payment_plan_issued")
    assert len(issued) == 1
    letters = stack.call(
        "ListCorrespondence", api.ListCorrespondenceRequest(parent=case.name)
    ).correspondence
    kinds = sorted(pb.CorrespondenceKind.Name(c.kind) for c in letters)
    assert (
        kinds.count("CORRESPONDENCE_KIND_PAYMENT_PLAN") == 2
        and "CORRESPONDENCE_KIND_APPLICATION_ACKNOWLEDGEMENT" in kinds
    )

    assert (
        _first_calculations_measured() == measured + 1
    )  # the six-week target is measured, once per case


def test_one_open_case_per_pair_of_parents_and_clients_reused_by_nino(stack):
    first = stack.call("CreateCase", alex_and_bethan())
    err = error(lambda: stack.call("CreateCase", alex_and_bethan()))
    assert err.code() == grpc.StatusCode.ALREADY_EXISTS
    chidi_case = alex_and_bethan()
    chidi_case.paying_parent.identity.CopyFrom(
        person("AC345678C", "Chidi", "Okafor", (1990, 6, 30))
    )
    other = stack.call("CreateCase", chidi_case)
    assert (
        other.receiving_parent.name == first.receiving_parent.name
    )  # Bethan is one client on both


def test_bad_input_names_the_field_and_nothing_is_recorded(stack):
    request = alex_and_bethan()
    del request.qualifying_children[:]
    request.paying_parent.identity.nino = "QQ123456Z"
    err = error(lambda: stack.call("CreateCase", request))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert {"qualifying_children", "paying_parent.identity.nino"} <= set(violated_fields(err))
    assert not stack.call("ListCases", api.ListCasesRequest()).cases


def test_a_downstream_failure_half_way_leaves_the_case_as_it_was(stack):
    case = stack.call("CreateCase", alex_and_bethan())
    stack.services["calculation"].stop()
    err = error(
        lambda: stack.call(
            "CalculateCase", api.CalculateCaseRequest(request_id=str(uuid.uuid4()), name=case.name)
        )
    )
    assert err.code() == grpc.StatusCode.UNAVAILABLE
    held = stack.call("GetCase", api.GetCaseRequest(name=case.name))
    assert held.state == pb.CASE_STATE_APPLICATION and not held.current_payment_plan
    assert not held.HasField("latest_calculation")


# -- authorisation, routing, audit ---------------------------------------------------------------------------------


def test_personal_interest_routes_and_hides_the_case(stack):
    case = stack.new_live_case()
    flagged = stack.call(
        "SetPersonalInterest",
        api.SetPersonalInterestRequest(
            request_id=str(uuid.uuid4()),
            name=case.name,
            personal_interest=True,
            reason="Client is a relative of a caseworker",
        ),
    )
    assert flagged.workgroup == "sensitive-case-workgroup" and not flagged.owner
    err = error(lambda: stack.call("GetCase", api.GetCaseRequest(name=case.name)))
    assert err.code() == grpc.StatusCode.NOT_FOUND  # to everyone else it does not exist
    assert not stack.call("ListCases", api.ListCasesRequest()).cases
    sensitive = stack.creds.staff("sw-1", "sensitive_case_workgroup")
    assert stack.call(
        "GetCase", api.GetCaseRequest(name=case.name), as_=sensitive
    ).personal_interest
    audit = stack.call(
        "ListAuditEntries", api.ListAuditEntriesRequest(parent=case.name), as_=sensitive
    ).audit_entries
    refused = [a for a in audit if not a.permitted]
    assert [(a.principal, a.method) for a in refused] == [
        ("cw-1", "/cms.casework.v1.CaseworkService/GetCase")
    ]
    assert any(a.principal == "sw-1" and a.permitted for a in audit)
    # Only the sensitive-case workgroup may clear it.
    cleared = stack.call(
        "SetPersonalInterest",
        api.SetPersonalInterestRequest(
            request_id=str(uuid.uuid4()),
            name=case.name,
            personal_interest=False,
            reason="Conflict ended",
        ),
        as_=sensitive,
    )
    assert cleared.workgroup == "case-maintenance"


def test_roles_are_enforced_and_clients_see_only_their_own_cases(stack):
    case = stack.new_live_case()
    err = error(
        lambda: stack.call("ListAuditEntries", api.ListAuditEntriesRequest(parent=case.name))
    )
    assert (
        err.code() == grpc.StatusCode.PERMISSION_DENIED
    )  # a caseworker does not read the audit trail
    bethan = stack.creds.client(case.receiving_parent.name.removeprefix("clients/"))
    assert stack.call("GetCase", api.GetCaseRequest(name=case.name), as_=bethan).name == case.name
    stranger = stack.creds.client(str(uuid.uuid4()))
    assert (
        error(
            lambda: stack.call("GetCase", api.GetCaseRequest(name=case.name), as_=stranger)
        ).code()
        == grpc.StatusCode.NOT_FOUND
    )
    err = error(
        lambda: stack.call(
            "CloseCase",
            api.CloseCaseRequest(
                request_id=str(uuid.uuid4()),
                name=case.name,
                reason=pb.CASE_CLOSURE_REASON_APPLICANT_REQUEST,
            ),
            as_=bethan,
        )
    )
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED


# -- service requests ----------------------------------------------------------------------------------------------


def test_service_request_rules_and_the_self_service_level(stack, clock):
    case = stack.new_live_case()
    bethan = stack.creds.client(case.receiving_parent.name.removeprefix("clients/"))
    sr = stack.call(
        "CreateServiceRequest",
        api.CreateServiceRequestRequest(
            request_id=str(uuid.uuid4()),
            parent=case.name,
            service_request=pb.ServiceRequest(
                process="Client Contact",
                area="Case Maintenance",
                sub_area="Payment Query",
                description="When do I get paid?",
            ),
        ),
        as_=bethan,
    )
    assert sr.origin == pb.SERVICE_REQUEST_ORIGIN_CLIENT_SELF_SERVICE and sr.HasField(
        "action_due_time"
    )

    def move(status, sub=0, resolution=0):
        return stack.call(
            "UpdateServiceRequestStatus",
            api.UpdateServiceRequestStatusRequest(
                request_id=str(uuid.uuid4()),
                name=sr.name,
                status=status,
                sub_status=sub,
                resolution_code=resolution,
            ),
        )

    err = error(
        lambda: move(pb.SERVICE_REQUEST_STATUS_CLOSED, pb.SERVICE_REQUEST_SUB_STATUS_COMPLETE)
    )
    assert details_of(err)["PreconditionFailure"].violations[0].type == "RESOLUTION_CODE_REQUIRED"

    clock.advance(dt.timedelta(days=2))  # not actioned within 24 hours
    stack.run_scheduled(d(2026, 4, 8), api.SCHEDULED_JOB_SELF_SERVICE_SLA_CHECK)
    breached = stack.call(
        "ListServiceRequests",
        api.ListServiceRequestsRequest(parent="cases/-", sla_breached_only=True),
    )
    assert [s.name for s in breached.service_requests] == [sr.name]
    assert len(events_of(stack, case.name, "service_request.sla_breached")) == 1

    done = move(
        pb.SERVICE_REQUEST_STATUS_CLOSED,
        pb.SERVICE_REQUEST_SUB_STATUS_COMPLETE,
        pb.SERVICE_REQUEST_RESOLUTION_CODE_ACCEPTED,
    )
    assert done.status == pb.SERVICE_REQUEST_STATUS_CLOSED and done.HasField("action_time")
    err = error(lambda: move(pb.SERVICE_REQUEST_STATUS_IN_PROGRESS))
    assert details_of(err)["PreconditionFailure"].violations[0].type == "SERVICE_REQUEST_FINAL"


# -- safeguards ----------------------------------------------------------------------------------------------------


def test_potentially_violent_status_is_reviewed_at_least_yearly(stack, clock):
    case = stack.new_live_case()
    record = stack.call(
        "RecordUnacceptableBehaviour",
        api.RecordUnacceptableBehaviourRequest(
            request_id=str(uuid.uuid4()),
            parent=case.paying_parent.name,
            unacceptable_behaviour_record=pb.UnacceptableBehaviourRecord(
                kind=pb.UNACCEPTABLE_BEHAVIOUR_KIND_THREAT_OF_VIOLENCE,
                incident_date=d(2026, 4, 2),
                description="Threatened staff on the phone",
                related_case=case.name,
                potentially_violent_status_set=True,
            ),
        ),
    )
    client = stack.call("GetClient", api.GetClientRequest(name=case.paying_parent.name))
    assert client.potentially_violent_status.active
    assert client.potentially_violent_status.review_due_date == d(2027, 4, 6)
    assert record.recorded_by == "cw-1"

    # Nothing due before the year is up; on the review date, a review SR for the case's workgroup.
    assert (
        stack.run_scheduled(d(2027, 4, 5), api.SCHEDULED_JOB_POTENTIALLY_VIOLENT_STATUS_REVIEW)
        .results[0]
        .items_due
        == 0
    )
    clock.advance(dt.timedelta(days=365))
    result = stack.run_scheduled(
        d(2027, 4, 6), api.SCHEDULED_JOB_POTENTIALLY_VIOLENT_STATUS_REVIEW
    ).results[0]
    assert (result.items_due, result.items_processed) == (1, 1)
    srs = stack.call(
        "ListServiceRequests", api.ListServiceRequestsRequest(parent=case.name)
    ).service_requests
    assert [s.sub_area for s in srs if s.sub_area == "Potentially Violent Status Review"]
    again = stack.run_scheduled(
        d(2027, 4, 6), api.SCHEDULED_JOB_POTENTIALLY_VIOLENT_STATUS_REVIEW
    ).results[0]
    assert again.items_due == 0  # a date already done does nothing more

    err = error(
        lambda: stack.call(
            "ReviewPotentiallyViolentStatus",
            api.ReviewPotentiallyViolentStatusRequest(
                request_id=str(uuid.uuid4()),
                name=case.paying_parent.name,
                outcome=api.POTENTIALLY_VIOLENT_REVIEW_OUTCOME_RETAIN,
            ),
        )
    )
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED  # a team leader reviews
    kept = stack.call(
        "ReviewPotentiallyViolentStatus",
        api.ReviewPotentiallyViolentStatusRequest(
            request_id=str(uuid.uuid4()),
            name=case.paying_parent.name,
            outcome=api.POTENTIALLY_VIOLENT_REVIEW_OUTCOME_RETAIN,
        ),
        as_=stack.team_leader(),
    )
    assert kept.potentially_violent_status.review_due_date == d(2028, 4, 6)


# -- feeds and the scheduler ---------------------------------------------------------------------------------------


def test_a_cis_benefit_broadcast_leads_to_a_recalculation(stack, clock):
    case = stack.new_live_case()
    before = case.latest_calculation
    dwp = stack.services["dwp"]
    import grpc as _grpc

    channel = _grpc.insecure_channel(f"127.0.0.1:{dwp.server.port}")
    scenario = dwp_sc_grpc.DwpScenarioServiceStub(channel)
    scenario.StartBenefitAward(
        dwp_sc.StartBenefitAwardRequest(
            request_id=str(uuid.uuid4()),
            nino="AA123456A",
            benefit_type=dwp_pb.BENEFIT_TYPE_JOBSEEKERS_ALLOWANCE_INCOME_BASED,
            start_date=d(2026, 4, 6),
            amount=common.PeriodicAmount(
                frequency=common.PAYMENT_FREQUENCY_FORTNIGHTLY, amount_pence=181_00
            ),
        ),
        metadata=stack.creds.staff(),
        timeout=10,
    )
    channel.close()

    def recalculated():
        held = stack.call("GetCase", api.GetCaseRequest(name=case.name))
        return held if held.latest_calculation.calculation != before.calculation else None

    held = wait_until(recalculated, timeout=60, what="the broadcast to be applied")
    assert held.latest_calculation.reason == pb.CALCULATION_REASON_CHANGE_OF_CIRCUMSTANCES
    assert held.latest_calculation.rate == "FLAT"  # income-based JSA: the flat rate
    assert held.current_payment_plan != case.current_payment_plan
    changes = stack.call(
        "ListChangesOfCircumstances", api.ListChangesOfCircumstancesRequest(parent=case.name)
    )
    [benefit] = changes.changes_of_circumstances
    assert (
        benefit.type == pb.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_BENEFIT_DETAILS
        and benefit.source_event_id
    )
    assert benefit.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_APPLIED and benefit.liability_changed


def test_the_monthly_child_benefit_batch_ends_a_childs_part_in_the_case(stack, clock):
    request = alex_and_bethan()
    request.paying_parent.identity.CopyFrom(person("AC345678C", "Chidi", "Okafor", (1990, 6, 30)))
    request.paying_parent.ClearField("address")
    request.receiving_parent.identity.CopyFrom(
        person("AG765432A", "Siân", "Llewellyn-Price", (1983, 5, 17))
    )
    del request.qualifying_children[:]
    for forename, born, crn in (
        ("Ffion", d(2009, 5, 20), "AK100003C"),
        ("Tomos", d(2010, 3, 1), "AK100004D"),
        ("Osian", d(2014, 11, 11), "AK100005A"),
    ):
        request.qualifying_children.add(
            name=common.PersonName(forenames=forename, surname="Okafor"),
            date_of_birth=born,
            child_reference_number=crn,
        )
    case = stack.new_live_case(request)
    assert case.state == pb.CASE_STATE_LIVE
    clock.advance(
        dt.timedelta(days=148)
    )  # 1 September 2026: Tomos's Child Benefit ended on 31 August
    result = stack.run_scheduled(
        d(2026, 9, 1), api.SCHEDULED_JOB_MONTHLY_CHILD_BENEFIT_CHECK
    ).results[0]
    assert (result.items_due, result.items_failed) == (1, 0)
    held = stack.call("GetCase", api.GetCaseRequest(name=case.name))
    tomos = next(c for c in held.qualifying_children if c.name.forenames == "Tomos")
    ffion = next(c for c in held.qualifying_children if c.name.forenames == "Ffion")
    assert (tomos.end_date, tomos.end_reason) == (
        d(2026, 8, 31),
        pb.CHILD_END_REASON_NOT_IN_FULL_TIME_EDUCATION,
    )
    assert not ffion.end_date.year  # approved education reported: still a QC
    assert held.latest_calculation.calculation != case.latest_calculation.calculation
    assert held.current_payment_plan != case.current_payment_plan
    # Once a month, whichever day is asked.
    assert (
        stack.run_scheduled(d(2026, 9, 15), api.SCHEDULED_JOB_MONTHLY_CHILD_BENEFIT_CHECK)
        .results[0]
        .items_due
        == 0
    )


def test_case_surveillance_with_the_agency_raises_service_requests_from_its_alerts(stack):
    from cms.cra.v1 import cra_scenario_service_pb2 as cra_sc
    from cms.cra.v1 import cra_scenario_service_pb2_grpc as cra_sc_grpc
    from cms.cra.v1 import resources_pb2 as cra_pb

    case = stack.new_live_case()
    err = error(
        lambda: stack.call(
            "SetCaseSurveillance",
            api.SetCaseSurveillanceRequest(
                request_id=str(uuid.uuid4()), name=case.name, active=True, review_date=d(2026, 4, 6)
            ),
        )
    )
    assert violated_fields(err) == ["review_date"]  # checked before the agency is asked
    watched = stack.call(
        "SetCaseSurveillance",
        api.SetCaseSurveillanceRequest(
            request_id=str(uuid.uuid4()),
            name=case.name,
            active=True,
            review_date=d(2026, 10, 1),
            note="no assets found",
        ),
    )
    assert watched.case_surveillance.active and watched.case_surveillance.review_date == d(
        2026, 10, 1
    )

    channel = grpc.insecure_channel(f"127.0.0.1:{stack.services['cra'].server.port}")
    cra_sc_grpc.CraScenarioServiceStub(channel).ApplyCreditFileChange(
        cra_sc.ApplyCreditFileChangeRequest(
            request_id=str(uuid.uuid4()),
            nino="AA123456A",
            add_current_account=cra_pb.CurrentAccount(
                provider_name="Thameside Bank",
                sort_code="30-90-12",
                account_number="41234567",
                holding=cra_pb.ACCOUNT_HOLDING_SOLE,
            ),
        ),
        metadata=stack.creds.staff(),
        timeout=10,
    )
    channel.close()

    def alert_sr():
        found = stack.call(
            "ListServiceRequests", api.ListServiceRequestsRequest(parent=case.name)
        ).service_requests
        return [s for s in found if s.sub_area == "Case Surveillance Alert"]

    [sr] = wait_until(alert_sr, timeout=60, what="the agency's alert to reach the case")
    assert (
        sr.origin == pb.SERVICE_REQUEST_ORIGIN_CRA_INTERFACE
        and "new_current_account" in sr.description
    )
    stopped = stack.call(
        "SetCaseSurveillance",
        api.SetCaseSurveillanceRequest(request_id=str(uuid.uuid4()), name=case.name, active=False),
    )
    assert not stopped.case_surveillance.active


def test_an_rti_pay_rise_reported_by_hmrc_is_applied_past_the_tolerance(stack, clock):
    from cms.hmrc.v1 import hmrc_scenario_service_pb2 as hmrc_sc
    from cms.hmrc.v1 import hmrc_scenario_service_pb2_grpc as hmrc_sc_grpc
    from cms_hmrc_gateway.interests import flows as hmrc_feeds

    case = stack.new_live_case()
    hmrc = stack.services["hmrc"]
    channel = grpc.insecure_channel(f"127.0.0.1:{hmrc.server.port}")
    hmrc_sc_grpc.HmrcScenarioServiceStub(channel).ApplyLifeEvent(
        hmrc_sc.ApplyLifeEventRequest(
            request_id=str(uuid.uuid4()),
            nino="AA123456A",
            effective_date=d(2026, 4, 6),
            pay_change=hmrc_sc.PayChange(
                employment_id="AA123456A-E2", new_annual_taxable_pay_pence=52_000_00
            ),
        ),
        metadata=stack.creds.staff(),
        timeout=10,
    )
    channel.close()
    clock.advance(dt.timedelta(days=100))  # three monthly pays at the new rate
    assert hmrc_feeds.run_due(sessions=hmrc.sessions, hmrc=hmrc.hmrc, clock=clock) >= 1

    def applied():
        found = stack.call(
            "ListChangesOfCircumstances",
            api.ListChangesOfCircumstancesRequest(
                parent=case.name, type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_INCOME
            ),
        ).changes_of_circumstances
        return [c for c in found if c.state != pb.CHANGE_OF_CIRCUMSTANCES_STATE_VERIFIED] or None

    [income] = wait_until(applied, timeout=60, what="the RTI change to be applied")
    assert (
        income.reported_by == pb.REPORTER_HMRC
        and income.income_change.source == pb.INCOME_SOURCE_RTI
    )
    assert (
        income.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_APPLIED
        and income.income_change.tolerance_breached
    )
    held = stack.call("GetCase", api.GetCaseRequest(name=case.name))
    assert held.latest_calculation.weekly_amount_pence > case.latest_calculation.weekly_amount_pence


def test_a_relevant_other_child_is_checked_with_hmrc_and_counted(stack):
    """Chidi Okafor's partner Dana claims Child Benefit for their daughter Zara but opted out of payment: entitled,
    so Zara is a relevant other child of Chidi's."""
    request = alex_and_bethan()
    request.paying_parent.identity.CopyFrom(person("AC345678C", "Chidi", "Okafor", (1990, 6, 30)))
    request.paying_parent.ClearField("address")
    request.receiving_parent.identity.CopyFrom(
        person("AG765432A", "Siân", "Llewellyn-Price", (1983, 5, 17))
    )
    del request.qualifying_children[:]
    request.qualifying_children.add(
        name=common.PersonName(forenames="Osian", surname="Okafor"),
        date_of_birth=d(2014, 11, 11),
        child_reference_number="AK100005A",
    )
    request.relevant_other_children.add(
        name=common.PersonName(forenames="Zara", surname="Okafor"),
        date_of_birth=d(2024, 10, 3),
        child_reference_number="AK100006B",
    )
    case = stack.new_live_case(request)
    [zara] = case.relevant_other_children
    assert zara.child_benefit.entitled and not zara.child_benefit.in_payment
    without = alex_and_bethan()
    without.paying_parent.CopyFrom(request.paying_parent)
    without.receiving_parent.CopyFrom(request.receiving_parent)
    del without.qualifying_children[:]
    without.qualifying_children.extend(request.qualifying_children)
    stack.call(
        "CloseCase",
        api.CloseCaseRequest(
            request_id=str(uuid.uuid4()),
            name=case.name,
            reason=pb.CASE_CLOSURE_REASON_APPLICANT_REQUEST,
        ),
    )
    alone = stack.new_live_case(without)
    assert (
        case.latest_calculation.weekly_amount_pence < alone.latest_calculation.weekly_amount_pence
    )


def test_closing_a_case_withdraws_its_pending_changes_and_closes_their_service_requests(stack):
    case = stack.new_live_case()
    change = stack.report(
        case,
        pb.ChangeOfCircumstances(
            type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_ADDRESS_DETAILS,
            address_change=pb.AddressChange(
                client=case.paying_parent.name,
                new_address=common.Address(
                    lines=["3 Mill Lane"], post_town="LEEDS", postcode="LS4 2AB"
                ),
            ),
        ),
    )
    closed = stack.call(
        "CloseCase",
        api.CloseCaseRequest(
            request_id=str(uuid.uuid4()),
            name=case.name,
            reason=pb.CASE_CLOSURE_REASON_APPLICANT_REQUEST,
        ),
    )
    assert (
        closed.state == pb.CASE_STATE_CLOSED
        and closed.closure.reason == pb.CASE_CLOSURE_REASON_APPLICANT_REQUEST
    )
    held = stack.call(
        "GetChangeOfCircumstances", api.GetChangeOfCircumstancesRequest(name=change.name)
    )
    assert held.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_WITHDRAWN
    sr = stack.call("GetServiceRequest", api.GetServiceRequestRequest(name=change.service_request))
    assert (sr.status, sr.sub_status) == (
        pb.SERVICE_REQUEST_STATUS_CLOSED,
        pb.SERVICE_REQUEST_SUB_STATUS_NOT_REQUIRED,
    )
    err = error(
        lambda: stack.report(
            case,
            pb.ChangeOfCircumstances(
                type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_ADDRESS_DETAILS,
                address_change=pb.AddressChange(
                    client=case.paying_parent.name,
                    new_address=common.Address(
                        lines=["4 Mill Lane"], post_town="LEEDS", postcode="LS4 2AB"
                    ),
                ),
            ),
        )
    )
    assert details_of(err)["PreconditionFailure"].violations[0].type == "CASE_CLOSED"
