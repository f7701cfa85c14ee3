"""The domain rules for changes of circumstances (CofC): pure functions over the contract's messages.

No gRPC, no SQL, no clock: dates and times are passed in. Sources: the CMS procedure "Maintain Client Details
Overview" (sequencing table, suspicious activity, verification and team-leader authorisation, 25% tolerance,
one call after several changes completed within 3 days), docs/domain/changes-of-circumstances.md §11.2 (effective dates) and the comments of
ChangeOfCircumstancesType / ChangeOfCircumstances in protos/cms/casework/v1/resources.proto.

- Every type has a ChangeKind in CATALOGUE: its sequencing step, the `details` member it needs, whether a team leader
  must authorise it, whether it can move the liability or closes the case, its suspicious-activity group, whether it
  needs an effective date (the date it happened) and the process/area/sub-area of its service request.
- Pending changes are applied by step (1..8); steps 5 and 7 in effective-date order. NRP not the parent and
  parentage dispute sit at step 4 when the child is the only or last qualifying child (they close the case and
  supersede the rest), else at step 8.
- An address, contact or security change for a client whose effective date is close to another one of the same group
  for the same client is suspicious activity.
- An income change is applied only when it moves the current income by 25% or more.
- A change of name, gender or date of birth needs documentary, interface or third-party evidence, except a change to a
  married name, for which verbal evidence is enough.
- Several changes for one client completed within 3 days of each other get one call, after the last.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms.dwp.v1 import resources_pb2 as dwp_pb
from cms_platform.convert import day_of


@dataclass(frozen=True)
class ChangeParameters:
    # 25% (docs/domain/changes-of-circumstances.md §11.12: "income change ≥25%"; the procedure: "must change by ... 25%").
    income_tolerance_basis_points: int = 2500
    # [D] "very close effective dates" (procedure, suspicious activity): not fixed by any source.
    suspicious_activity_window_days: int = 7
    # Procedure: where several CofCs are completed within a 3 day period, one call after the last.
    client_call_window_days: int = 3


DEFAULTS = ChangeParameters()


@dataclass(frozen=True)
class ChangeKind:
    # A pb.ChangeOfCircumstancesType value.
    type: int
    # The sequencing-table step 1..8. For NRP_NOT_THE_PARENT and PARENTAGE_DISPUTE this is 8, their step when the
    # child is not the last qualifying child; sequence_step() gives 4 when it is.
    step: int
    # The ChangeOfCircumstances `details` oneof member the type needs; None when it needs none.
    details: str | None
    # Name, gender and date of birth: verified, then authorised by a team leader.
    team_leader_authorisation: bool
    # Applying it can change the calculation (or ends the liability by closing the case).
    moves_liability: bool
    # Applying it always closes the case. NRP_NOT_THE_PARENT and PARENTAGE_DISPUTE close it only on the last or only
    # qualifying child, and a child leaving closes it only when no qualifying child remains: see closes_case_now().
    closes_case: bool
    # "ADDRESS" or "CONTACT_SECURITY": changes of one group for one client with close effective dates are suspicious.
    suspicious_group: str | None
    # It takes effect from the date it happened, which must be given, not from the date of notification (reg 18).
    effective_date_required: bool
    # Service request classification.
    process: str
    area: str
    sub_area: str


_T = pb.ChangeOfCircumstancesType
_MAINTAIN = "Maintain Client Details"
_CALCULATE = "Perform Calculation"
_AREA = "Case Maintenance"

# Children a child_change / shared_care_change may name, by type: the case collections they must be found in.
_QC, _ROC, _CIFBA = (
    "qualifying_children",
    "relevant_other_children",
    "children_in_family_based_arrangements",
)
_CHILDREN_OF: dict[int, tuple[str, ...]] = {
    _T.CHANGE_OF_CIRCUMSTANCES_TYPE_NRP_NOT_THE_PARENT: (_QC,),
    _T.CHANGE_OF_CIRCUMSTANCES_TYPE_PARENTAGE_DISPUTE: (_QC,),
    _T.CHANGE_OF_CIRCUMSTANCES_TYPE_QC_NOT_IN_FULL_TIME_EDUCATION: (_QC,),
    # The procedures have "Child Turns 20 - QC" and "- ROC"; a supported child (CIFBA) stops counting at 20 too.
    _T.CHANGE_OF_CIRCUMSTANCES_TYPE_CHILD_TURNS_20: (_QC, _ROC, _CIFBA),
    _T.CHANGE_OF_CIRCUMSTANCES_TYPE_DEATH_OF_QC: (_QC,),
    _T.CHANGE_OF_CIRCUMSTANCES_TYPE_DEATH_OF_ROC: (_ROC, _CIFBA),
    _T.CHANGE_OF_CIRCUMSTANCES_TYPE_QC_ROC_ADOPTED: (_QC, _ROC),
    _T.CHANGE_OF_CIRCUMSTANCES_TYPE_NRP_NOT_PRIMARY_CARER_OF_ROC: (_ROC,),
    _T.CHANGE_OF_CIRCUMSTANCES_TYPE_PWC_NOT_PRIMARY_CARER_OF_QC: (_QC,),
    _T.CHANGE_OF_CIRCUMSTANCES_TYPE_SHARED_CARE: (_QC,),
    _T.CHANGE_OF_CIRCUMSTANCES_TYPE_ROC_NOT_IN_FULL_TIME_EDUCATION: (_ROC,),
    _T.CHANGE_OF_CIRCUMSTANCES_TYPE_EQUAL_DAY_TO_DAY_CARE: (_QC,),
}

# Types by which a qualifying child leaves the case (closing it when no qualifying child remains).
_QC_ENDING = frozenset(
    {
        _T.CHANGE_OF_CIRCUMSTANCES_TYPE_QC_NOT_IN_FULL_TIME_EDUCATION,
        _T.CHANGE_OF_CIRCUMSTANCES_TYPE_CHILD_TURNS_20,
        _T.CHANGE_OF_CIRCUMSTANCES_TYPE_DEATH_OF_QC,
        _T.CHANGE_OF_CIRCUMSTANCES_TYPE_QC_ROC_ADOPTED,
        _T.CHANGE_OF_CIRCUMSTANCES_TYPE_PWC_NOT_PRIMARY_CARER_OF_QC,
    }
)
_PARENTAGE = frozenset(
    {
        _T.CHANGE_OF_CIRCUMSTANCES_TYPE_NRP_NOT_THE_PARENT,
        _T.CHANGE_OF_CIRCUMSTANCES_TYPE_PARENTAGE_DISPUTE,
    }
)
_EFFECTIVE_DATE_ORDER_STEPS = frozenset({5, 7})

# Payment arrangement types: the PaymentArrangementChange field each one sets.
_ARRANGEMENT_FIELD: dict[int, str] = {
    _T.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_TO_METHOD_OF_PAYMENT_FROM: "method_of_payment_from",
    _T.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_TO_METHOD_OF_PAYMENT_TO: "method_of_payment_to",
    _T.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_TO_SERVICE_TYPE: "service_type",
    _T.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_PAYMENT_FREQUENCY: "payment_frequency",
}


def _kind(
    name: str,
    step: int,
    details: str | None,
    sub_area: str,
    *,
    moves: bool = False,
    closes: bool = False,
    tl: bool = False,
    group: str | None = None,
    dated: bool = False,
) -> ChangeKind:
    return ChangeKind(
        type=_T.Value(f"CHANGE_OF_CIRCUMSTANCES_TYPE_{name}"),
        step=step,
        details=details,
        team_leader_authorisation=tl,
        moves_liability=moves or closes,
        closes_case=closes,
        suspicious_group=group,
        effective_date_required=dated,
        process=_CALCULATE if moves or closes else _MAINTAIN,
        area=_AREA,
        sub_area=sub_area,
    )


_KINDS = (
    _kind("CORRECTION_REVISION", 1, "correction_revision", "Correction/Revision", moves=True),
    _kind("CONFIRM_CURRENT_LOCATION", 2, "location_confirmation", "Confirm Current Location"),
    _kind("CHANGE_ADDRESS_DETAILS", 3, "address_change", "Change Address Details", group="ADDRESS"),
    _kind(
        "ACTIVATE_CLIENT_REPRESENTATIVE",
        3,
        "client_representative_change",
        "Activate Client Representative",
    ),
    _kind(
        "DEACTIVATE_CLIENT_REPRESENTATIVE",
        3,
        "client_representative_change",
        "Deactivate Client Representative",
    ),
    _kind(
        "CHANGE_CONTACT_DETAILS",
        3,
        "contact_details_change",
        "Change Contact Details",
        group="CONTACT_SECURITY",
    ),
    _kind(
        "CHANGE_SECURITY_DETAILS",
        3,
        "security_details_change",
        "Change Security Details",
        group="CONTACT_SECURITY",
    ),
    _kind(
        "CHANGE_PERSONAL_DETAILS", 3, "personal_details_change", "Change Personal Details", tl=True
    ),
    _kind(
        "CHANGE_CONTACT_PREFERENCES", 3, "contact_preferences_change", "Change Contact Preferences"
    ),
    _kind("NRP_NOT_THE_PARENT", 8, "child_change", "Alleged NRP Not The Parent", moves=True),
    _kind("PARENTAGE_DISPUTE", 8, "child_change", "Parentage Dispute", moves=True),
    _kind(
        "PWC_AND_NRP_RECONCILED", 5, None, "PWC/PeWC And NRP Reconciled", closes=True, dated=True
    ),
    _kind(
        "QC_NOT_IN_FULL_TIME_EDUCATION",
        5,
        "child_change",
        "QC Not In Full Time Education",
        moves=True,
        dated=True,
    ),
    _kind("CHILD_TURNS_20", 5, "child_change", "Child Turns 20", moves=True, dated=True),
    _kind("DEATH_OF_QC", 5, "child_change", "Death Of QC", moves=True, dated=True),
    _kind("DEATH_OF_ROC", 5, "child_change", "Death Of ROC", moves=True, dated=True),
    _kind("DEATH_OF_CLIENT", 5, "death_of_client", "Death Of Client", closes=True, dated=True),
    _kind("QC_ROC_ADOPTED", 5, "child_change", "QC/ROC Adopted", moves=True, dated=True),
    _kind(
        "CHANGE_TO_DEO_EMPLOYMENT_DETAILS",
        6,
        "deo_employment_details_change",
        "Change To DEO Employment Details",
    ),
    _kind(
        "CHANGE_TO_METHOD_OF_PAYMENT_FROM",
        7,
        "payment_arrangement_change",
        "Change To Method Of Payment From",
    ),
    _kind(
        "CHANGE_TO_METHOD_OF_PAYMENT_TO",
        7,
        "payment_arrangement_change",
        "Change To Method Of Payment To",
    ),
    # Collection fees apply on Collect & Pay only, so the amounts due change.
    _kind(
        "CHANGE_TO_SERVICE_TYPE",
        7,
        "payment_arrangement_change",
        "Change To Service Type",
        moves=True,
    ),
    _kind(
        "CHANGE_PAYMENT_FREQUENCY",
        7,
        "payment_arrangement_change",
        "Change Payment Frequency/Collection Date",
    ),
    _kind(
        "NRP_NOT_PRIMARY_CARER_OF_ROC",
        8,
        "child_change",
        "NRP Not The Primary Carer Of ROC",
        moves=True,
        dated=True,
    ),
    _kind(
        "PWC_NOT_PRIMARY_CARER_OF_QC",
        8,
        "child_change",
        "PWC/PeWC Not Primary Carer Of QC",
        moves=True,
        dated=True,
    ),
    _kind("SHARED_CARE", 8, "shared_care_change", "Shared Care", moves=True),
    _kind(
        "ROC_NOT_IN_FULL_TIME_EDUCATION",
        8,
        "child_change",
        "ROC Not In Full Time Education",
        moves=True,
        dated=True,
    ),
    _kind("NEW_QC_IN_PWC_HOUSEHOLD", 8, "new_child", "New QC In PWC Household", moves=True),
    _kind("NEW_ROC_IN_NRP_HOUSEHOLD", 8, "new_child", "New ROC In NRP Household", moves=True),
    _kind("NEW_CIFBA", 8, "new_child", "New CIFBA", moves=True),
    _kind(
        "CHANGE_BENEFIT_DETAILS",
        8,
        "benefit_details_change",
        "Change Benefit Details",
        moves=True,
        dated=True,
    ),
    _kind("CHANGE_INCOME", 8, "income_change", "Change Income", moves=True),
    _kind(
        "CHANGE_EMPLOYMENT_STATUS",
        8,
        "employment_status_change",
        "Change Employment Status",
        moves=True,
    ),
    # These four take effect from the date of notification unless an (expected) effective date is given: none is
    # among the changes reg 18 of SI 2012/2677 dates from when they occurred (s.17(4) of the 1991 Act).
    # A prisoner, a paying parent under 16 (or under 20 in non-advanced education), ... (reg 45), and its end.
    _kind(
        "NIL_RATE_CATEGORY",
        8,
        "nil_rate_category_change",
        "Nil Rate Category",
        moves=True,
    ),
    # Equal day-to-day care of a qualifying child: no paying parent for that child (reg 50), and its end.
    _kind(
        "EQUAL_DAY_TO_DAY_CARE",
        8,
        "equal_day_to_day_care_change",
        "Equal Day To Day Care",
        moves=True,
    ),
    # The paying parent's partner is also a paying parent: half the flat rate each (Sch 1 para 4(2)), and its end.
    _kind(
        "PARTNER_PAYING_PARENT",
        8,
        "partner_paying_parent_change",
        "Partner Also A Paying Parent",
        moves=True,
    ),
    # Raised by the decision on a variation application (variations.flows), effective from the date the decision
    # gives (the date of the application, or the later date the ground arose).
    _kind("VARIATION_AGREED", 8, "variation_agreed", "Variation Agreed", moves=True),
)
CATALOGUE: dict[int, ChangeKind] = {kind.type: kind for kind in _KINDS}


def kind_of(change_type: int) -> ChangeKind:
    """The catalogue entry of a type; KeyError for UNSPECIFIED or a value this version does not know."""
    return CATALOGUE[change_type]


# ------------------------------------------------------------------------------------------------------------------
# Dates


def _report_datetime(change: pb.ChangeOfCircumstances) -> dt.datetime:
    return change.report_time.ToDatetime(tzinfo=dt.UTC)


def _effective_or_report_date(change: pb.ChangeOfCircumstances) -> dt.date:
    """The effective date; unset means the date of notification (the report time's date, UTC)."""
    return day_of(change.effective_date) or _report_datetime(change).date()


def _report_key(change: pb.ChangeOfCircumstances) -> tuple[int, int]:
    return change.report_time.seconds, change.report_time.nanos


# ------------------------------------------------------------------------------------------------------------------
# What a change is about


def subject_client(change: pb.ChangeOfCircumstances) -> str:
    """The `clients/{id}` the change is about (its details' `client` field), or "" when its details name none."""
    member = change.WhichOneof("details")
    if member is None:
        return ""
    details = getattr(change, member)
    return details.client if "client" in details.DESCRIPTOR.fields_by_name else ""


def _parties(case: pb.Case) -> set[str]:
    return {name for name in (case.paying_parent.name, case.receiving_parent.name) if name}


def _open_children(case: pb.Case, collections: Iterable[str]) -> dict[str, str]:
    """child_id -> collection, for the children in `collections` whose part in the case has not ended."""
    found: dict[str, str] = {}
    for collection in collections:
        for child in getattr(case, collection):
            if child.child_id and not child.end_date.year:
                found.setdefault(child.child_id, collection)
    return found


def _open_qc_ids(case: pb.Case) -> set[str]:
    return set(_open_children(case, (_QC,)))


def _child_id(change: pb.ChangeOfCircumstances) -> str:
    member = change.WhichOneof("details")
    if member in ("child_change", "shared_care_change"):
        return getattr(change, member).child_id
    return ""


def _is_last_qc(child_id: str, case: pb.Case) -> bool:
    """The child is a qualifying child still on the case and no other qualifying child is."""
    return bool(child_id) and _open_qc_ids(case) == {child_id}


# ------------------------------------------------------------------------------------------------------------------
# Completeness


def _has_name(name: common.PersonName) -> bool:
    return bool(name.forenames.strip() or name.surname.strip())


# Benefit codes are dwp-gateway's benefit type names without their prefix (what CIS reports), e.g. INCOME_SUPPORT.
BENEFIT_CODES = frozenset(
    name.removeprefix("BENEFIT_TYPE_")
    for name in dwp_pb.BenefitType.DESCRIPTOR.values_by_name
    if name != "BENEFIT_TYPE_UNSPECIFIED"
)


def unknown_codes(change: pb.ChangeOfCircumstances) -> list[str]:
    """Field paths, relative to the change, of codes that name nothing (a benefit no system has): refused rather
    than accepted with no effect."""
    if change.WhichOneof("details") == "benefit_details_change":
        code = change.benefit_details_change.benefit.strip()
        if code and code not in BENEFIT_CODES:
            return ["benefit_details_change.benefit"]
    return []


def missing_information(change: pb.ChangeOfCircumstances, case: pb.Case) -> list[str]:
    """Field paths, relative to the change, of what its service request still needs to go In Progress; [] = complete.

    The procedure: no SR goes In Progress without all the information it needs.
    """
    kind = kind_of(change.type)
    missing: list[str] = []
    member = change.WhichOneof("details")
    if kind.details is not None and member != kind.details:
        missing.append(kind.details)
    elif kind.details is not None:
        missing.extend(_missing_details(kind, change, case))
    if kind.effective_date_required and day_of(change.effective_date) is None:
        missing.append("effective_date")
    return missing


def _missing_details(
    kind: ChangeKind, change: pb.ChangeOfCircumstances, case: pb.Case
) -> list[str]:
    member = kind.details
    assert member is not None
    details = getattr(change, member)
    missing: list[str] = []

    def need(condition: bool, field: str) -> None:
        if not condition:
            missing.append(f"{member}.{field}")

    if "client" in details.DESCRIPTOR.fields_by_name:
        need(details.client in _parties(case), "client")
    if kind.type in _CHILDREN_OF:
        need(details.child_id in _open_children(case, _CHILDREN_OF[kind.type]), "child_id")

    match member:
        case "correction_revision":
            need(bool(details.calculation), "calculation")
            need(bool(details.reason.strip()), "reason")
        case "address_change":
            need(
                bool(details.new_address.lines) and bool(details.new_address.lines[0].strip()),
                "new_address.lines",
            )
            need(bool(details.new_address.postcode.strip()), "new_address.postcode")
        case "contact_details_change":
            c = details.new_contact_details
            need(
                any(s.strip() for s in (c.home_phone, c.mobile_phone, c.work_phone, c.email)),
                "new_contact_details",
            )
        case "security_details_change":
            s = details.new_security_details
            need(
                bool(s.security_question.strip() or s.security_answer.strip()),
                "new_security_details",
            )
        case "contact_preferences_change":
            need(details.HasField("new_contact_preferences"), "new_contact_preferences")
        case "personal_details_change":
            has_name = details.HasField("new_name") and _has_name(details.new_name)
            has_dob = (
                details.HasField("new_date_of_birth")
                and day_of(details.new_date_of_birth) is not None
            )
            if not (has_name or has_dob or details.new_gender != pb.GENDER_UNSPECIFIED):
                # Nothing to change: the change itself is missing. (An unreal date of birth counts as none.)
                missing.append(member)
            if has_name:
                need(
                    details.name_change_reason != pb.NAME_CHANGE_REASON_UNSPECIFIED,
                    "name_change_reason",
                )
        case "client_representative_change":
            if kind.type == _T.CHANGE_OF_CIRCUMSTANCES_TYPE_ACTIVATE_CLIENT_REPRESENTATIVE:
                need(details.HasField("representative"), "representative")
            else:
                need(bool(details.representative_name), "representative_name")
        case "payment_arrangement_change":
            field = _ARRANGEMENT_FIELD[kind.type]
            need(getattr(details, field) != 0, field)
        case "shared_care_change":
            need(
                details.HasField("paying_parent_nights_per_year")
                and 0 <= details.paying_parent_nights_per_year <= 366,
                "paying_parent_nights_per_year",
            )
        case "new_child":
            need(details.HasField("name") and _has_name(details.name), "name")
            need(day_of(details.date_of_birth) is not None, "date_of_birth")
            need(0 <= details.paying_parent_nights_per_year <= 366, "paying_parent_nights_per_year")
        case "benefit_details_change":
            need(bool(details.benefit.strip()), "benefit")
            need(details.change != pb.BENEFIT_CHANGE_UNSPECIFIED, "change")
        case "income_change":
            need(
                details.HasField("current_gross_weekly_income_pence")
                and details.current_gross_weekly_income_pence >= 0,
                "current_gross_weekly_income_pence",
            )
            need(details.source != pb.INCOME_SOURCE_UNSPECIFIED, "source")
        case "employment_status_change":
            need(details.new_status != pb.EMPLOYMENT_STATUS_UNSPECIFIED, "new_status")
        case "nil_rate_category_change":
            need(details.category != pb.NIL_RATE_CATEGORY_UNSPECIFIED, "category")
            if details.ended and details.category:
                # Ending a category the paying parent is not in would change nothing.
                need(
                    any(
                        p.category == details.category and not p.period.end_date.year
                        for p in case.paying_parent.nil_rate_categories
                    ),
                    "category",
                )
        case "equal_day_to_day_care_change":
            child = next(
                (c for c in case.qualifying_children if c.child_id == details.child_id), None
            )
            if child is not None:
                is_equal = any(not p.end_date.year for p in child.equal_day_to_day_care_periods)
                need(is_equal == details.ended, "ended")
        case "partner_paying_parent_change":
            is_paying = any(
                not p.end_date.year for p in case.paying_parent.partner_paying_parent_periods
            )
            need(is_paying == details.ended, "ended")
        case "variation_agreed":
            need(bool(details.variation), "variation")
            need(details.ground != pb.VARIATION_GROUND_UNSPECIFIED, "ground")
            need(
                details.weekly_amount_pence > 0 or details.annual_amount_pence > 0,
                "weekly_amount_pence",
            )
            need(day_of(details.period.start_date) is not None, "period.start_date")
    return missing


# ------------------------------------------------------------------------------------------------------------------
# Sequencing


def sequence_step(change: pb.ChangeOfCircumstances, case: pb.Case) -> int:
    """The sequencing-table step: the catalogue's, except NRP not the parent / parentage dispute on the only or last
    qualifying child still on the case, which go at step 4 (they close the case and supersede the rest)."""
    kind = kind_of(change.type)
    if change.type in _PARENTAGE and _is_last_qc(_child_id(change), case):
        return 4
    return kind.step


def closes_case_now(change: pb.ChangeOfCircumstances, case: pb.Case) -> bool:
    """Applying this change to `case` as it stands closes the case."""
    kind = kind_of(change.type)
    if change.type in _PARENTAGE:
        return sequence_step(change, case) == 4
    if change.type == _T.CHANGE_OF_CIRCUMSTANCES_TYPE_DEATH_OF_CLIENT:
        return change.WhichOneof(
            "details"
        ) == "death_of_client" and change.death_of_client.client in _parties(case)
    if kind.closes_case:
        return True
    if change.type in _QC_ENDING:
        return _is_last_qc(_child_id(change), case)
    return False


def _order_key(change: pb.ChangeOfCircumstances, case: pb.Case) -> tuple:
    step = sequence_step(change, case)
    if step in _EFFECTIVE_DATE_ORDER_STEPS:
        return step, _effective_or_report_date(change).toordinal(), _report_key(change), change.name
    return step, 0, _report_key(change), change.name


def order_for_application(
    changes: list[pb.ChangeOfCircumstances], case: pb.Case
) -> list[pb.ChangeOfCircumstances]:
    """The changes in the order they are applied: by step; within steps 5 and 7 by effective date (unset = the date
    of notification) then report time; otherwise by report time; ties by name, then the order given (stable)."""
    return sorted(changes, key=lambda change: _order_key(change, case))


# ------------------------------------------------------------------------------------------------------------------
# Suspicious activity

_INACTIVE = frozenset(
    {
        pb.CHANGE_OF_CIRCUMSTANCES_STATE_WITHDRAWN,
        pb.CHANGE_OF_CIRCUMSTANCES_STATE_DECLINED,
        pb.CHANGE_OF_CIRCUMSTANCES_STATE_SUPERSEDED,
    }
)


def suspicious_related(
    change: pb.ChangeOfCircumstances,
    others: Iterable[pb.ChangeOfCircumstances],
    *,
    params: ChangeParameters = DEFAULTS,
) -> list[str]:
    """Names (sorted) of the other live changes in the same suspicious-activity group for the same client whose
    effective dates (unset = the date of notification) are within the window of this one's; [] when none, or when the
    type has no group or names no client."""
    group = kind_of(change.type).suspicious_group
    subject = subject_client(change)
    if group is None or not subject:
        return []
    when = _effective_or_report_date(change)
    related: set[str] = set()
    for other in others:
        if other is change or not other.name or (change.name and other.name == change.name):
            continue
        other_kind = CATALOGUE.get(other.type)
        if other_kind is None or other_kind.suspicious_group != group or other.state in _INACTIVE:
            continue
        if subject_client(other) != subject:
            continue
        if (
            abs((_effective_or_report_date(other) - when).days)
            <= params.suspicious_activity_window_days
        ):
            related.add(other.name)
    return sorted(related)


# ------------------------------------------------------------------------------------------------------------------
# Income tolerance


def income_tolerance(
    current_weekly_pence: int, new_weekly_pence: int, *, params: ChangeParameters = DEFAULTS
) -> tuple[int, bool]:
    """(signed change in basis points of the current income, rounded toward zero; whether it breaches the tolerance).

    Integer arithmetic only. From a current income of 0, any income is a 100% change (10000) and breaches; 0 -> 0 is
    no change.
    """
    if current_weekly_pence < 0 or new_weekly_pence < 0:
        raise ValueError("incomes cannot be negative")
    if current_weekly_pence == 0:
        return (10000, True) if new_weekly_pence > 0 else (0, False)
    difference = new_weekly_pence - current_weekly_pence
    magnitude = abs(difference) * 10000 // current_weekly_pence
    basis_points = magnitude if difference >= 0 else -magnitude
    return basis_points, magnitude >= params.income_tolerance_basis_points


# ------------------------------------------------------------------------------------------------------------------
# Verification

_DOCUMENTARY = frozenset(
    {
        pb.EVIDENCE_KIND_DOCUMENT,
        pb.EVIDENCE_KIND_INTERFACE,
        pb.EVIDENCE_KIND_THIRD_PARTY_CONFIRMATION,
    }
)


def _married_name_only(change: pb.ChangeOfCircumstances) -> bool:
    details = change.personal_details_change
    return (
        change.WhichOneof("details") == "personal_details_change"
        and details.HasField("new_name")
        and _has_name(details.new_name)
        and details.name_change_reason == pb.NAME_CHANGE_REASON_MARRIAGE_OR_CIVIL_PARTNERSHIP
        and details.new_gender == pb.GENDER_UNSPECIFIED
        and not (details.HasField("new_date_of_birth") and details.new_date_of_birth.year)
    )


def verification_problems(
    change: pb.ChangeOfCircumstances, evidence: Sequence[pb.Evidence]
) -> list[str]:
    """Why a VERIFIED outcome cannot be accepted yet, as sentences; [] = it can. `evidence` is what is added now; the
    change's own evidence counts too. Items of unspecified kind count as no evidence."""
    kinds = {item.kind for item in (*change.evidence, *evidence)} - {pb.EVIDENCE_KIND_UNSPECIFIED}
    if not kinds:
        return ["No evidence has been recorded; a change can be verified only on evidence."]
    if (
        change.type == _T.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_PERSONAL_DETAILS
        and not _married_name_only(change)
        and not kinds & _DOCUMENTARY
    ):
        return [
            "A change of name (other than to a married name), gender or date of birth needs documentary, "
            "interface or third-party evidence; verbal evidence alone is accepted only for a married name."
        ]
    return []


# ------------------------------------------------------------------------------------------------------------------
# Client calls


def completion_runs(
    completions: Sequence[dt.datetime], *, params: ChangeParameters = DEFAULTS
) -> list[list[dt.datetime]]:
    """The completion times in order, split into runs in which each completion is within the call window of the one
    before. Each run gets one call, after its last completion."""
    window = dt.timedelta(days=params.client_call_window_days)
    runs: list[list[dt.datetime]] = []
    for when in sorted(completions):
        if runs and when - runs[-1][-1] <= window:
            runs[-1].append(when)
        else:
            runs.append([when])
    return runs


def client_call_due(
    completions: Sequence[dt.datetime], *, params: ChangeParameters = DEFAULTS
) -> dt.datetime | None:
    """When the one outbound call to the client is due: the last completion of the latest run of completions within
    the window of each other (procedure: "where multiple CofCs have been completed within a 3 day period, a call is not
    required until the final change is completed"); None when there are none. Calls scheduled for earlier completions
    of the same run are made redundant by it."""
    runs = completion_runs(completions, params=params)
    return runs[-1][-1] if runs else None
