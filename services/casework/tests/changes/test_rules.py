"""Unit and property tests for the change-of-circumstances domain rules (cms_casework.changes.rules)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from google.protobuf import timestamp_pb2
from google.type import date_pb2
from hypothesis import given, settings
from hypothesis import strategies as st

from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms_casework.changes.rules import (
    CATALOGUE,
    DEFAULTS,
    ChangeParameters,
    client_call_due,
    closes_case_now,
    completion_runs,
    income_tolerance,
    kind_of,
    missing_information,
    order_for_application,
    sequence_step,
    subject_client,
    suspicious_related,
    unknown_codes,
    verification_problems,
)

T = pb.ChangeOfCircumstancesType
PROTO = (
    Path(__file__).resolve().parents[4] / "protos" / "cms" / "casework" / "v1" / "resources.proto"
)
PROPERTY = settings(max_examples=200, deadline=None)

PP, RP, STRANGER = "clients/pp", "clients/rp", "clients/someone-else"
N = "cases/c1/changesOfCircumstances/"


def t(name: str) -> int:
    return T.Value(f"CHANGE_OF_CIRCUMSTANCES_TYPE_{name}")


def date(y: int, m: int, d: int) -> date_pb2.Date:
    return date_pb2.Date(year=y, month=m, day=d)


def ts(when: dt.datetime) -> timestamp_pb2.Timestamp:
    out = timestamp_pb2.Timestamp()
    out.FromDatetime(when)
    return out


NOON = dt.datetime(2025, 6, 2, 12, 0, tzinfo=dt.UTC)


def make_case(
    open_qcs=("q1", "q2"), ended_qcs=("q9",), open_rocs=("r1",), ended_rocs=("r9",), cifbas=("f1",)
) -> pb.Case:
    case = pb.Case(name="cases/c1")
    case.paying_parent.name = PP
    case.receiving_parent.name = RP
    for child_id in open_qcs:
        case.qualifying_children.add(child_id=child_id)
    for child_id in ended_qcs:
        case.qualifying_children.add(child_id=child_id, end_date=date(2024, 1, 1))
    for child_id in open_rocs:
        case.relevant_other_children.add(child_id=child_id)
    for child_id in ended_rocs:
        case.relevant_other_children.add(child_id=child_id, end_date=date(2024, 1, 1))
    for child_id in cifbas:
        case.children_in_family_based_arrangements.add(child_id=child_id)
    return case


def change(
    type_name: str,
    short: str = "x",
    *,
    effective: date_pb2.Date | None = None,
    reported: dt.datetime = NOON,
    state: int = pb.CHANGE_OF_CIRCUMSTANCES_STATE_REPORTED,
    **details,
) -> pb.ChangeOfCircumstances:
    out = pb.ChangeOfCircumstances(
        name=N + short, type=t(type_name), state=state, report_time=ts(reported), **details
    )
    if effective is not None:
        out.effective_date.CopyFrom(effective)
    return out


def address(
    client: str = PP,
    *,
    name: str = "a",
    effective=None,
    reported=NOON,
    state=pb.CHANGE_OF_CIRCUMSTANCES_STATE_REPORTED,
) -> pb.ChangeOfCircumstances:
    new_address = common.Address(lines=["1 High St"], postcode="AB1 2CD")
    return change(
        "CHANGE_ADDRESS_DETAILS",
        name,
        effective=effective,
        reported=reported,
        state=state,
        address_change=pb.AddressChange(client=client, new_address=new_address),
    )


def child(type_name: str, child_id: str, name: str = "x", **kw) -> pb.ChangeOfCircumstances:
    return change(type_name, name, child_change=pb.ChildChange(child_id=child_id), **kw)


# ---------------------------------------------------------------------------------------------------------------------
# Catalogue


def _proto_type_comments() -> dict[str, str]:
    """ChangeOfCircumstancesType value name -> its comment, from resources.proto."""
    text = PROTO.read_text()
    body = text[text.index("enum ChangeOfCircumstancesType {") :]
    body = body[: body.index("}")]
    comments: dict[str, str] = {}
    pending: list[str] = []
    for line in body.splitlines()[1:]:
        line = line.strip()
        if line.startswith("//"):
            pending.append(line[2:].strip())
        elif line.startswith("CHANGE_OF_CIRCUMSTANCES_TYPE_") and not line.startswith(
            "CHANGE_OF_CIRCUMSTANCES_TYPE_UNSPECIFIED"
        ):
            comments[line.split()[0]] = " ".join(pending)
            pending = []
    return comments


def test_catalogue_has_one_entry_per_type_except_unspecified():
    expected = {value for value in T.values() if value != 0}
    assert set(CATALOGUE) == expected
    assert all(kind.type == key for key, kind in CATALOGUE.items())


def test_catalogue_step_and_details_match_the_proto_comments():
    comments = _proto_type_comments()
    assert len(comments) == len(CATALOGUE)
    for value_name, comment in comments.items():
        kind = kind_of(T.Value(value_name))
        step = int(re.match(r"\[(\d)", comment).group(1))
        if "else 8]" in comment:  # parentage: 4 on the last or only QC, else 8
            assert (step, kind.step) == (4, 8), value_name
        else:
            assert kind.step == step, value_name
        members = re.findall(
            r":\s*([a-z_]+)(?:\.[a-z_]+)?\.(?=\s|$)", comment
        )  # ": address_change." etc.
        if "no detail" in comment:
            assert kind.details is None, value_name
        else:
            assert len(members) == 1, value_name
            assert kind.details == members[0], value_name


def test_catalogue_details_are_members_of_the_details_oneof():
    members = {
        field.name for field in pb.ChangeOfCircumstances.DESCRIPTOR.oneofs_by_name["details"].fields
    }
    for kind in CATALOGUE.values():
        assert kind.details is None or kind.details in members
        assert 1 <= kind.step <= 8


@pytest.mark.parametrize("value", [0, 999])
def test_kind_of_refuses_unspecified_and_unknown(value):
    with pytest.raises(KeyError):
        kind_of(value)


def short_name(value: int) -> str:
    return T.Name(value).removeprefix("CHANGE_OF_CIRCUMSTANCES_TYPE_")


def test_catalogue_flags():
    def by_flag(flag: str) -> set[str]:
        return {short_name(k) for k, v in CATALOGUE.items() if getattr(v, flag)}

    assert by_flag("team_leader_authorisation") == {"CHANGE_PERSONAL_DETAILS"}
    assert by_flag("closes_case") == {"PWC_AND_NRP_RECONCILED", "DEATH_OF_CLIENT"}
    assert by_flag("effective_date_required") == {
        "PWC_AND_NRP_RECONCILED",
        "QC_NOT_IN_FULL_TIME_EDUCATION",
        "CHILD_TURNS_20",
        "DEATH_OF_QC",
        "DEATH_OF_ROC",
        "DEATH_OF_CLIENT",
        "QC_ROC_ADOPTED",
        "NRP_NOT_PRIMARY_CARER_OF_ROC",
        "PWC_NOT_PRIMARY_CARER_OF_QC",
        "ROC_NOT_IN_FULL_TIME_EDUCATION",
        "CHANGE_BENEFIT_DETAILS",
    }
    not_moving = {
        "CONFIRM_CURRENT_LOCATION",
        "CHANGE_ADDRESS_DETAILS",
        "ACTIVATE_CLIENT_REPRESENTATIVE",
        "DEACTIVATE_CLIENT_REPRESENTATIVE",
        "CHANGE_CONTACT_DETAILS",
        "CHANGE_SECURITY_DETAILS",
        "CHANGE_PERSONAL_DETAILS",
        "CHANGE_CONTACT_PREFERENCES",
        "CHANGE_TO_DEO_EMPLOYMENT_DETAILS",
        "CHANGE_TO_METHOD_OF_PAYMENT_FROM",
        "CHANGE_TO_METHOD_OF_PAYMENT_TO",
        "CHANGE_PAYMENT_FREQUENCY",
    }
    all_names = {short_name(k) for k in CATALOGUE}
    assert by_flag("moves_liability") == all_names - not_moving
    groups = {short_name(k): v.suspicious_group for k, v in CATALOGUE.items() if v.suspicious_group}
    assert groups == {
        "CHANGE_ADDRESS_DETAILS": "ADDRESS",
        "CHANGE_CONTACT_DETAILS": "CONTACT_SECURITY",
        "CHANGE_SECURITY_DETAILS": "CONTACT_SECURITY",
    }


def test_service_request_classification():
    for kind in CATALOGUE.values():
        assert kind.process == (
            "Perform Calculation" if kind.moves_liability else "Maintain Client Details"
        )
        assert kind.area == "Case Maintenance"
    assert len({kind.sub_area for kind in CATALOGUE.values()}) == len(CATALOGUE)
    assert (
        kind_of(t("CHANGE_ADDRESS_DETAILS")).process,
        kind_of(t("CHANGE_ADDRESS_DETAILS")).sub_area,
    ) == ("Maintain Client Details", "Change Address Details")
    assert kind_of(t("NRP_NOT_THE_PARENT")).sub_area == "Alleged NRP Not The Parent"
    assert kind_of(t("QC_NOT_IN_FULL_TIME_EDUCATION")).sub_area == "QC Not In Full Time Education"
    assert (kind_of(t("CHANGE_INCOME")).process, kind_of(t("CHANGE_INCOME")).sub_area) == (
        "Perform Calculation",
        "Change Income",
    )


def test_parameters_defaults_and_frozen():
    assert ChangeParameters() == DEFAULTS
    assert DEFAULTS.income_tolerance_basis_points == 2500
    assert DEFAULTS.suspicious_activity_window_days == 7
    assert DEFAULTS.client_call_window_days == 3
    with pytest.raises(AttributeError):
        DEFAULTS.client_call_window_days = 4  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------------------------------
# Subject and missing information


def test_subject_client():
    assert subject_client(address(RP)) == RP
    assert (
        subject_client(change("DEATH_OF_CLIENT", death_of_client=pb.DeathOfClient(client=PP))) == PP
    )
    assert subject_client(child("DEATH_OF_QC", "q1")) == ""
    assert subject_client(change("PWC_AND_NRP_RECONCILED")) == ""


def test_complete_address_change_needs_nothing():
    assert missing_information(address(PP), make_case()) == []
    assert missing_information(address(RP), make_case()) == []


def test_address_change_missing_paths():
    case = make_case()
    assert missing_information(address(STRANGER), case) == ["address_change.client"]
    empty = change("CHANGE_ADDRESS_DETAILS")
    assert missing_information(empty, case) == ["address_change"]
    empty.address_change.SetInParent()
    assert missing_information(empty, case) == [
        "address_change.client",
        "address_change.new_address.lines",
        "address_change.new_address.postcode",
    ]
    blank_line = address(PP)
    blank_line.address_change.new_address.lines[0] = "  "
    assert missing_information(blank_line, case) == ["address_change.new_address.lines"]


def test_wrong_details_member_names_the_one_needed():
    shared_care = pb.SharedCareChange(child_id="q1", paying_parent_nights_per_year=10)
    wrong = change("CHANGE_ADDRESS_DETAILS", shared_care_change=shared_care)
    assert missing_information(wrong, make_case()) == ["address_change"]


def test_shared_care_nights_and_child():
    case = make_case()

    def shared(child_id="q1", nights=None):
        details = pb.SharedCareChange(child_id=child_id)
        if nights is not None:
            details.paying_parent_nights_per_year = nights
        return change("SHARED_CARE", shared_care_change=details)

    assert missing_information(shared(nights=0), case) == []
    assert missing_information(shared(nights=366), case) == []
    assert missing_information(shared(), case) == [
        "shared_care_change.paying_parent_nights_per_year"
    ]
    assert missing_information(shared(nights=367), case) == [
        "shared_care_change.paying_parent_nights_per_year"
    ]
    assert missing_information(shared(nights=-1), case) == [
        "shared_care_change.paying_parent_nights_per_year"
    ]
    assert missing_information(shared("r1", 100), case) == [
        "shared_care_change.child_id"
    ]  # a ROC, not a QC
    assert missing_information(shared("q9", 100), case) == ["shared_care_change.child_id"]  # ended


def test_child_changes_name_a_child_of_the_right_kind_still_on_the_case():
    case = make_case()
    may = date(2025, 5, 1)
    assert (
        missing_information(child("QC_NOT_IN_FULL_TIME_EDUCATION", "q1", effective=may), case) == []
    )
    assert missing_information(child("QC_NOT_IN_FULL_TIME_EDUCATION", "q1"), case) == [
        "effective_date"
    ]
    assert missing_information(
        child("QC_NOT_IN_FULL_TIME_EDUCATION", "r1", effective=may), case
    ) == ["child_change.child_id"]
    assert missing_information(
        child("QC_NOT_IN_FULL_TIME_EDUCATION", "q9", effective=may), case
    ) == ["child_change.child_id"]
    assert (
        missing_information(child("ROC_NOT_IN_FULL_TIME_EDUCATION", "r1", effective=may), case)
        == []
    )
    assert missing_information(
        child("ROC_NOT_IN_FULL_TIME_EDUCATION", "q1", effective=may), case
    ) == ["child_change.child_id"]
    assert missing_information(
        child("ROC_NOT_IN_FULL_TIME_EDUCATION", "r9", effective=may), case
    ) == ["child_change.child_id"]
    assert missing_information(child("QC_ROC_ADOPTED", "q1", effective=may), case) == []
    assert missing_information(child("QC_ROC_ADOPTED", "r1", effective=may), case) == []
    assert missing_information(child("DEATH_OF_ROC", "f1", effective=may), case) == []
    assert missing_information(child("DEATH_OF_QC", "f1", effective=may), case) == [
        "child_change.child_id"
    ]
    assert missing_information(child("NRP_NOT_THE_PARENT", "nobody"), case) == [
        "child_change.child_id"
    ]
    assert missing_information(change("DEATH_OF_QC"), case) == ["child_change", "effective_date"]


def test_income_change_needs_a_non_negative_income_and_a_source():
    case = make_case()
    ok = change(
        "CHANGE_INCOME",
        income_change=pb.IncomeChange(
            current_gross_weekly_income_pence=0, source=pb.INCOME_SOURCE_RTI
        ),
    )
    assert missing_information(ok, case) == []
    absent = change(
        "CHANGE_INCOME", income_change=pb.IncomeChange(source=pb.INCOME_SOURCE_PAYSLIPS)
    )
    assert missing_information(absent, case) == ["income_change.current_gross_weekly_income_pence"]
    negative = change(
        "CHANGE_INCOME", income_change=pb.IncomeChange(current_gross_weekly_income_pence=-1)
    )
    assert missing_information(negative, case) == [
        "income_change.current_gross_weekly_income_pence",
        "income_change.source",
    ]


def test_personal_details_change():
    case = make_case()
    nothing = change(
        "CHANGE_PERSONAL_DETAILS", personal_details_change=pb.PersonalDetailsChange(client=PP)
    )
    assert missing_information(nothing, case) == ["personal_details_change"]
    name_without_reason = change(
        "CHANGE_PERSONAL_DETAILS",
        personal_details_change=pb.PersonalDetailsChange(
            client=PP, new_name=common.PersonName(forenames="Ann", surname="Jones")
        ),
    )
    assert missing_information(name_without_reason, case) == [
        "personal_details_change.name_change_reason"
    ]
    gender_only = change(
        "CHANGE_PERSONAL_DETAILS",
        personal_details_change=pb.PersonalDetailsChange(client=RP, new_gender=pb.GENDER_FEMALE),
    )
    assert missing_information(gender_only, case) == []
    dob_only = change(
        "CHANGE_PERSONAL_DETAILS",
        personal_details_change=pb.PersonalDetailsChange(
            client=RP, new_date_of_birth=date(1990, 2, 3)
        ),
    )
    assert missing_information(dob_only, case) == []


def test_representatives_payment_arrangements_benefits_new_children_and_others():
    case = make_case()
    rep = pb.ClientRepresentative(kind=pb.REPRESENTATIVE_KIND_SOLICITOR)

    def representative(type_name: str, **fields) -> pb.ChangeOfCircumstances:
        return change(
            type_name,
            client_representative_change=pb.ClientRepresentativeChange(client=PP, **fields),
        )

    assert (
        missing_information(
            representative("ACTIVATE_CLIENT_REPRESENTATIVE", representative=rep), case
        )
        == []
    )
    assert missing_information(representative("ACTIVATE_CLIENT_REPRESENTATIVE"), case) == [
        "client_representative_change.representative"
    ]
    assert missing_information(
        representative("DEACTIVATE_CLIENT_REPRESENTATIVE", representative=rep), case
    ) == ["client_representative_change.representative_name"]
    assert (
        missing_information(
            representative(
                "DEACTIVATE_CLIENT_REPRESENTATIVE", representative_name=PP + "/representatives/1"
            ),
            case,
        )
        == []
    )

    wrong_field = change(
        "CHANGE_TO_METHOD_OF_PAYMENT_FROM",
        payment_arrangement_change=pb.PaymentArrangementChange(
            service_type=pb.SERVICE_TYPE_DIRECT_PAY
        ),
    )
    assert missing_information(wrong_field, case) == [
        "payment_arrangement_change.method_of_payment_from"
    ]
    assert (
        missing_information(
            change(
                "CHANGE_TO_SERVICE_TYPE",
                payment_arrangement_change=pb.PaymentArrangementChange(
                    service_type=pb.SERVICE_TYPE_DIRECT_PAY
                ),
            ),
            case,
        )
        == []
    )

    benefit = change("CHANGE_BENEFIT_DETAILS", benefit_details_change=pb.BenefitDetailsChange())
    assert missing_information(benefit, case) == [
        "benefit_details_change.benefit",
        "benefit_details_change.change",
        "effective_date",
    ]

    new_child = change("NEW_QC_IN_PWC_HOUSEHOLD", new_child=pb.NewChild())
    assert missing_information(new_child, case) == ["new_child.name", "new_child.date_of_birth"]
    new_child.new_child.name.forenames = "Sam"
    new_child.new_child.date_of_birth.CopyFrom(date(2020, 1, 1))
    assert missing_information(new_child, case) == []

    assert missing_information(change("PWC_AND_NRP_RECONCILED"), case) == ["effective_date"]
    assert (
        missing_information(change("PWC_AND_NRP_RECONCILED", effective=date(2025, 5, 1)), case)
        == []
    )
    assert missing_information(
        change(
            "DEATH_OF_CLIENT",
            effective=date(2025, 5, 1),
            death_of_client=pb.DeathOfClient(client=STRANGER),
        ),
        case,
    ) == ["death_of_client.client"]
    employment = change(
        "CHANGE_EMPLOYMENT_STATUS", employment_status_change=pb.EmploymentStatusChange()
    )
    assert missing_information(employment, case) == ["employment_status_change.new_status"]
    assert missing_information(
        change("CORRECTION_REVISION", correction_revision=pb.CorrectionRevision()), case
    ) == ["correction_revision.calculation", "correction_revision.reason"]


# ---------------------------------------------------------------------------------------------------------------------
# Sequencing and closure


@pytest.mark.parametrize("type_name", ["NRP_NOT_THE_PARENT", "PARENTAGE_DISPUTE"])
def test_parentage_is_step_4_only_on_the_last_or_only_qc(type_name):
    two_qcs = make_case(open_qcs=("q1", "q2"))
    assert sequence_step(child(type_name, "q1"), two_qcs) == 8
    assert not closes_case_now(child(type_name, "q1"), two_qcs)
    last = make_case(open_qcs=("q1",), ended_qcs=("q2", "q9"))
    assert sequence_step(child(type_name, "q1"), last) == 4
    assert closes_case_now(child(type_name, "q1"), last)
    only = make_case(open_qcs=("q1",), ended_qcs=())
    assert sequence_step(child(type_name, "q1"), only) == 4
    # A child who is not an open QC cannot be the last one.
    assert sequence_step(child(type_name, "q9"), last) == 8
    assert sequence_step(child(type_name, "r1"), last) == 8


def test_other_types_use_the_catalogue_step():
    case = make_case()
    assert sequence_step(address(), case) == 3
    assert sequence_step(child("DEATH_OF_QC", "q1"), case) == 5
    assert sequence_step(change("CHANGE_INCOME"), case) == 8


def test_closes_case_now():
    case = make_case()
    last = make_case(open_qcs=("q1",))
    assert closes_case_now(change("PWC_AND_NRP_RECONCILED"), case)
    assert closes_case_now(
        change("DEATH_OF_CLIENT", death_of_client=pb.DeathOfClient(client=PP)), case
    )
    assert closes_case_now(
        change("DEATH_OF_CLIENT", death_of_client=pb.DeathOfClient(client=RP)), case
    )
    assert not closes_case_now(
        change("DEATH_OF_CLIENT", death_of_client=pb.DeathOfClient(client=STRANGER)), case
    )
    qc_ending = (
        "QC_NOT_IN_FULL_TIME_EDUCATION",
        "CHILD_TURNS_20",
        "DEATH_OF_QC",
        "QC_ROC_ADOPTED",
        "PWC_NOT_PRIMARY_CARER_OF_QC",
    )
    for type_name in qc_ending:
        assert closes_case_now(child(type_name, "q1"), last), type_name
        assert not closes_case_now(child(type_name, "q1"), case), type_name
    assert not closes_case_now(child("CHILD_TURNS_20", "r1"), last)
    assert not closes_case_now(child("DEATH_OF_ROC", "r1"), last)
    assert not closes_case_now(address(), last)


def _names(changes):
    return [c.name.rsplit("/", 1)[1] for c in changes]


def test_order_across_steps_with_simultaneous_changes():
    case = make_case()
    same_time = NOON
    pending = [
        change("CHANGE_INCOME", "income", reported=same_time),
        change(
            "CHANGE_TO_METHOD_OF_PAYMENT_FROM",
            "mopf",
            effective=date(2025, 6, 10),
            reported=same_time,
        ),
        change("CHANGE_TO_SERVICE_TYPE", "service", effective=date(2025, 6, 1), reported=same_time),
        address(name="addr", reported=same_time),
        child("DEATH_OF_QC", "q2", "death", effective=date(2025, 5, 20), reported=same_time),
        child(
            "QC_NOT_IN_FULL_TIME_EDUCATION",
            "q1",
            "fte",
            effective=date(2025, 5, 1),
            reported=same_time,
        ),
        child("NRP_NOT_THE_PARENT", "q1", "parent", reported=same_time),
        change("CORRECTION_REVISION", "corr", reported=same_time),
    ]
    ordered = order_for_application(pending, case)
    # Step 1, 3, 5 (by effective date), 7 (by effective date), 8 (same report time: by name).
    assert _names(ordered) == [
        "corr",
        "addr",
        "fte",
        "death",
        "service",
        "mopf",
        "income",
        "parent",
    ]


def test_effective_date_order_within_steps_5_and_7_and_report_order_elsewhere():
    case = make_case()
    early, late = NOON - dt.timedelta(days=3), NOON
    pending = [
        # Step 5: the earlier effective date goes first although reported later.
        child("DEATH_OF_QC", "q1", "b5", effective=date(2025, 4, 1), reported=late),
        child("CHILD_TURNS_20", "q2", "a5", effective=date(2025, 5, 1), reported=early),
        # Unset effective date = the report date (2025-05-30): after 2025-05-01, before 2025-06-01.
        change("PWC_AND_NRP_RECONCILED", "c5", reported=early),
        child("DEATH_OF_ROC", "r1", "d5", effective=date(2025, 6, 1), reported=early),
        # Step 7.
        change("CHANGE_TO_METHOD_OF_PAYMENT_TO", "b7", effective=date(2025, 3, 1), reported=late),
        change("CHANGE_TO_SERVICE_TYPE", "a7", effective=date(2025, 3, 2), reported=early),
        # Step 8: report time first, effective date ignored.
        change("CHANGE_INCOME", "a8", effective=date(2025, 1, 1), reported=late),
        change("SHARED_CARE", "b8", effective=date(2025, 6, 1), reported=early),
        # Step 3.
        address(name="b3", reported=late),
        address(name="a3", reported=early),
    ]
    ordered = order_for_application(pending, case)
    assert _names(ordered) == ["a3", "b3", "b5", "a5", "c5", "d5", "b7", "a7", "b8", "a8"]


def test_parentage_on_the_last_qc_goes_before_step_5():
    case = make_case(open_qcs=("q1",))
    pending = [
        change("PWC_AND_NRP_RECONCILED", "rec", effective=date(2020, 1, 1)),
        child("PARENTAGE_DISPUTE", "q1", "dispute"),
        address(name="addr"),
    ]
    assert _names(order_for_application(pending, case)) == ["addr", "dispute", "rec"]


def test_same_step_same_time_orders_by_name_and_ties_keep_input_order():
    case = make_case()
    b, a = address(name="b"), address(name="a")
    assert _names(order_for_application([b, a], case)) == ["a", "b"]
    first, second = address(RP, name="same"), address(PP, name="same")
    assert [c.address_change.client for c in order_for_application([first, second], case)] == [
        RP,
        PP,
    ]
    assert [c.address_change.client for c in order_for_application([second, first], case)] == [
        PP,
        RP,
    ]


# ---------------------------------------------------------------------------------------------------------------------
# Suspicious activity


def test_suspicious_within_the_window_inclusive_and_not_outside():
    this = address(PP, name="this", effective=date(2025, 6, 10))
    seven_before = address(PP, name="seven", effective=date(2025, 6, 3))
    seven_after = address(PP, name="after", effective=date(2025, 6, 17))
    eight_before = address(PP, name="eight", effective=date(2025, 6, 2))
    assert suspicious_related(this, [this, eight_before, seven_before, seven_after]) == [
        N + "after",
        N + "seven",
    ]
    assert suspicious_related(this, [eight_before]) == []
    assert suspicious_related(
        this, [eight_before], params=ChangeParameters(suspicious_activity_window_days=8)
    ) == [N + "eight"]


def test_suspicious_needs_the_same_client_and_group():
    this = address(PP, name="this", effective=date(2025, 6, 10))
    other_client = address(RP, name="rp", effective=date(2025, 6, 10))
    new_contact_details = pb.ContactDetails(email="a@example.org")
    contact = change(
        "CHANGE_CONTACT_DETAILS",
        "contact",
        effective=date(2025, 6, 10),
        contact_details_change=pb.ContactDetailsChange(
            client=PP, new_contact_details=new_contact_details
        ),
    )
    security = change(
        "CHANGE_SECURITY_DETAILS",
        "security",
        effective=date(2025, 6, 11),
        security_details_change=pb.SecurityDetailsChange(client=PP),
    )
    security_rp = change(
        "CHANGE_SECURITY_DETAILS",
        "security-rp",
        effective=date(2025, 6, 11),
        security_details_change=pb.SecurityDetailsChange(client=RP),
    )
    assert suspicious_related(this, [other_client, contact, security]) == []
    assert suspicious_related(contact, [this, security, security_rp]) == [N + "security"]
    # A type without a group is never suspicious, whatever else is pending.
    prefs = change(
        "CHANGE_CONTACT_PREFERENCES",
        "prefs",
        contact_preferences_change=pb.ContactPreferencesChange(client=PP),
    )
    prefs2 = change(
        "CHANGE_CONTACT_PREFERENCES",
        "prefs2",
        contact_preferences_change=pb.ContactPreferencesChange(client=PP),
    )
    assert suspicious_related(prefs, [prefs2, contact]) == []


def test_suspicious_ignores_dead_changes_and_itself_and_uses_report_date_when_unset():
    this = address(PP, name="this", effective=date(2025, 6, 10))
    states = {
        "withdrawn": pb.CHANGE_OF_CIRCUMSTANCES_STATE_WITHDRAWN,
        "declined": pb.CHANGE_OF_CIRCUMSTANCES_STATE_DECLINED,
        "superseded": pb.CHANGE_OF_CIRCUMSTANCES_STATE_SUPERSEDED,
        "applied": pb.CHANGE_OF_CIRCUMSTANCES_STATE_APPLIED,
        "verified": pb.CHANGE_OF_CIRCUMSTANCES_STATE_VERIFIED,
    }
    others = [
        address(PP, name=f"{k}", effective=date(2025, 6, 9), state=v) for k, v in states.items()
    ]
    copy_of_this = address(PP, name="this", effective=date(2025, 6, 9))
    assert suspicious_related(this, [*others, copy_of_this]) == [N + "applied", N + "verified"]
    reported_close = address(PP, name="near", reported=dt.datetime(2025, 6, 16, 9, tzinfo=dt.UTC))
    reported_far = address(PP, name="far", reported=dt.datetime(2025, 6, 18, 9, tzinfo=dt.UTC))
    assert suspicious_related(this, [reported_close, reported_far]) == [N + "near"]


# ---------------------------------------------------------------------------------------------------------------------
# Income tolerance


@pytest.mark.parametrize(
    ("current", "new", "expected"),
    [
        (10000, 12500, (2500, True)),  # exactly 25% up
        (10000, 7500, (-2500, True)),  # exactly 25% down
        (10000, 12499, (2499, False)),  # 24.99% up
        (10000, 7501, (-2499, False)),  # 24.99% down
        (1000000, 1249999, (2499, False)),  # 24.99999%: floored, not breached
        (3, 2, (-3333, True)),  # -33.33..%: toward zero, not -3334
        (10000, 10000, (0, False)),
        (0, 0, (0, False)),
        (0, 1, (10000, True)),
        (0, 500000, (10000, True)),
        (10000, 0, (-10000, True)),
    ],
)
def test_income_tolerance(current, new, expected):
    assert income_tolerance(current, new) == expected


def test_income_tolerance_threshold_is_a_parameter_and_negative_incomes_are_refused():
    assert income_tolerance(
        10000, 12000, params=ChangeParameters(income_tolerance_basis_points=2000)
    ) == (2000, True)
    assert income_tolerance(
        10000, 12500, params=ChangeParameters(income_tolerance_basis_points=2501)
    ) == (2500, False)
    with pytest.raises(ValueError):
        income_tolerance(-1, 100)
    with pytest.raises(ValueError):
        income_tolerance(100, -1)


incomes = st.integers(min_value=1, max_value=10**9)


@PROPERTY
@given(current=incomes, fraction=st.fractions(min_value=0, max_value=1))
def test_tolerance_is_symmetric_up_and_down(current, fraction):
    delta = int(current * fraction)
    up, up_breached = income_tolerance(current, current + delta)
    down, down_breached = income_tolerance(current, current - delta)
    assert up == -down
    assert up_breached == down_breached


@PROPERTY
@given(
    current=incomes,
    a=st.integers(min_value=0, max_value=2 * 10**9),
    b=st.integers(min_value=0, max_value=2 * 10**9),
)
def test_tolerance_is_monotonic_and_exact(current, a, b):
    low, high = sorted((a, b))
    assert income_tolerance(current, low)[0] <= income_tolerance(current, high)[0]
    for new in (a, b):
        basis_points, breached = income_tolerance(current, new)
        assert breached == (abs(new - current) * 10000 >= 2500 * current)
        assert (basis_points > 0) - (basis_points < 0) in (0, (new > current) - (new < current))
        assert (
            abs(basis_points) * current
            <= abs(new - current) * 10000
            < (abs(basis_points) + 1) * current
        )
    # The further from the current income, the more breached.
    near, far = sorted((a, b), key=lambda new: abs(new - current))
    assert not income_tolerance(current, near)[1] or income_tolerance(current, far)[1]


# ---------------------------------------------------------------------------------------------------------------------
# Verification


def personal(
    reason=pb.NAME_CHANGE_REASON_MARRIAGE_OR_CIVIL_PARTNERSHIP,
    *,
    gender=pb.GENDER_UNSPECIFIED,
    dob=None,
    name=True,
    evidence=(),
):
    details = pb.PersonalDetailsChange(client=RP, name_change_reason=reason, new_gender=gender)
    if name:
        details.new_name.CopyFrom(common.PersonName(forenames="Ann", surname="Smith"))
    if dob is not None:
        details.new_date_of_birth.CopyFrom(dob)
    return change(
        "CHANGE_PERSONAL_DETAILS", personal_details_change=details, evidence=list(evidence)
    )


VERBAL = pb.Evidence(kind=pb.EVIDENCE_KIND_VERBAL, description="Said on the phone")
DOCUMENT = pb.Evidence(kind=pb.EVIDENCE_KIND_DOCUMENT, description="Deed poll seen")
INTERFACE = pb.Evidence(kind=pb.EVIDENCE_KIND_INTERFACE)
THIRD_PARTY = pb.Evidence(kind=pb.EVIDENCE_KIND_THIRD_PARTY_CONFIRMATION)


def test_verification_needs_some_evidence():
    assert verification_problems(address(), []) != []
    assert (
        verification_problems(address(), [pb.Evidence()]) != []
    )  # kind unspecified is no evidence
    assert verification_problems(address(), [VERBAL]) == []
    with_own = address()
    with_own.evidence.append(DOCUMENT)
    assert verification_problems(with_own, []) == []


def test_married_name_accepts_verbal_evidence_but_deed_poll_does_not():
    assert verification_problems(personal(), [VERBAL]) == []
    assert verification_problems(personal(evidence=[VERBAL]), []) == []
    deed_poll = personal(pb.NAME_CHANGE_REASON_DEED_POLL)
    problems = verification_problems(deed_poll, [VERBAL])
    assert len(problems) == 1 and "verbal" in problems[0]
    for item in (DOCUMENT, INTERFACE, THIRD_PARTY):
        assert verification_problems(deed_poll, [VERBAL, item]) == []


def test_married_name_with_gender_or_birth_date_change_needs_documents():
    assert verification_problems(personal(gender=pb.GENDER_MALE), [VERBAL]) != []
    assert verification_problems(personal(dob=date(1990, 1, 1)), [VERBAL]) != []
    assert (
        verification_problems(personal(name=False, gender=pb.GENDER_MALE, reason=0), [VERBAL]) != []
    )
    assert (
        verification_problems(personal(name=False, dob=date(1990, 1, 1), reason=0), [INTERFACE])
        == []
    )


# ---------------------------------------------------------------------------------------------------------------------
# Client call after changes complete


def day(n: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2025, 6, n, hour, tzinfo=dt.UTC)


def test_one_call_after_the_last_of_changes_completed_within_three_days():
    assert client_call_due([]) is None
    assert client_call_due([day(1)]) == day(1)
    assert client_call_due([day(3), day(1), day(2)]) == day(3)
    assert completion_runs([day(3), day(1), day(2)]) == [[day(1), day(2), day(3)]]


def test_completions_more_than_three_days_apart_get_their_own_call():
    assert completion_runs([day(1), day(4)]) == [[day(1), day(4)]]  # exactly 3 days: same run
    assert completion_runs([day(1), day(4, 11)]) == [[day(1)], [day(4, 11)]]
    assert completion_runs([day(10), day(1), day(2), day(3), day(12)]) == [
        [day(1), day(2), day(3)],
        [day(10), day(12)],
    ]
    assert client_call_due([day(10), day(1), day(2), day(3), day(12)]) == day(12)
    assert completion_runs(
        [day(1), day(3)], params=ChangeParameters(client_call_window_days=1)
    ) == [[day(1)], [day(3)]]


# ---------------------------------------------------------------------------------------------------------------------
# Ordering properties

ORDER_CASE = make_case(open_qcs=("q1", "q2"))
LAST_QC_CASE = make_case(open_qcs=("q1",))
_TYPES = sorted(CATALOGUE)


@st.composite
def pending_changes(draw):
    count = draw(st.integers(min_value=0, max_value=12))
    out = []
    for i in range(count):
        change_type = draw(st.sampled_from(_TYPES))
        item = pb.ChangeOfCircumstances(name=f"{N}{i:02d}", type=change_type)
        item.report_time.CopyFrom(
            ts(NOON + dt.timedelta(hours=draw(st.integers(min_value=0, max_value=4)) * 12))
        )
        if draw(st.booleans()):
            item.effective_date.CopyFrom(date(2025, 6, draw(st.integers(min_value=1, max_value=4))))
        if kind_of(change_type).details == "child_change":
            item.child_change.child_id = draw(st.sampled_from(["q1", "q2", "r1"]))
        out.append(item)
    return out


def effective_or_reported(item: pb.ChangeOfCircumstances) -> dt.date:
    if item.effective_date.year:
        return dt.date(item.effective_date.year, item.effective_date.month, item.effective_date.day)
    return item.report_time.ToDatetime(tzinfo=dt.UTC).date()


@PROPERTY
@given(changes=pending_changes(), seed=st.randoms(use_true_random=False), last_qc=st.booleans())
def test_order_is_deterministic_and_sorted_by_step(changes, seed, last_qc):
    case = LAST_QC_CASE if last_qc else ORDER_CASE
    ordered = order_for_application(changes, case)
    shuffled = list(changes)
    seed.shuffle(shuffled)
    assert [c.name for c in order_for_application(shuffled, case)] == [c.name for c in ordered]
    assert sorted(c.name for c in ordered) == sorted(c.name for c in changes)
    assert order_for_application(ordered, case) == ordered
    steps = [sequence_step(c, case) for c in ordered]
    assert steps == sorted(steps)
    for step in (5, 7):
        dates = [effective_or_reported(c) for c in ordered if sequence_step(c, case) == step]
        assert dates == sorted(dates)
    for step in (1, 2, 3, 4, 6, 8):
        times = [c.report_time.ToDatetime() for c in ordered if sequence_step(c, case) == step]
        assert times == sorted(times)


def _benefit_change(code: str) -> pb.ChangeOfCircumstances:
    return pb.ChangeOfCircumstances(
        type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_BENEFIT_DETAILS,
        benefit_details_change=pb.BenefitDetailsChange(
            benefit=code, change=pb.BENEFIT_CHANGE_STARTED
        ),
    )


def test_every_benefit_cis_reports_is_a_known_code_and_nothing_else_is():
    from cms.dwp.v1 import resources_pb2 as dwp_pb

    for name in dwp_pb.BenefitType.DESCRIPTOR.values_by_name:
        code = name.removeprefix("BENEFIT_TYPE_")
        expected = [] if code != "UNSPECIFIED" else ["benefit_details_change.benefit"]
        assert unknown_codes(_benefit_change(code)) == expected
    for code in ("JSA_INCOME_BASED", "ESA_CONTRIBUTORY", "UNIVERSAL_CREDIT_NO_EARNINGS"):
        assert unknown_codes(_benefit_change(code)) == ["benefit_details_change.benefit"]
    assert unknown_codes(_benefit_change("")) == []  # missing, not unknown: reported as needed
