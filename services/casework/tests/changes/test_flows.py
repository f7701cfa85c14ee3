"""Changes of circumstances through the real casework server (with the real calculation service, gateways, databases
and broker): every type reported, verified (and authorised), applied and seen on the case; the sequencing table;
the 25% income tolerance; team-leader authorisation; suspicious activity; death notifications; the self-service
rules; and several changes completed the same day.

Business clock: Monday 6 April 2026. The standard case is Alex Turner paying Bethan Morgan for Amy and Ben, £96 a week
on the historic HMRC income of £598.36 a week."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc
import pytest
from google.type import date_pb2

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import events_pb2 as ev
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms_devkit.testing import read_topic, wait_until
from cms_platform.grpc_errors import details_of, violated_fields

T = pb.ChangeOfCircumstancesType
S = pb.ChangeOfCircumstancesState
TOPIC = "cms.casework.events.v1"
SUSPICIOUS = "uk.gov.cms.casework.change_of_circumstances.suspicious_activity_flagged.v1"
DEATH_RECORDED = "uk.gov.cms.casework.client.death_recorded.v1"
TODAY = (2026, 4, 6)


def d(y: int, m: int, day: int) -> date_pb2.Date:
    return date_pb2.Date(year=y, month=m, day=day)


def t(name: str) -> int:
    return T.Value(f"CHANGE_OF_CIRCUMSTANCES_TYPE_{name}")


def name_of(first: str, last: str) -> common.PersonName:
    return common.PersonName(forenames=first, surname=last)


def person(nino: str, forenames: str, surname: str, born: date_pb2.Date) -> common.PersonIdentity:
    return common.PersonIdentity(nino=nino, name=name_of(forenames, surname), date_of_birth=born)


def case_request(*, children: int = 2) -> api.CreateCaseRequest:
    """Alex Turner (£31,200 a year PAYE) pays Bethan Morgan: Amy (2015) and Ben (2018), or Amy alone."""
    qcs = [
        pb.QualifyingChild(
            name=name_of("Amy", "Morgan"),
            date_of_birth=d(2015, 7, 1),
            child_reference_number="AK100001A",
        ),
        pb.QualifyingChild(
            name=name_of("Ben", "Morgan"),
            date_of_birth=d(2018, 2, 9),
            child_reference_number="AK100002B",
        ),
    ]
    request = api.CreateCaseRequest(
        request_id=str(uuid.uuid4()),
        paying_parent=pb.Client(
            identity=person("AA123456A", "Alex", "Turner", d(1985, 3, 14)),
            address=common.Address(
                lines=["14 Victoria Road"], post_town="LEEDS", postcode="LS6 1DL"
            ),
        ),
        receiving_parent=pb.Client(
            identity=person("AB234567B", "Bethan", "Morgan", d(1979, 11, 2))
        ),
        qualifying_children=qcs[:children],
        payment_frequency=common.PAYMENT_FREQUENCY_MONTHLY,
    )
    return request


def bare(client: str) -> str:
    return client.removeprefix("clients/")


# -- reading back through the API ----------------------------------------------------------------------------------


def get_case(stack, case: pb.Case) -> pb.Case:
    return stack.call("GetCase", api.GetCaseRequest(name=case.name))


def get_client(stack, client: str) -> pb.Client:
    return stack.call("GetClient", api.GetClientRequest(name=client))


def get_change(stack, change: pb.ChangeOfCircumstances | str) -> pb.ChangeOfCircumstances:
    name = change if isinstance(change, str) else change.name
    return stack.call("GetChangeOfCircumstances", api.GetChangeOfCircumstancesRequest(name=name))


def get_sr(stack, change: pb.ChangeOfCircumstances) -> pb.ServiceRequest:
    return stack.call(
        "GetServiceRequest", api.GetServiceRequestRequest(name=change.service_request)
    )


def list_changes(stack, case: pb.Case) -> list[pb.ChangeOfCircumstances]:
    return list(
        stack.call(
            "ListChangesOfCircumstances", api.ListChangesOfCircumstancesRequest(parent=case.name)
        ).changes_of_circumstances
    )


def correspondence(stack, case: pb.Case) -> list[pb.Correspondence]:
    return list(
        stack.call(
            "ListCorrespondence", api.ListCorrespondenceRequest(parent=case.name, page_size=200)
        ).correspondence
    )


def get_plan(stack, name: str) -> pb.PaymentPlan:
    return stack.call("GetPaymentPlan", api.GetPaymentPlanRequest(name=name))


def authorise(
    stack, change, *, as_, decision=api.AUTHORISATION_DECISION_AUTHORISED
) -> pb.ChangeOfCircumstances:
    return stack.call(
        "AuthoriseChangeOfCircumstances",
        api.AuthoriseChangeOfCircumstancesRequest(
            request_id=str(uuid.uuid4()), name=change.name, decision=decision
        ),
        as_=as_,
    )


def refused(call: Callable[[], object]) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value


def precondition(err: grpc.RpcError) -> tuple[str, list[tuple[str, str]]]:
    """(ErrorInfo.reason, [(violation type, subject)]) of a FAILED_PRECONDITION."""
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION, err
    info = details_of(err)
    return info["ErrorInfo"].reason, [
        (v.type, v.subject) for v in info["PreconditionFailure"].violations
    ]


def events(stack, ce_type: str, *, matching: Callable[[object], bool], parse) -> list:
    """This session's events of one CloudEvents type on the casework topic that satisfy `matching` (parsed)."""
    found = []
    for record in read_topic(stack.bootstrap, TOPIC, expected=1, timeout=5):
        headers = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in record.headers or ()}
        if headers.get("ce_type") != ce_type:
            continue
        message = parse()
        message.ParseFromString(record.value)
        if matching(message):
            found.append(message)
    return found


def wait_for_events(stack, ce_type: str, *, matching, parse, count: int = 1) -> list:
    return wait_until(
        lambda: (lambda got: got if len(got) >= count else None)(
            events(stack, ce_type, matching=matching, parse=parse)
        ),
        timeout=40,
        what=f"{count} {ce_type}",
    )


def address(line: str, postcode: str = "LS1 1AA") -> common.Address:
    return common.Address(lines=[line], post_town="LEEDS", postcode=postcode)


def address_change(
    client: str, line: str, *, effective: date_pb2.Date | None = None
) -> pb.ChangeOfCircumstances:
    change = pb.ChangeOfCircumstances(
        type=t("CHANGE_ADDRESS_DETAILS"),
        address_change=pb.AddressChange(client=client, new_address=address(line)),
    )
    if effective is not None:
        change.effective_date.CopyFrom(effective)
    return change


def child_change(
    type_name: str, child_id: str, effective: date_pb2.Date | None = d(*TODAY)
) -> pb.ChangeOfCircumstances:
    change = pb.ChangeOfCircumstances(
        type=t(type_name), child_change=pb.ChildChange(child_id=child_id)
    )
    if effective is not None:
        change.effective_date.CopyFrom(effective)
    return change


def income_change(pence: int, source=pb.INCOME_SOURCE_PAYSLIPS) -> pb.ChangeOfCircumstances:
    return pb.ChangeOfCircumstances(
        type=t("CHANGE_INCOME"),
        income_change=pb.IncomeChange(current_gross_weekly_income_pence=pence, source=source),
    )


def payment_change(type_name: str, **value) -> pb.ChangeOfCircumstances:
    return pb.ChangeOfCircumstances(
        type=t(type_name), payment_arrangement_change=pb.PaymentArrangementChange(**value)
    )


def report_and_verify(stack, case, change, **verify) -> pb.ChangeOfCircumstances:
    reported = stack.report(case, change)
    return stack.verify(reported, **verify)


# -- 1. every type ---------------------------------------------------------------------------------------------------


@dataclass
class Ctx:
    """What a scenario works with: the live case as it was before the change, and its people."""

    stack: object
    case: pb.Case
    payer: str = ""
    receiver: str = ""
    amy: str = ""
    ben: str = ""
    cara: str = ""
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    id: str
    type: str
    build: Callable[[Ctx], pb.ChangeOfCircumstances]
    # check(ctx, response, case afterwards, the change as applied)
    check: Callable[
        [Ctx, api.ApplyChangesOfCircumstancesResponse, pb.Case, pb.ChangeOfCircumstances], None
    ]
    children: int = 2
    roc: bool = False
    # The liability moves: a recalculation and a new payment plan issued the same day.
    moves: bool = False
    # With `moves`: the change itself records the calculation and that the liability changed (a new schedule in
    # another frequency does not change the weekly liability).
    liability_changed: bool = True
    # Recalculated, though the amount stays the same (no new plan).
    recalculates: bool = False
    closes: int = 0  # the CaseClosureReason it closes the case with
    final: int = pb.CHANGE_OF_CIRCUMSTANCES_STATE_APPLIED
    resolution: int = pb.SERVICE_REQUEST_RESOLUTION_CODE_ACCEPTED
    setup: Callable[[Ctx], None] | None = None


def _qc(case: pb.Case, child_id: str) -> pb.QualifyingChild:
    return next(c for c in case.qualifying_children if c.child_id == child_id)


def _ended(reason: int, which: str = "amy", collection: str = "qualifying_children"):
    def check(ctx, response, case, change):
        child = next(c for c in getattr(case, collection) if c.child_id == getattr(ctx, which))
        assert child.end_reason == reason
        assert (child.end_date.year, child.end_date.month, child.end_date.day) == TODAY
        others = [c for c in case.qualifying_children if c.child_id != getattr(ctx, which)]
        assert all(not c.end_date.year for c in others)

    return check


def _added(collection: str):
    def check(ctx, response, case, change):
        before = len(getattr(ctx.case, collection))
        added = getattr(case, collection)
        assert len(added) == before + 1
        new = added[-1]
        assert (
            new.child_id
            and new.name.forenames == "Dylan"
            and (new.date_of_birth.year, new.date_of_birth.month) == (2025, 12)
        )
        if collection == "qualifying_children":
            assert new.paying_parent_nights_per_year == 52

    return check


def _closed_with(ctx, response, case, change):
    assert case.closure.change_of_circumstances == change.name


def _check_location(ctx, response, case, change):
    assert case.paying_parent.resident_outside_uk
    assert case.paying_parent.address.lines == ["Calle Mayor 1"]
    assert case.closure.change_of_circumstances == change.name


def _check_address(ctx, response, case, change):
    assert case.receiving_parent.address == address("7 Park Lane", "LS2 2BB")
    assert case.paying_parent.address.lines == ["14 Victoria Road"]


def _activate(ctx) -> pb.ChangeOfCircumstances:
    return pb.ChangeOfCircumstances(
        type=t("ACTIVATE_CLIENT_REPRESENTATIVE"),
        client_representative_change=(
            pb.ClientRepresentativeChange(
                client=ctx.receiver,
                representative=pb.ClientRepresentative(
                    kind=pb.REPRESENTATIVE_KIND_SOLICITOR,
                    person_name=name_of("Sam", "Patel"),
                    organisation_name="Patel & Co",
                ),
            )
        ),
    )


def _check_activated(ctx, response, case, change):
    (rep,) = case.receiving_parent.representatives
    assert (
        rep.active
        and rep.kind == pb.REPRESENTATIVE_KIND_SOLICITOR
        and rep.organisation_name == "Patel & Co"
    )
    assert rep.name.startswith(f"{ctx.receiver}/representatives/")
    assert (
        rep.active_period.start_date.year,
        rep.active_period.start_date.month,
        rep.active_period.start_date.day,
    ) == TODAY


def _setup_representative(ctx) -> None:
    report_and_verify(ctx.stack, ctx.case, _activate(ctx))
    applied = ctx.stack.apply(ctx.case)
    (rep,) = applied.updated_case.receiving_parent.representatives
    assert rep.active
    ctx.extra["representative"] = rep.name


def _check_deactivated(ctx, response, case, change):
    (rep,) = case.receiving_parent.representatives
    assert rep.name == ctx.extra["representative"] and not rep.active
    assert rep.active_period.end_date.year == 2026


def _check_contact(ctx, response, case, change):
    assert case.paying_parent.contact_details == pb.ContactDetails(
        mobile_phone="07700 900123", email="alex@example.org"
    )


def _check_security(ctx, response, case, change):
    security = case.paying_parent.security_details
    assert security.security_question == "First school attended" and security.security_answer_set
    assert not security.security_answer
    # The answer is input only: never given back, on the change either.
    assert not change.security_details_change.new_security_details.security_answer
    assert not get_change(
        ctx.stack, change
    ).security_details_change.new_security_details.security_answer


def _check_personal(ctx, response, case, change):
    assert case.receiving_parent.identity.name == name_of("Bethan", "Hughes")
    assert change.verified_by == "cw-1" and change.authorised_by == "tl-2"


def _check_preferences(ctx, response, case, change):
    assert case.receiving_parent.contact_preferences == pb.ContactPreferences(
        preferred_channel=pb.CONTACT_CHANNEL_EMAIL, welsh_language=True
    )


def _check_disputed(ctx, response, case, change):
    assert _qc(case, ctx.amy).parentage_disputed and not _qc(case, ctx.amy).end_date.year
    assert not _qc(case, ctx.ben).parentage_disputed


def _check_death_of_client(ctx, response, case, change):
    bethan = case.receiving_parent
    assert bethan.contact_suppressed and (
        bethan.date_of_death.year,
        bethan.date_of_death.month,
    ) == (2026, 4)
    assert not case.paying_parent.date_of_death.year


def _check_death_of_payer(ctx, response, case, change):
    assert case.paying_parent.contact_suppressed and case.paying_parent.date_of_death.day == 2


def _check_employer(ctx, response, case, change):
    employer = case.paying_parent.employment_and_income.employer
    assert (
        employer.employer_name == "Acme Widgets Ltd"
        and employer.employer_paye_reference == "247/A1987CB"
    )
    assert employer.payroll_number == "P-1234"


def _case_field(name: str, value: int):
    def check(ctx, response, case, change):
        assert getattr(ctx.case, name) != value
        assert getattr(case, name) == value

    return check


def _check_collect_and_pay(ctx, response, case, change):
    assert case.service_type == pb.SERVICE_TYPE_COLLECT_AND_PAY
    plan = get_plan(ctx.stack, response.payment_plan)
    assert plan.service_type == pb.SERVICE_TYPE_COLLECT_AND_PAY
    assert plan.payments and all(
        p.paying_parent_fee_pence > 0 and p.receiving_parent_fee_pence > 0 for p in plan.payments
    )


def _check_weekly(ctx, response, case, change):
    assert case.payment_frequency == common.PAYMENT_FREQUENCY_WEEKLY
    plan = get_plan(ctx.stack, response.payment_plan)
    assert plan.payment_frequency == common.PAYMENT_FREQUENCY_WEEKLY
    assert len(plan.payments) >= 50
    assert case.latest_calculation.periodic_amount.frequency == common.PAYMENT_FREQUENCY_WEEKLY


def _check_shared_care(ctx, response, case, change):
    assert _qc(case, ctx.amy).paying_parent_nights_per_year == 104
    assert _qc(case, ctx.ben).paying_parent_nights_per_year == 0
    assert (
        case.latest_calculation.weekly_amount_pence
        < ctx.case.latest_calculation.weekly_amount_pence
    )


def _check_benefit(ctx, response, case, change):
    (award,) = case.paying_parent.benefits
    assert (
        award.benefit == "INCOME_SUPPORT"
        and not award.partner_award
        and award.period.start_date.year == 2026
    )
    assert case.latest_calculation.rate == "FLAT"


def _check_income(ctx, response, case, change):
    held = case.paying_parent.employment_and_income
    assert (
        held.current_gross_weekly_income_pence == 80000
        and held.current_income_source == pb.INCOME_SOURCE_PAYSLIPS
    )
    assert (
        change.income_change.tolerance_breached and change.income_change.change_basis_points == 3369
    )
    assert case.latest_calculation.gross_weekly_income_pence == 80000


def _check_small_income(ctx, response, case, change):
    held = case.paying_parent.employment_and_income
    assert held.current_gross_weekly_income_pence == 0 and not held.current_income_source
    assert (
        not change.income_change.tolerance_breached
        and change.income_change.change_basis_points == 1002
    )


def _check_employment(ctx, response, case, change):
    held = case.paying_parent.employment_and_income
    assert held.employment_status == pb.EMPLOYMENT_STATUS_SELF_EMPLOYED


def _check_correction(ctx, response, case, change):
    assert change.calculation == case.latest_calculation.calculation
    assert case.latest_calculation.reason == pb.CALCULATION_REASON_CORRECTION_REVISION


def _personal(ctx) -> pb.ChangeOfCircumstances:
    return pb.ChangeOfCircumstances(
        type=t("CHANGE_PERSONAL_DETAILS"),
        personal_details_change=pb.PersonalDetailsChange(
            client=ctx.receiver,
            new_name=name_of("Bethan", "Hughes"),
            name_change_reason=pb.NAME_CHANGE_REASON_DEED_POLL,
        ),
    )


def _new_child(type_name: str) -> Callable[[Ctx], pb.ChangeOfCircumstances]:
    return lambda ctx: pb.ChangeOfCircumstances(
        type=t(type_name),
        new_child=pb.NewChild(
            name=name_of("Dylan", "Morgan"),
            date_of_birth=d(2025, 12, 1),
            child_reference_number="AK100009D",
            paying_parent_nights_per_year=52 if type_name == "NEW_QC_IN_PWC_HOUSEHOLD" else 0,
        ),
    )


def _dated(
    change: pb.ChangeOfCircumstances, day: date_pb2.Date = d(*TODAY)
) -> pb.ChangeOfCircumstances:
    change.effective_date.CopyFrom(day)
    return change


NO_QC = pb.CASE_CLOSURE_REASON_NO_QUALIFYING_CHILD
SCENARIOS = [
    Scenario(
        "correction_revision",
        "CORRECTION_REVISION",
        lambda ctx: pb.ChangeOfCircumstances(
            type=t("CORRECTION_REVISION"),
            correction_revision=pb.CorrectionRevision(
                calculation=ctx.case.latest_calculation.calculation,
                reason="mandatory reconsideration: recheck",
            ),
        ),
        _check_correction,
        recalculates=True,
    ),
    Scenario(
        "confirm_location_outside_uk",
        "CONFIRM_CURRENT_LOCATION",
        lambda ctx: pb.ChangeOfCircumstances(
            type=t("CONFIRM_CURRENT_LOCATION"),
            location_confirmation=pb.LocationConfirmation(
                client=ctx.payer,
                resident_outside_uk=True,
                address=common.Address(
                    lines=["Calle Mayor 1"], post_town="MADRID", postcode="28013"
                ),
            ),
        ),
        _check_location,
        closes=pb.CASE_CLOSURE_REASON_OUTSIDE_JURISDICTION,
    ),
    Scenario(
        "address",
        "CHANGE_ADDRESS_DETAILS",
        lambda ctx: pb.ChangeOfCircumstances(
            type=t("CHANGE_ADDRESS_DETAILS"),
            address_change=pb.AddressChange(
                client=ctx.receiver, new_address=address("7 Park Lane", "LS2 2BB")
            ),
        ),
        _check_address,
    ),
    Scenario(
        "activate_representative", "ACTIVATE_CLIENT_REPRESENTATIVE", _activate, _check_activated
    ),
    Scenario(
        "deactivate_representative",
        "DEACTIVATE_CLIENT_REPRESENTATIVE",
        lambda ctx: pb.ChangeOfCircumstances(
            type=t("DEACTIVATE_CLIENT_REPRESENTATIVE"),
            client_representative_change=pb.ClientRepresentativeChange(
                client=ctx.receiver, representative_name=ctx.extra["representative"]
            ),
        ),
        _check_deactivated,
        setup=_setup_representative,
    ),
    Scenario(
        "contact_details",
        "CHANGE_CONTACT_DETAILS",
        lambda ctx: pb.ChangeOfCircumstances(
            type=t("CHANGE_CONTACT_DETAILS"),
            contact_details_change=pb.ContactDetailsChange(
                client=ctx.payer,
                new_contact_details=pb.ContactDetails(
                    mobile_phone="07700 900123", email="alex@example.org"
                ),
            ),
        ),
        _check_contact,
    ),
    Scenario(
        "security_details",
        "CHANGE_SECURITY_DETAILS",
        lambda ctx: pb.ChangeOfCircumstances(
            type=t("CHANGE_SECURITY_DETAILS"),
            security_details_change=pb.SecurityDetailsChange(
                client=ctx.payer,
                new_security_details=pb.SecurityDetails(
                    security_question="First school attended", security_answer="Hillside Primary"
                ),
            ),
        ),
        _check_security,
    ),
    Scenario("personal_details_name", "CHANGE_PERSONAL_DETAILS", _personal, _check_personal),
    Scenario(
        "contact_preferences",
        "CHANGE_CONTACT_PREFERENCES",
        lambda ctx: pb.ChangeOfCircumstances(
            type=t("CHANGE_CONTACT_PREFERENCES"),
            contact_preferences_change=pb.ContactPreferencesChange(
                client=ctx.receiver,
                new_contact_preferences=pb.ContactPreferences(
                    preferred_channel=pb.CONTACT_CHANNEL_EMAIL, welsh_language=True
                ),
            ),
        ),
        _check_preferences,
    ),
    Scenario(
        "nrp_not_the_parent_one_of_two",
        "NRP_NOT_THE_PARENT",
        lambda ctx: child_change("NRP_NOT_THE_PARENT", ctx.amy),
        _ended(pb.CHILD_END_REASON_PAYING_PARENT_NOT_THE_PARENT),
        moves=True,
    ),
    Scenario(
        "nrp_not_the_parent_only_qc",
        "NRP_NOT_THE_PARENT",
        lambda ctx: child_change("NRP_NOT_THE_PARENT", ctx.amy),
        _ended(pb.CHILD_END_REASON_PAYING_PARENT_NOT_THE_PARENT),
        children=1,
        closes=pb.CASE_CLOSURE_REASON_PAYING_PARENT_NOT_THE_PARENT,
    ),
    Scenario(
        "parentage_dispute_one_of_two",
        "PARENTAGE_DISPUTE",
        lambda ctx: child_change("PARENTAGE_DISPUTE", ctx.amy),
        _check_disputed,
        recalculates=True,
    ),
    Scenario(
        "parentage_dispute_only_qc",
        "PARENTAGE_DISPUTE",
        lambda ctx: child_change("PARENTAGE_DISPUTE", ctx.amy),
        _ended(pb.CHILD_END_REASON_PAYING_PARENT_NOT_THE_PARENT),
        children=1,
        closes=pb.CASE_CLOSURE_REASON_PAYING_PARENT_NOT_THE_PARENT,
    ),
    Scenario(
        "reconciled",
        "PWC_AND_NRP_RECONCILED",
        lambda ctx: _dated(pb.ChangeOfCircumstances(type=t("PWC_AND_NRP_RECONCILED"))),
        _closed_with,
        closes=pb.CASE_CLOSURE_REASON_PARENTS_RECONCILED,
    ),
    Scenario(
        "qc_not_in_education",
        "QC_NOT_IN_FULL_TIME_EDUCATION",
        lambda ctx: child_change("QC_NOT_IN_FULL_TIME_EDUCATION", ctx.amy),
        _ended(pb.CHILD_END_REASON_NOT_IN_FULL_TIME_EDUCATION),
        moves=True,
    ),
    Scenario(
        "qc_not_in_education_last_qc",
        "QC_NOT_IN_FULL_TIME_EDUCATION",
        lambda ctx: child_change("QC_NOT_IN_FULL_TIME_EDUCATION", ctx.amy),
        _ended(pb.CHILD_END_REASON_NOT_IN_FULL_TIME_EDUCATION),
        children=1,
        closes=NO_QC,
    ),
    Scenario(
        "child_turns_20",
        "CHILD_TURNS_20",
        lambda ctx: child_change("CHILD_TURNS_20", ctx.amy),
        _ended(pb.CHILD_END_REASON_TURNED_20),
        moves=True,
    ),
    Scenario(
        "roc_turns_20",
        "CHILD_TURNS_20",
        lambda ctx: child_change("CHILD_TURNS_20", ctx.cara),
        _ended(pb.CHILD_END_REASON_TURNED_20, "cara", "relevant_other_children"),
        roc=True,
        moves=True,
    ),
    Scenario(
        "death_of_qc",
        "DEATH_OF_QC",
        lambda ctx: child_change("DEATH_OF_QC", ctx.ben),
        _ended(pb.CHILD_END_REASON_DIED, "ben"),
        moves=True,
    ),
    Scenario(
        "death_of_roc",
        "DEATH_OF_ROC",
        lambda ctx: child_change("DEATH_OF_ROC", ctx.cara),
        _ended(pb.CHILD_END_REASON_DIED, "cara", "relevant_other_children"),
        roc=True,
        moves=True,
    ),
    Scenario(
        "death_of_receiving_parent",
        "DEATH_OF_CLIENT",
        lambda ctx: _dated(
            pb.ChangeOfCircumstances(
                type=t("DEATH_OF_CLIENT"),
                death_of_client=pb.DeathOfClient(client=ctx.receiver, notified_by="registrar"),
            ),
            d(2026, 4, 3),
        ),
        _check_death_of_client,
        closes=pb.CASE_CLOSURE_REASON_DEATH_OF_RECEIVING_PARENT,
    ),
    Scenario(
        "death_of_paying_parent",
        "DEATH_OF_CLIENT",
        lambda ctx: _dated(
            pb.ChangeOfCircumstances(
                type=t("DEATH_OF_CLIENT"),
                death_of_client=pb.DeathOfClient(client=ctx.payer, notified_by="DWP"),
            ),
            d(2026, 4, 2),
        ),
        _check_death_of_payer,
        closes=pb.CASE_CLOSURE_REASON_DEATH_OF_PAYING_PARENT,
    ),
    Scenario(
        "qc_adopted",
        "QC_ROC_ADOPTED",
        lambda ctx: child_change("QC_ROC_ADOPTED", ctx.amy),
        _ended(pb.CHILD_END_REASON_ADOPTED),
        moves=True,
    ),
    Scenario(
        "deo_employment_details",
        "CHANGE_TO_DEO_EMPLOYMENT_DETAILS",
        lambda ctx: pb.ChangeOfCircumstances(
            type=t("CHANGE_TO_DEO_EMPLOYMENT_DETAILS"),
            deo_employment_details_change=pb.EmploymentDetails(
                employer_name="Acme Widgets Ltd",
                employer_paye_reference="247/A1987CB",
                payroll_number="P-1234",
            ),
        ),
        _check_employer,
    ),
    Scenario(
        "method_of_payment_from",
        "CHANGE_TO_METHOD_OF_PAYMENT_FROM",
        lambda ctx: payment_change(
            "CHANGE_TO_METHOD_OF_PAYMENT_FROM",
            method_of_payment_from=pb.METHOD_OF_PAYMENT_FROM_DIRECT_DEBIT,
        ),
        _case_field("method_of_payment_from", pb.METHOD_OF_PAYMENT_FROM_DIRECT_DEBIT),
    ),
    Scenario(
        "method_of_payment_to",
        "CHANGE_TO_METHOD_OF_PAYMENT_TO",
        lambda ctx: payment_change(
            "CHANGE_TO_METHOD_OF_PAYMENT_TO",
            method_of_payment_to=pb.METHOD_OF_PAYMENT_TO_BANK_ACCOUNT,
        ),
        _case_field("method_of_payment_to", pb.METHOD_OF_PAYMENT_TO_BANK_ACCOUNT),
    ),
    Scenario(
        "service_type",
        "CHANGE_TO_SERVICE_TYPE",
        lambda ctx: payment_change(
            "CHANGE_TO_SERVICE_TYPE", service_type=pb.SERVICE_TYPE_COLLECT_AND_PAY
        ),
        _check_collect_and_pay,
        moves=True,
    ),
    Scenario(
        "payment_frequency",
        "CHANGE_PAYMENT_FREQUENCY",
        lambda ctx: payment_change(
            "CHANGE_PAYMENT_FREQUENCY", payment_frequency=common.PAYMENT_FREQUENCY_WEEKLY
        ),
        _check_weekly,
        moves=True,
        liability_changed=False,
    ),
    Scenario(
        "nrp_not_primary_carer_of_roc",
        "NRP_NOT_PRIMARY_CARER_OF_ROC",
        lambda ctx: child_change("NRP_NOT_PRIMARY_CARER_OF_ROC", ctx.cara),
        _ended(pb.CHILD_END_REASON_NOT_PRIMARY_CARER, "cara", "relevant_other_children"),
        roc=True,
        moves=True,
    ),
    Scenario(
        "pwc_not_primary_carer_of_qc",
        "PWC_NOT_PRIMARY_CARER_OF_QC",
        lambda ctx: child_change("PWC_NOT_PRIMARY_CARER_OF_QC", ctx.amy),
        _ended(pb.CHILD_END_REASON_NOT_PRIMARY_CARER),
        moves=True,
    ),
    Scenario(
        "shared_care",
        "SHARED_CARE",
        lambda ctx: pb.ChangeOfCircumstances(
            type=t("SHARED_CARE"),
            shared_care_change=pb.SharedCareChange(
                child_id=ctx.amy, paying_parent_nights_per_year=104
            ),
        ),
        _check_shared_care,
        moves=True,
    ),
    Scenario(
        "roc_not_in_education",
        "ROC_NOT_IN_FULL_TIME_EDUCATION",
        lambda ctx: child_change("ROC_NOT_IN_FULL_TIME_EDUCATION", ctx.cara),
        _ended(pb.CHILD_END_REASON_NOT_IN_FULL_TIME_EDUCATION, "cara", "relevant_other_children"),
        roc=True,
        moves=True,
    ),
    Scenario(
        "new_qc",
        "NEW_QC_IN_PWC_HOUSEHOLD",
        _new_child("NEW_QC_IN_PWC_HOUSEHOLD"),
        _added("qualifying_children"),
        moves=True,
    ),
    Scenario(
        "new_roc",
        "NEW_ROC_IN_NRP_HOUSEHOLD",
        _new_child("NEW_ROC_IN_NRP_HOUSEHOLD"),
        _added("relevant_other_children"),
        moves=True,
    ),
    Scenario(
        "new_cifba",
        "NEW_CIFBA",
        _new_child("NEW_CIFBA"),
        _added("children_in_family_based_arrangements"),
        moves=True,
    ),
    Scenario(
        "benefit_started",
        "CHANGE_BENEFIT_DETAILS",
        lambda ctx: _dated(
            pb.ChangeOfCircumstances(
                type=t("CHANGE_BENEFIT_DETAILS"),
                benefit_details_change=pb.BenefitDetailsChange(
                    benefit="INCOME_SUPPORT", change=pb.BENEFIT_CHANGE_STARTED
                ),
            )
        ),
        _check_benefit,
        moves=True,
    ),
    Scenario(
        "income_up_34_percent",
        "CHANGE_INCOME",
        lambda ctx: income_change(80000),
        _check_income,
        moves=True,
    ),
    Scenario(
        "income_up_10_percent",
        "CHANGE_INCOME",
        lambda ctx: income_change(65836),
        _check_small_income,
        final=pb.CHANGE_OF_CIRCUMSTANCES_STATE_TOLERANCE_NOT_BREACHED,
        resolution=pb.SERVICE_REQUEST_RESOLUTION_CODE_TOLERANCE_NOT_BREACHED,
    ),
    Scenario(
        "employment_status",
        "CHANGE_EMPLOYMENT_STATUS",
        lambda ctx: pb.ChangeOfCircumstances(
            type=t("CHANGE_EMPLOYMENT_STATUS"),
            employment_status_change=pb.EmploymentStatusChange(
                new_status=pb.EMPLOYMENT_STATUS_SELF_EMPLOYED
            ),
        ),
        _check_employment,
        recalculates=True,
    ),
]


def _check_prisoner(ctx, response, case, change):
    (held,) = case.paying_parent.nil_rate_categories
    assert held.category == pb.NIL_RATE_CATEGORY_PRISONER and not held.period.end_date.year
    assert (case.latest_calculation.rate, case.latest_calculation.weekly_amount_pence) == ("NIL", 0)


def _check_equal_care(ctx, response, case, change):
    assert _qc(case, ctx.amy).equal_day_to_day_care_periods
    assert not _qc(case, ctx.ben).equal_day_to_day_care_periods
    # Amy is left out (reg 50): Alex pays for Ben alone, 12% of £598.36 = £71.80, £72.
    assert case.latest_calculation.weekly_amount_pence == 7200


def _check_partner(ctx, response, case, change):
    (period,) = case.paying_parent.partner_paying_parent_periods
    assert not period.end_date.year
    # On the basic rate a partner who pays too changes nothing (only the flat rate is halved).
    assert (
        case.latest_calculation.weekly_amount_pence
        == ctx.case.latest_calculation.weekly_amount_pence
    )


SCENARIOS += [
    Scenario(
        "nil_rate_prisoner",
        "NIL_RATE_CATEGORY",
        lambda ctx: pb.ChangeOfCircumstances(
            type=t("NIL_RATE_CATEGORY"),
            nil_rate_category_change=pb.NilRateCategoryChange(
                category=pb.NIL_RATE_CATEGORY_PRISONER
            ),
        ),
        _check_prisoner,
        moves=True,
    ),
    Scenario(
        "equal_day_to_day_care",
        "EQUAL_DAY_TO_DAY_CARE",
        lambda ctx: pb.ChangeOfCircumstances(
            type=t("EQUAL_DAY_TO_DAY_CARE"),
            equal_day_to_day_care_change=pb.EqualDayToDayCareChange(child_id=ctx.amy),
        ),
        _check_equal_care,
        moves=True,
    ),
    Scenario(
        "partner_paying_parent",
        "PARTNER_PAYING_PARENT",
        lambda ctx: pb.ChangeOfCircumstances(
            type=t("PARTNER_PAYING_PARENT"),
            partner_paying_parent_change=pb.PartnerPayingParentChange(),
        ),
        _check_partner,
        recalculates=True,
    ),
]


def test_every_type_of_change_has_a_scenario():
    """A type added to the contract without a scenario here fails this test. A VARIATION_AGREED change is raised only
    by deciding a variation (tests/variations), never reported."""
    every = {
        value.name.removeprefix("CHANGE_OF_CIRCUMSTANCES_TYPE_") for value in T.DESCRIPTOR.values
    } - {"UNSPECIFIED", "VARIATION_AGREED"}
    assert {s.type for s in SCENARIOS} == every, every ^ {s.type for s in SCENARIOS}
    assert len({s.id for s in SCENARIOS}) == len(SCENARIOS)


def _context(stack, scenario: Scenario) -> Ctx:
    case = stack.new_live_case(case_request(children=scenario.children))
    assert case.state == pb.CASE_STATE_LIVE and case.current_payment_plan
    if scenario.roc:  # Cara joins Alex's household as a relevant other child first (a change, as it would in life)
        report_and_verify(
            stack,
            case,
            pb.ChangeOfCircumstances(
                type=t("NEW_ROC_IN_NRP_HOUSEHOLD"),
                new_child=pb.NewChild(
                    name=name_of("Cara", "Turner"),
                    date_of_birth=d(2020, 5, 5),
                    child_reference_number="AK100003C",
                ),
            ),
        )
        stack.apply(case)
        case = get_case(stack, case)
        assert [c.name.forenames for c in case.relevant_other_children] == ["Cara"]
    ctx = Ctx(
        stack,
        case,
        payer=case.paying_parent.name,
        receiver=case.receiving_parent.name,
        amy=case.qualifying_children[0].child_id,
    )
    if scenario.children > 1:
        ctx.ben = case.qualifying_children[1].child_id
    if scenario.roc:
        ctx.cara = case.relevant_other_children[0].child_id
    return ctx


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_each_type_is_reported_verified_applied_and_seen_on_the_case(stack, scenario: Scenario):
    ctx = _context(stack, scenario)
    if scenario.setup is not None:
        scenario.setup(ctx)
        ctx.case = get_case(stack, ctx.case)
    before = ctx.case

    reported = stack.report(before, scenario.build(ctx))
    assert reported.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_REPORTED and reported.type == t(
        scenario.type
    )
    sr = get_sr(stack, reported)
    assert (
        sr.status == pb.SERVICE_REQUEST_STATUS_OPEN and sr.change_of_circumstances == reported.name
    )
    verified = stack.verify(reported)
    if scenario.type == "CHANGE_PERSONAL_DETAILS":
        assert verified.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_AWAITING_AUTHORISATION
        verified = authorise(stack, verified, as_=stack.team_leader("tl-2"))
    assert verified.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_VERIFIED
    assert get_sr(stack, reported).status == pb.SERVICE_REQUEST_STATUS_IN_PROGRESS

    response = stack.apply(before)
    (applied,) = response.changes_of_circumstances
    assert applied.name == reported.name
    assert applied.state == scenario.final, S.Name(applied.state)
    assert applied.complete_time.seconds
    after = get_case(stack, before)
    assert response.updated_case == after
    assert get_change(stack, reported) == applied

    sr = get_sr(stack, reported)
    assert (sr.status, sr.sub_status, sr.resolution_code) == (
        pb.SERVICE_REQUEST_STATUS_CLOSED,
        pb.SERVICE_REQUEST_SUB_STATUS_COMPLETE,
        scenario.resolution,
    )

    if scenario.closes:
        assert after.state == pb.CASE_STATE_CLOSED
        assert after.closure.reason == scenario.closes, pb.CaseClosureReason.Name(
            after.closure.reason
        )
        assert after.closure.change_of_circumstances == applied.name
        assert not response.payment_plan
        assert (
            get_plan(stack, before.current_payment_plan).state == pb.PAYMENT_PLAN_STATE_SUPERSEDED
        )
    else:
        assert after.state == pb.CASE_STATE_LIVE
    if scenario.moves:
        assert after.latest_calculation.calculation != before.latest_calculation.calculation
        assert after.latest_calculation.reason == pb.CALCULATION_REASON_CHANGE_OF_CIRCUMSTANCES
        if scenario.liability_changed:
            assert (
                applied.calculation == after.latest_calculation.calculation
                and applied.liability_changed
            )
        assert response.payment_plan and response.payment_plan != before.current_payment_plan
        assert after.current_payment_plan == response.payment_plan
        plan = get_plan(stack, response.payment_plan)
        assert (
            plan.state == pb.PAYMENT_PLAN_STATE_CURRENT
            and plan.calculation == after.latest_calculation.calculation
        )
        assert (
            plan.issue_time.ToDatetime().date()
            == after.latest_calculation.calculate_time.ToDatetime().date()
        )
        assert (
            plan.issue_time.ToDatetime().year,
            plan.issue_time.ToDatetime().month,
            plan.issue_time.ToDatetime().day,
        ) == TODAY
        assert (
            get_plan(stack, before.current_payment_plan).state == pb.PAYMENT_PLAN_STATE_SUPERSEDED
        )
    elif scenario.recalculates:
        assert after.latest_calculation.calculation != before.latest_calculation.calculation
        assert applied.calculation == after.latest_calculation.calculation
    elif not scenario.closes:
        assert after.latest_calculation == before.latest_calculation
        assert (
            not response.payment_plan and after.current_payment_plan == before.current_payment_plan
        )
        assert not applied.calculation and not applied.liability_changed
    scenario.check(ctx, response, after, applied)


# -- 2. sequencing ---------------------------------------------------------------------------------------------------


def _ids(case: pb.Case) -> tuple[str, str]:
    return case.qualifying_children[0].child_id, case.qualifying_children[1].child_id


def _shared_care(child_id: str, nights: int = 104) -> pb.ChangeOfCircumstances:
    return pb.ChangeOfCircumstances(
        type=t("SHARED_CARE"),
        shared_care_change=pb.SharedCareChange(
            child_id=child_id, paying_parent_nights_per_year=nights
        ),
    )


def test_pending_changes_are_applied_in_the_sequencing_tables_order(stack, clock):
    case = stack.new_live_case()
    amy, ben = _ids(case)

    def report(change):
        clock.advance(dt.timedelta(minutes=1))
        return stack.report(case, change)

    # Reported in an order unlike the table's; the two step-7 changes go by effective date, not the order reported.
    reported = {
        "shared_care": report(_shared_care(amy)),
        "mop_from": report(
            _dated(
                payment_change(
                    "CHANGE_TO_METHOD_OF_PAYMENT_FROM",
                    method_of_payment_from=pb.METHOD_OF_PAYMENT_FROM_DIRECT_DEBIT,
                ),
                d(2026, 4, 20),
            )
        ),
        "address": report(address_change(case.receiving_parent.name, "7 Park Lane")),
        "mop_to": report(
            _dated(
                payment_change(
                    "CHANGE_TO_METHOD_OF_PAYMENT_TO",
                    method_of_payment_to=pb.METHOD_OF_PAYMENT_TO_BANK_ACCOUNT,
                ),
                d(2026, 4, 10),
            )
        ),
        "not_in_education": report(child_change("QC_NOT_IN_FULL_TIME_EDUCATION", ben)),
    }
    expected = ["address", "not_in_education", "mop_to", "mop_from", "shared_care"]
    names = [reported[key].name for key in expected]
    assert [reported[key].sequence_step for key in expected] == [3, 5, 7, 7, 8]
    assert [
        c.name for c in list_changes(stack, case)
    ] == names  # pending: in the order they will be applied
    for change in reported.values():
        stack.verify(change)

    response = stack.apply(case)
    assert [c.name for c in response.changes_of_circumstances] == names
    assert {c.state for c in response.changes_of_circumstances} == {
        pb.CHANGE_OF_CIRCUMSTANCES_STATE_APPLIED
    }
    after = get_case(stack, case)
    assert after.receiving_parent.address.lines == ["7 Park Lane"]
    assert _qc(after, ben).end_reason == pb.CHILD_END_REASON_NOT_IN_FULL_TIME_EDUCATION
    assert (
        _qc(after, amy).paying_parent_nights_per_year == 104 and not _qc(after, amy).end_date.year
    )
    assert (after.method_of_payment_from, after.method_of_payment_to) == (
        pb.METHOD_OF_PAYMENT_FROM_DIRECT_DEBIT,
        pb.METHOD_OF_PAYMENT_TO_BANK_ACCOUNT,
    )
    # One recalculation for everything applied, and one new plan the same day.
    assert after.latest_calculation.calculation != case.latest_calculation.calculation
    by_name = {c.name: c for c in response.changes_of_circumstances}
    assert (
        by_name[reported["not_in_education"].name].calculation
        == after.latest_calculation.calculation
    )
    assert by_name[reported["shared_care"].name].calculation == after.latest_calculation.calculation
    assert response.payment_plan and after.current_payment_plan == response.payment_plan
    plans = stack.call(
        "ListPaymentPlans", api.ListPaymentPlansRequest(parent=case.name)
    ).payment_plans
    assert len(plans) == 2 and [p.state for p in plans].count(pb.PAYMENT_PLAN_STATE_CURRENT) == 1


def test_nrp_not_the_parent_of_the_last_qc_closes_the_case_and_supersedes_the_rest(stack, clock):
    case = stack.new_live_case()
    amy, ben = _ids(case)
    report_and_verify(stack, case, child_change("QC_NOT_IN_FULL_TIME_EDUCATION", ben))
    assert (
        stack.apply(case).updated_case.state == pb.CASE_STATE_LIVE
    )  # Amy is now the last qualifying child

    def report(
        change,
    ):  # a minute apart: within a step (other than 5 and 7) changes go in the order reported
        clock.advance(dt.timedelta(minutes=1))
        return stack.report(case, change)

    shared = report(_shared_care(amy))
    income = report(income_change(90000))
    method = report(
        payment_change(
            "CHANGE_TO_METHOD_OF_PAYMENT_FROM",
            method_of_payment_from=pb.METHOD_OF_PAYMENT_FROM_DIRECT_DEBIT,
        )
    )
    moved = report(address_change(case.receiving_parent.name, "7 Park Lane"))
    died = report(child_change("DEATH_OF_QC", amy, d(2026, 4, 1)))  # step 5, effective before
    not_parent = report(child_change("NRP_NOT_THE_PARENT", amy, d(2026, 4, 6)))
    assert not_parent.sequence_step == 4 and shared.sequence_step == 8
    for change in (shared, income, method, moved, died, not_parent):
        stack.verify(change)
    unverified = stack.report(case, address_change(case.paying_parent.name, "1 High Street"))

    response = stack.apply(case)
    assert [c.name for c in response.changes_of_circumstances] == [
        moved.name,
        not_parent.name,
        died.name,
        method.name,
        shared.name,
        income.name,
    ]
    states = {c.name: c.state for c in response.changes_of_circumstances}
    assert states[moved.name] == states[not_parent.name] == pb.CHANGE_OF_CIRCUMSTANCES_STATE_APPLIED
    after = get_case(stack, case)
    assert after.state == pb.CASE_STATE_CLOSED
    assert after.closure.reason == pb.CASE_CLOSURE_REASON_PAYING_PARENT_NOT_THE_PARENT
    assert after.closure.change_of_circumstances == not_parent.name
    assert _qc(after, amy).end_reason == pb.CHILD_END_REASON_PAYING_PARENT_NOT_THE_PARENT
    assert after.receiving_parent.address.lines == ["7 Park Lane"]
    assert after.paying_parent.address.lines == ["14 Victoria Road"]
    assert (
        not response.payment_plan
        and after.latest_calculation == response.updated_case.latest_calculation
    )
    assert after.method_of_payment_from != pb.METHOD_OF_PAYMENT_FROM_DIRECT_DEBIT
    assert not after.paying_parent.employment_and_income.current_income_source
    sr = get_sr(stack, not_parent)
    assert (sr.status, sr.sub_status, sr.resolution_code) == (
        pb.SERVICE_REQUEST_STATUS_CLOSED,
        pb.SERVICE_REQUEST_SUB_STATUS_COMPLETE,
        pb.SERVICE_REQUEST_RESOLUTION_CODE_ACCEPTED,
    )
    for change in (died, method, shared, income, unverified):
        stored = get_change(stack, change)
        assert stored.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_SUPERSEDED, S.Name(stored.state)
        assert stored.superseded_by == not_parent.name
        sr = get_sr(stack, change)
        assert (sr.status, sr.resolution_code) == (
            pb.SERVICE_REQUEST_STATUS_CLOSED,
            pb.SERVICE_REQUEST_RESOLUTION_CODE_SUPERSEDED,
        )
    assert not [
        c
        for c in list_changes(stack, case)
        if S.Name(c.state)
        in ("CHANGE_OF_CIRCUMSTANCES_STATE_REPORTED", "CHANGE_OF_CIRCUMSTANCES_STATE_VERIFIED")
    ]


# -- 3. the 25% income tolerance ---------------------------------------------------------------------------------------

HISTORIC = 59836  # £31,200 ÷ 365 × 7, in pence a week: the income the first calculation used


def _apply_income(
    stack, case, pence: int
) -> tuple[api.ApplyChangesOfCircumstancesResponse, pb.ChangeOfCircumstances]:
    change = report_and_verify(stack, case, income_change(pence))
    response = stack.apply(case)
    (applied,) = response.changes_of_circumstances
    assert applied.name == change.name
    return response, applied


def test_an_income_change_under_25_percent_is_recorded_but_not_applied(stack):
    case = stack.new_live_case()
    assert case.latest_calculation.gross_weekly_income_pence == HISTORIC
    for pence, points in ((74196, 2399), (74794, 2499)):  # +24%, and a penny short of +25%
        response, applied = _apply_income(stack, case, pence)
        assert applied.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_TOLERANCE_NOT_BREACHED
        assert (
            applied.income_change.change_basis_points,
            applied.income_change.tolerance_breached,
        ) == (points, False)
        assert not applied.calculation and not applied.liability_changed
        assert not response.payment_plan
        after = get_case(stack, case)
        assert after.latest_calculation == case.latest_calculation
        assert after.current_payment_plan == case.current_payment_plan
        assert not after.paying_parent.employment_and_income.current_gross_weekly_income_pence
        sr = get_sr(stack, applied)
        assert (sr.status, sr.sub_status, sr.resolution_code) == (
            pb.SERVICE_REQUEST_STATUS_CLOSED,
            pb.SERVICE_REQUEST_SUB_STATUS_COMPLETE,
            pb.SERVICE_REQUEST_RESOLUTION_CODE_TOLERANCE_NOT_BREACHED,
        )
        assert get_change(stack, applied).income_change.change_basis_points == points

    response, applied = _apply_income(stack, case, 74795)  # exactly +25%
    assert applied.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_APPLIED
    assert (
        applied.income_change.change_basis_points,
        applied.income_change.tolerance_breached,
    ) == (2500, True)
    after = get_case(stack, case)
    assert after.paying_parent.employment_and_income.current_gross_weekly_income_pence == 74795
    assert after.latest_calculation.gross_weekly_income_pence == 74795
    assert after.latest_calculation.income_basis == "CURRENT_DIFFERS_FROM_HISTORIC"
    assert (
        after.latest_calculation.weekly_amount_pence > case.latest_calculation.weekly_amount_pence
    )
    assert applied.calculation == after.latest_calculation.calculation and applied.liability_changed
    assert (
        response.payment_plan
        and after.current_payment_plan == response.payment_plan != case.current_payment_plan
    )
    assert get_sr(stack, applied).resolution_code == pb.SERVICE_REQUEST_RESOLUTION_CODE_ACCEPTED

    # The next change is measured against the income now in use (£747.95): +10% of it is within tolerance.
    _, small = _apply_income(stack, case, 82274)
    assert small.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_TOLERANCE_NOT_BREACHED
    assert small.income_change.change_basis_points == 999


def test_an_income_fall_of_30_percent_is_applied(stack):
    case = stack.new_live_case()
    response, applied = _apply_income(stack, case, 41885)
    assert applied.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_APPLIED
    assert (
        applied.income_change.change_basis_points,
        applied.income_change.tolerance_breached,
    ) == (-3000, True)
    after = get_case(stack, case)
    assert after.latest_calculation.gross_weekly_income_pence == 41885
    assert (
        after.latest_calculation.weekly_amount_pence < case.latest_calculation.weekly_amount_pence
    )
    assert after.latest_calculation.reason == pb.CALCULATION_REASON_CHANGE_OF_CIRCUMSTANCES
    assert (
        response.payment_plan
        and after.current_payment_plan == response.payment_plan != case.current_payment_plan
    )
    plan = get_plan(stack, response.payment_plan)
    assert plan.weekly_amount_pence == after.latest_calculation.weekly_amount_pence
    assert plan.issue_time.ToDatetime().date().isoformat() == "2026-04-06"


# -- 4. team-leader authorisation ------------------------------------------------------------------------------------


def _name_change(client: str, surname: str, reason: int, **more) -> pb.ChangeOfCircumstances:
    return pb.ChangeOfCircumstances(
        type=t("CHANGE_PERSONAL_DETAILS"),
        personal_details_change=pb.PersonalDetailsChange(
            client=client, new_name=name_of("Bethan", surname), name_change_reason=reason, **more
        ),
    )


VERBAL = [pb.Evidence(kind=pb.EVIDENCE_KIND_VERBAL, description="told us on the phone")]
DEED = [pb.Evidence(kind=pb.EVIDENCE_KIND_DOCUMENT, description="deed poll seen")]


def test_a_name_change_needs_documents_and_a_second_team_leader(stack):
    case = stack.new_live_case()
    bethan = case.receiving_parent.name
    change = stack.report(case, _name_change(bethan, "Hughes", pb.NAME_CHANGE_REASON_DEED_POLL))
    assert change.requires_team_leader_authorisation

    err = refused(lambda: stack.verify(change, evidence=VERBAL, as_=stack.team_leader("tl-1")))
    reason, violations = precondition(err)
    assert reason == "EVIDENCE_INSUFFICIENT" and violations == [
        ("EVIDENCE_INSUFFICIENT", change.name)
    ]
    assert get_change(stack, change).state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_REPORTED
    assert not get_change(stack, change).evidence  # the refused verification recorded nothing

    verified = stack.verify(change, evidence=DEED, as_=stack.team_leader("tl-1"))
    assert (
        verified.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_AWAITING_AUTHORISATION
        and verified.verified_by == "tl-1"
    )
    sr = get_sr(stack, change)
    assert (sr.status, sr.sub_status) == (
        pb.SERVICE_REQUEST_STATUS_PENDING,
        pb.SERVICE_REQUEST_SUB_STATUS_AWAITING_TEAM_LEADER_AUTHORISATION,
    )
    assert not stack.apply(case).changes_of_circumstances  # not applied before it is authorised
    assert get_client(stack, bethan).identity.name.surname == "Morgan"

    err = refused(lambda: authorise(stack, change, as_=stack.creds.staff("cw-1", "caseworker")))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    err = refused(lambda: authorise(stack, change, as_=stack.team_leader("tl-1")))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    assert details_of(err)["ErrorInfo"].reason == "SAME_PERSON_VERIFIED"
    assert (
        get_change(stack, change).state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_AWAITING_AUTHORISATION
    )

    authorised = authorise(stack, change, as_=stack.team_leader("tl-2"))
    assert (
        authorised.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_VERIFIED
        and authorised.authorised_by == "tl-2"
    )
    assert get_sr(stack, change).status == pb.SERVICE_REQUEST_STATUS_IN_PROGRESS
    (applied,) = stack.apply(case).changes_of_circumstances
    assert applied.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_APPLIED
    assert get_client(stack, bethan).identity.name == name_of("Bethan", "Hughes")


def test_verbal_evidence_is_enough_only_for_a_married_name(stack):
    case = stack.new_live_case()
    bethan = case.receiving_parent.name
    married = stack.report(
        case, _name_change(bethan, "Hughes", pb.NAME_CHANGE_REASON_MARRIAGE_OR_CIVIL_PARTNERSHIP)
    )
    assert (
        stack.verify(married, evidence=VERBAL).state
        == pb.CHANGE_OF_CIRCUMSTANCES_STATE_AWAITING_AUTHORISATION
    )
    for change in (
        _name_change(
            bethan,
            "Hughes",
            pb.NAME_CHANGE_REASON_MARRIAGE_OR_CIVIL_PARTNERSHIP,
            new_date_of_birth=d(1979, 11, 3),
        ),
        _name_change(bethan, "Morgan-Hughes", pb.NAME_CHANGE_REASON_DIVORCE_OR_DISSOLUTION),
        pb.ChangeOfCircumstances(
            type=t("CHANGE_PERSONAL_DETAILS"),
            personal_details_change=pb.PersonalDetailsChange(
                client=bethan, new_gender=pb.GENDER_FEMALE
            ),
        ),
    ):
        reported = stack.report(case, change)
        reason, _ = precondition(
            refused(lambda reported=reported: stack.verify(reported, evidence=VERBAL))
        )
        assert reason == "EVIDENCE_INSUFFICIENT"


def test_a_refused_authorisation_declines_the_change(stack):
    case = stack.new_live_case()
    bethan = case.receiving_parent.name
    change = report_and_verify(
        stack,
        case,
        _name_change(bethan, "Hughes", pb.NAME_CHANGE_REASON_MARRIAGE_OR_CIVIL_PARTNERSHIP),
        evidence=VERBAL,
    )
    declined = authorise(
        stack, change, as_=stack.team_leader("tl-2"), decision=api.AUTHORISATION_DECISION_REFUSED
    )
    assert (
        declined.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_DECLINED
        and declined.authorised_by == "tl-2"
    )
    assert declined.complete_time.seconds
    sr = get_sr(stack, change)
    assert (sr.status, sr.sub_status, sr.resolution_code) == (
        pb.SERVICE_REQUEST_STATUS_CLOSED,
        pb.SERVICE_REQUEST_SUB_STATUS_COMPLETE,
        pb.SERVICE_REQUEST_RESOLUTION_CODE_DECLINED,
    )
    assert not stack.apply(case).changes_of_circumstances
    assert get_client(stack, bethan).identity.name.surname == "Morgan"
    reason, _ = precondition(
        refused(lambda: authorise(stack, change, as_=stack.team_leader("tl-3")))
    )
    assert reason == "NOT_AWAITING_AUTHORISATION"


# -- 5. suspicious activity ------------------------------------------------------------------------------------------


def test_close_address_changes_for_one_client_are_flagged_and_must_be_reviewed(stack):
    case = stack.new_live_case()
    alex, bethan = case.paying_parent.name, case.receiving_parent.name
    # Ten days apart: not suspicious.
    far_first = stack.report(case, address_change(alex, "1 High Street", effective=d(2026, 3, 20)))
    far_second = stack.report(case, address_change(alex, "2 High Street", effective=d(2026, 3, 30)))
    assert not far_second.suspicious_activity and not far_second.related_changes
    assert not get_change(stack, far_first).suspicious_activity

    first = stack.report(case, address_change(bethan, "7 Park Lane", effective=d(2026, 4, 1)))
    assert not first.suspicious_activity
    second = stack.report(case, address_change(bethan, "9 Park Lane", effective=d(2026, 4, 6)))
    assert second.suspicious_activity and list(second.related_changes) == [first.name]
    first = get_change(stack, first)
    assert first.suspicious_activity and list(first.related_changes) == [second.name]

    case_id = case.name.removeprefix("cases/")
    (flagged,) = wait_for_events(
        stack,
        SUSPICIOUS,
        parse=ev.SuspiciousActivityFlagged,
        matching=lambda e: e.case_id == case_id,
    )
    assert flagged.client == bethan and set(flagged.changes_of_circumstances) == {
        first.name,
        second.name,
    }
    assert list(flagged.types) == [t("CHANGE_ADDRESS_DETAILS")]

    for change in (first, second):
        reason, violations = precondition(refused(lambda change=change: stack.verify(change)))
        assert reason == "SUSPICIOUS_ACTIVITY_NOT_REVIEWED" and violations == [
            ("SUSPICIOUS_ACTIVITY_NOT_REVIEWED", change.name)
        ]
        assert get_change(stack, change).state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_REPORTED
        assert (
            stack.verify(change, reviewed=True).state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_VERIFIED
        )
    for change in (far_first, far_second):
        assert stack.verify(change).state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_VERIFIED
    stack.apply(case)

    # An address change already applied counts as much as one still pending.
    third = stack.report(case, address_change(bethan, "11 Park Lane", effective=d(2026, 4, 8)))
    assert third.suspicious_activity and list(third.related_changes) == sorted(
        [first.name, second.name]
    )
    assert wait_for_events(
        stack,
        SUSPICIOUS,
        parse=ev.SuspiciousActivityFlagged,
        count=2,
        matching=lambda e: e.case_id == case_id,
    )
    # Nothing was ever flagged for Alex's changes ten days apart.
    assert not events(
        stack,
        SUSPICIOUS,
        parse=ev.SuspiciousActivityFlagged,
        matching=lambda e: e.case_id == case_id and e.client == alex,
    )


# -- 6. death notification --------------------------------------------------------------------------------------------


def test_a_death_notification_suppresses_contact_at_once_and_closes_the_case_when_applied(stack):
    case = stack.new_live_case()
    alex, bethan = case.paying_parent.name, case.receiving_parent.name
    # Bethan is also the receiving parent on an application from another paying parent.
    other = stack.call(
        "CreateCase",
        api.CreateCaseRequest(
            request_id=str(uuid.uuid4()),
            paying_parent=pb.Client(identity=person("AC345678C", "Chris", "Evans", d(1980, 1, 1))),
            receiving_parent=pb.Client(
                identity=person("AB234567B", "Bethan", "Morgan", d(1979, 11, 2))
            ),
            qualifying_children=[
                pb.QualifyingChild(name=name_of("Cai", "Evans"), date_of_birth=d(2012, 1, 5))
            ],
        ),
    )
    assert other.receiving_parent.name == bethan
    waiting = [c for c in correspondence(stack, case) if c.recipient == bethan]
    assert waiting and {c.state for c in waiting} == {pb.CORRESPONDENCE_STATE_SCHEDULED}

    change = stack.report(
        case,
        _dated(
            pb.ChangeOfCircumstances(
                type=t("DEATH_OF_CLIENT"),
                death_of_client=pb.DeathOfClient(client=bethan, notified_by="sister"),
            ),
            d(2026, 4, 3),
        ),
    )
    assert change.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_REPORTED and change.sequence_step == 5
    client = get_client(stack, bethan)
    assert client.contact_suppressed and not client.date_of_death.year
    items = {c.name: c for c in correspondence(stack, case)}
    assert {items[c.name].state for c in waiting} == {pb.CORRESPONDENCE_STATE_SUPPRESSED}
    assert {c.state for c in items.values() if c.recipient == alex} == {
        pb.CORRESPONDENCE_STATE_SCHEDULED
    }
    assert get_case(stack, case).state == pb.CASE_STATE_LIVE
    assert not get_client(stack, alex).contact_suppressed

    stack.verify(
        change,
        evidence=[pb.Evidence(kind=pb.EVIDENCE_KIND_DOCUMENT, description="death certificate")],
    )
    (applied,) = stack.apply(case).changes_of_circumstances
    assert applied.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_APPLIED
    client = get_client(stack, bethan)
    assert (client.date_of_death.year, client.date_of_death.month, client.date_of_death.day) == (
        2026,
        4,
        3,
    )
    after = get_case(stack, case)
    assert after.state == pb.CASE_STATE_CLOSED
    assert after.closure.reason == pb.CASE_CLOSURE_REASON_DEATH_OF_RECEIVING_PARENT
    assert (after.closure.effective_date.month, after.closure.effective_date.day) == (4, 3)
    notices = [
        c
        for c in correspondence(stack, case)
        if c.kind == pb.CORRESPONDENCE_KIND_CASE_CLOSURE_NOTICE
    ]
    assert {c.recipient: c.state for c in notices} == {
        alex: pb.CORRESPONDENCE_STATE_SCHEDULED,
        bethan: pb.CORRESPONDENCE_STATE_SUPPRESSED,
    }

    (recorded,) = wait_for_events(
        stack,
        DEATH_RECORDED,
        parse=ev.ClientDeathRecorded,
        matching=lambda e: e.client_id == bare(bethan),
    )
    assert recorded.nino == "AB234567B" and (
        recorded.date_of_death.month,
        recorded.date_of_death.day,
    ) == (4, 3)
    assert sorted(recorded.cases) == sorted([case.name, other.name])


# -- 7. self-service --------------------------------------------------------------------------------------------------


def test_a_report_missing_what_its_service_request_needs_is_refused_and_nothing_is_recorded(stack):
    case = stack.new_live_case()
    amy, _ = _ids(case)
    bethan = stack.creds.client(bare(case.receiving_parent.name))
    missing = [
        (
            child_change("QC_NOT_IN_FULL_TIME_EDUCATION", amy, effective=None),
            "change_of_circumstances.effective_date",
        ),
        (
            pb.ChangeOfCircumstances(
                type=t("CHANGE_INCOME"),
                income_change=pb.IncomeChange(source=pb.INCOME_SOURCE_PAYSLIPS),
            ),
            "change_of_circumstances.income_change.current_gross_weekly_income_pence",
        ),
        (_shared_care("not-a-child"), "change_of_circumstances.shared_care_change.child_id"),
        (
            pb.ChangeOfCircumstances(type=t("CHANGE_ADDRESS_DETAILS")),
            "change_of_circumstances.address_change",
        ),
        (
            address_change("clients/someone-else", "1 Nowhere"),
            "change_of_circumstances.address_change.client",
        ),
        # A code no system uses (the contract's old example): refused, never accepted with no effect.
        (
            _dated(
                pb.ChangeOfCircumstances(
                    type=t("CHANGE_BENEFIT_DETAILS"),
                    benefit_details_change=pb.BenefitDetailsChange(
                        benefit="JSA_INCOME_BASED", change=pb.BENEFIT_CHANGE_STARTED
                    ),
                )
            ),
            "change_of_circumstances.benefit_details_change.benefit",
        ),
    ]
    for change, path in missing:
        err = refused(lambda change=change: stack.report(case, change, as_=bethan))
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert path in violated_fields(err), violated_fields(err)
    # Staff say who reported it; the outcome letter and the call go to them, so it must be a parent on the case.
    strange = address_change(case.paying_parent.name, "3 Low Road")
    strange.reporting_client = "clients/someone-else"
    err = refused(lambda: stack.report(case, strange))
    assert violated_fields(err) == ["change_of_circumstances.reporting_client"]
    assert list_changes(stack, case) == []
    srs = stack.call(
        "ListServiceRequests", api.ListServiceRequestsRequest(parent=case.name)
    ).service_requests
    assert [sr for sr in srs if sr.change_of_circumstances] == []


def test_a_client_may_report_the_other_parents_address_but_not_their_contact_preferences(stack):
    case = stack.new_live_case()
    alex, bethan = case.paying_parent.name, case.receiving_parent.name
    as_bethan = stack.creds.client(bare(bethan))

    moved = stack.report(case, address_change(alex, "3 Low Road"), as_=as_bethan)
    assert (moved.reporting_client, moved.reported_by) == (bethan, pb.REPORTER_RECEIVING_PARENT)
    sr = get_sr(stack, moved)
    assert sr.origin == pb.SERVICE_REQUEST_ORIGIN_CLIENT_SELF_SERVICE
    assert sr.action_due_time.seconds - sr.create_time.seconds == 24 * 3600

    preferences = pb.ContactPreferencesChange(
        new_contact_preferences=pb.ContactPreferences(preferred_channel=pb.CONTACT_CHANNEL_EMAIL)
    )
    preferences.client = alex
    err = refused(
        lambda: stack.report(
            case,
            pb.ChangeOfCircumstances(
                type=t("CHANGE_CONTACT_PREFERENCES"), contact_preferences_change=preferences
            ),
            as_=as_bethan,
        )
    )
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    assert [c.name for c in list_changes(stack, case)] == [moved.name]
    preferences.client = bethan
    own = stack.report(
        case,
        pb.ChangeOfCircumstances(
            type=t("CHANGE_CONTACT_PREFERENCES"), contact_preferences_change=preferences
        ),
        as_=as_bethan,
    )
    assert own.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_REPORTED and own.reporting_client == bethan

    # Alex's own view: his case, but he may not claim to be Bethan.
    by_alex = stack.report(
        case, address_change(bethan, "5 Side Street"), as_=stack.creds.client(bare(alex))
    )
    assert (by_alex.reporting_client, by_alex.reported_by) == (alex, pb.REPORTER_PAYING_PARENT)


def test_cancelling_the_service_request_withdraws_the_change(stack):
    case = stack.new_live_case()
    alex = case.paying_parent.name
    change = stack.report(
        case,
        address_change(alex, "3 Low Road"),
        as_=stack.creds.client(bare(case.receiving_parent.name)),
    )
    stack.call(
        "UpdateServiceRequestStatus",
        api.UpdateServiceRequestStatusRequest(
            request_id=str(uuid.uuid4()),
            name=change.service_request,
            status=pb.SERVICE_REQUEST_STATUS_CANCELLED,
            sub_status=pb.SERVICE_REQUEST_SUB_STATUS_INSUFFICIENT_INFORMATION,
            note="asked to call back",
        ),
    )
    withdrawn = get_change(stack, change)
    assert (
        withdrawn.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_WITHDRAWN
        and withdrawn.complete_time.seconds
    )
    reason, _ = precondition(refused(lambda: stack.verify(change)))
    assert reason == "NOT_AWAITING_VERIFICATION"
    assert not stack.apply(case).changes_of_circumstances
    assert get_client(stack, alex).address.lines == ["14 Victoria Road"]


# -- 8. several changes the same day ----------------------------------------------------------------------------------


def test_changes_completed_the_same_day_get_one_outcome_letter_and_one_call(stack, clock):
    case = stack.new_live_case()
    bethan = case.receiving_parent.name
    as_bethan = stack.creds.client(bare(bethan))
    first = stack.report(case, address_change(bethan, "7 Park Lane"), as_=as_bethan)
    second = stack.report(
        case,
        pb.ChangeOfCircumstances(
            type=t("CHANGE_CONTACT_DETAILS"),
            contact_details_change=pb.ContactDetailsChange(
                client=bethan, new_contact_details=pb.ContactDetails(mobile_phone="07700 900456")
            ),
        ),
        as_=as_bethan,
    )

    stack.verify(first)
    one = stack.apply(case)
    assert [c.name for c in one.changes_of_circumstances] == [first.name] and one.client_call
    letters = [
        c for c in correspondence(stack, case) if c.kind == pb.CORRESPONDENCE_KIND_CHANGE_OUTCOME
    ]
    (letter,) = letters
    assert letter.recipient == bethan and letter.state == pb.CORRESPONDENCE_STATE_SCHEDULED
    assert letter.service_request == first.service_request

    clock.advance(dt.timedelta(hours=2))
    stack.verify(second)
    two = stack.apply(case)
    assert [c.name for c in two.changes_of_circumstances] == [second.name]
    items = correspondence(stack, case)
    letters = {
        c.service_request: c for c in items if c.kind == pb.CORRESPONDENCE_KIND_CHANGE_OUTCOME
    }
    later = letters[second.service_request]
    assert later.state == pb.CORRESPONDENCE_STATE_SCHEDULED
    earlier = letters[first.service_request]
    assert (
        earlier.state == pb.CORRESPONDENCE_STATE_CANCELLED_REDUNDANT
        and earlier.superseded_by == later.name
    )
    assert earlier.name in two.cancelled_correspondence
    calls = [c for c in items if c.kind == pb.CORRESPONDENCE_KIND_CLIENT_CALL]
    scheduled = [c for c in calls if c.state == pb.CORRESPONDENCE_STATE_SCHEDULED]
    assert [c.name for c in scheduled] == [two.client_call] and scheduled[0].recipient == bethan
    assert scheduled[0].due_time.ToDatetime() > clock.now().replace(tzinfo=None)
    (cancelled,) = [c for c in calls if c.name == one.client_call]
    assert (
        cancelled.state == pb.CORRESPONDENCE_STATE_CANCELLED_REDUNDANT
        and cancelled.superseded_by == two.client_call
    )
    assert get_client(stack, bethan).contact_details.mobile_phone == "07700 900456"


def test_the_same_relevant_other_child_reported_twice_is_counted_once(stack):
    """Two reports of one new child in the paying parent's household (the same child reference number): one
    relevant other child, and the calculation reduces income for one (Schedule 1 to the Child Support Act 1991)."""
    case = stack.new_live_case()
    new_roc = _new_child("NEW_ROC_IN_NRP_HOUSEHOLD")(None)
    for _ in range(2):
        stack.verify(
            stack.report(
                case, _dated(pb.ChangeOfCircumstances.FromString(new_roc.SerializeToString()))
            )
        )
    response = stack.apply(case)
    after = response.updated_case
    assert [c.child_reference_number for c in after.relevant_other_children] == ["AK100009D"]
    assert after.latest_calculation.calculation != case.latest_calculation.calculation
