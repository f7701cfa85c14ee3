"""What applying verified changes does to a case and its clients, worked out on copies before anything is written
(no I/O): one small function per type of change (or per family of types that are genuinely the same), looked up
in EFFECTS by the type's contract value. Types that change nothing on the case themselves (a correction or revision
only asks for a recalculation) say so explicitly.

Each applied change that can move the liability takes effect from its own effective date (s.17(4) of the Child Support
Act 1991, reg 18 of SI 2012/2677): `Outcome.starts` records it, and changes.flows makes one calculation per distinct
date, each on the circumstances as they stand from that date (`applied_by`: the changes applied up to it).

The changes are applied in the sequencing table's order (docs/domain/changes-of-circumstances.md §11.13); a change
that closes the case supersedes every change after it (step 4: whatever their effective dates). Each function sets
what the change does; what follows from the type's catalogue entry (a recalculation when it can move the liability,
from its effective date) is worked out once for all of them in `apply_one`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, MutableSequence
from dataclasses import dataclass, field
from typing import Protocol

from google.type import date_pb2

from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms_platform.convert import day_of, pb_date

from ..names import new_id
from . import rules

T = pb.ChangeOfCircumstancesType


@dataclass
class Outcome:
    """What applying the pending changes does, worked out on copies before anything is written."""

    case: pb.Case
    clients: dict[str, pb.Client]
    changes: list[pb.ChangeOfCircumstances] = field(default_factory=list)
    needs_calculation: bool = False
    effective: dt.date | None = None
    # (closure reason, effective date, the closing change's name)
    closure: tuple[pb.CaseClosureReason.ValueType, dt.date, str] | None = None
    deaths: list[tuple[str, dt.date]] = field(default_factory=list)
    # Why the one recalculation is made: a correction or revision among the changes makes it one.
    calculation_reason: pb.CalculationReason.ValueType = (
        pb.CALCULATION_REASON_CHANGE_OF_CIRCUMSTANCES
    )
    # Applied changes that can move the liability, by name: the date each takes effect from.
    starts: dict[str, dt.date] = field(default_factory=dict)
    # An income change was measured against current income already in place and applied: the new figure replaces it
    # without the historic-income test being run again (reg 23(4) of SI 2012/2677).
    current_income_in_place: bool = False


@dataclass(frozen=True)
class Applying:
    """One verified change being applied: the change (its copy, whose state the effect may set), the date it takes
    effect and the tolerance parameters."""

    change: pb.ChangeOfCircumstances
    on: dt.date
    params: rules.ChangeParameters

    @property
    def client_name(self) -> str:
        return rules.subject_client(self.change)


Effect = Callable[[Outcome, Applying], None]


class _Child(Protocol):
    child_id: str
    end_reason: pb.ChildEndReason.ValueType

    @property
    def end_date(self) -> date_pb2.Date: ...


def effective_date(change: pb.ChangeOfCircumstances) -> dt.date:
    """The date it happened, or (a type effective from notification) the date it was reported."""
    return day_of(change.effective_date) or change.report_time.ToDatetime(tzinfo=dt.UTC).date()


def change_benefits(
    awards: MutableSequence[pb.BenefitAward],
    detail: pb.BenefitDetailsChange,
    on: dt.date,
    *,
    verified_change: str,
) -> None:
    """Record a verified benefit start or end on the client's `awards` as a fact casework holds (`verified_change`),
    which every later calculation combines with DWP's awards (calculations.rules.benefits_in_payment). A benefit
    that stopped on `on` was last in payment the day before; an end with no open award to close is kept as an end
    alone; a start already recorded as a fact is the same start reported again."""
    open_awards = [
        a
        for a in awards
        if a.benefit == detail.benefit
        and a.partner_award == detail.partner_award
        and not a.period.end_date.year
    ]
    if detail.change == pb.BENEFIT_CHANGE_ENDED:
        last_day = pb_date(on - dt.timedelta(days=1))
        for award in open_awards:
            award.period.end_date.CopyFrom(last_day)
            award.verified_change = verified_change
        if not open_awards:
            awards.append(
                pb.BenefitAward(
                    benefit=detail.benefit,
                    partner_award=detail.partner_award,
                    period=common.DateRange(end_date=last_day),
                    verified_change=verified_change,
                )
            )
    elif detail.change == pb.BENEFIT_CHANGE_STARTED and not any(
        a.verified_change for a in open_awards
    ):
        awards.append(
            pb.BenefitAward(
                benefit=detail.benefit,
                partner_award=detail.partner_award,
                period=common.DateRange(start_date=pb_date(on)),
                universal_credit_earned_income=detail.universal_credit_earned_income,
                verified_change=verified_change,
            )
        )


def _end_child(
    children: Iterable[_Child], child_id: str, reason: pb.ChildEndReason.ValueType, on: dt.date
) -> None:
    for child in children:
        if child.child_id == child_id and not child.end_date.year:
            child.end_date.CopyFrom(pb_date(on))
            child.end_reason = reason


def _live_qcs(case: pb.Case) -> int:
    return sum(1 for c in case.qualifying_children if not c.end_date.year)


def _close(out: Outcome, a: Applying, reason: pb.CaseClosureReason.ValueType) -> None:
    out.closure = (reason, a.on, a.change.name)


# -- the client's own details --------------------------------------------------------------------------------------


def _confirm_current_location(out: Outcome, a: Applying) -> None:
    client, detail = out.clients[a.client_name], a.change.location_confirmation
    client.resident_outside_uk = detail.resident_outside_uk
    if detail.HasField("address"):
        client.address.CopyFrom(detail.address)
    if detail.resident_outside_uk:
        _close(out, a, pb.CASE_CLOSURE_REASON_OUTSIDE_JURISDICTION)


def _change_address(out: Outcome, a: Applying) -> None:
    out.clients[a.client_name].address.CopyFrom(a.change.address_change.new_address)


def _change_contact_details(out: Outcome, a: Applying) -> None:
    out.clients[a.client_name].contact_details.CopyFrom(
        a.change.contact_details_change.new_contact_details
    )


def _change_security_details(out: Outcome, a: Applying) -> None:
    held, new = (
        out.clients[a.client_name].security_details,
        a.change.security_details_change.new_security_details,
    )
    held.security_question = new.security_question
    held.security_answer_set = new.security_answer_set


def _change_contact_preferences(out: Outcome, a: Applying) -> None:
    out.clients[a.client_name].contact_preferences.CopyFrom(
        a.change.contact_preferences_change.new_contact_preferences
    )


def _change_personal_details(out: Outcome, a: Applying) -> None:
    client, detail = out.clients[a.client_name], a.change.personal_details_change
    if detail.HasField("new_name"):
        client.identity.name.CopyFrom(detail.new_name)
    if detail.new_gender:
        client.gender = detail.new_gender
    if detail.new_date_of_birth.year:
        client.identity.date_of_birth.CopyFrom(detail.new_date_of_birth)


def _activate_representative(out: Outcome, a: Applying) -> None:
    client = out.clients[a.client_name]
    rep = client.representatives.add()
    rep.CopyFrom(a.change.client_representative_change.representative)
    rep.name = f"{client.name}/representatives/{new_id()[:8]}"
    rep.active = True
    rep.active_period.start_date.CopyFrom(pb_date(a.on))


def _deactivate_representative(out: Outcome, a: Applying) -> None:
    name = a.change.client_representative_change.representative_name
    for rep in out.clients[a.client_name].representatives:
        if rep.name == name and rep.active:
            rep.active = False
            rep.active_period.end_date.CopyFrom(pb_date(a.on))


def _death_of_client(out: Outcome, a: Applying) -> None:
    client = out.clients[a.client_name]
    client.date_of_death.CopyFrom(pb_date(a.on))
    client.contact_suppressed = True
    out.deaths.append((client.name, a.on))
    _close(
        out,
        a,
        pb.CASE_CLOSURE_REASON_DEATH_OF_PAYING_PARENT
        if client.name == out.case.paying_parent.name
        else pb.CASE_CLOSURE_REASON_DEATH_OF_RECEIVING_PARENT,
    )


# -- parentage and the parents -------------------------------------------------------------------------------------


def _nrp_not_the_parent(out: Outcome, a: Applying) -> None:
    last = rules.closes_case_now(a.change, out.case)
    _end_child(
        out.case.qualifying_children,
        a.change.child_change.child_id,
        pb.CHILD_END_REASON_PAYING_PARENT_NOT_THE_PARENT,
        a.on,
    )
    if last:
        _close(out, a, pb.CASE_CLOSURE_REASON_PAYING_PARENT_NOT_THE_PARENT)


def _parentage_dispute(out: Outcome, a: Applying) -> None:
    """Disputed for a child while others remain: the child is marked; on the last child the case closes."""
    if rules.closes_case_now(a.change, out.case):
        _nrp_not_the_parent(out, a)
        return
    for child in out.case.qualifying_children:
        if child.child_id == a.change.child_change.child_id:
            child.parentage_disputed = True


def _parents_reconciled(out: Outcome, a: Applying) -> None:
    _close(out, a, pb.CASE_CLOSURE_REASON_PARENTS_RECONCILED)


# -- children ------------------------------------------------------------------------------------------------------


def _child_leaves(
    qualifying: pb.ChildEndReason.ValueType | None, other: pb.ChildEndReason.ValueType | None
) -> Effect:
    """A child leaves the case: a qualifying child with reason `qualifying`, a relevant other child or a child in a
    family-based arrangement with `other` (None: the type is not about that kind of child). The case closes when no
    qualifying child remains."""

    def effect(out: Outcome, a: Applying) -> None:
        child_id = a.change.child_change.child_id
        if qualifying is not None:
            _end_child(out.case.qualifying_children, child_id, qualifying, a.on)
        if other is not None:
            _end_child(out.case.relevant_other_children, child_id, other, a.on)
            _end_child(out.case.children_in_family_based_arrangements, child_id, other, a.on)
        if _live_qcs(out.case) == 0:
            _close(out, a, pb.CASE_CLOSURE_REASON_NO_QUALIFYING_CHILD)

    return effect


def _new_child(group: str) -> Effect:
    """A child joins the case in `group`; a qualifying child with the paying parent's nights of shared care."""

    def effect(out: Outcome, a: Applying) -> None:
        detail = a.change.new_child
        reference = detail.child_reference_number.strip()
        if reference and any(
            c.child_reference_number.strip() == reference and not c.end_date.year
            for c in getattr(out.case, group)
        ):
            return  # the same child reported again: already in the group, counted once
        child = getattr(out.case, group).add(
            child_id=new_id()[:8],
            name=detail.name,
            date_of_birth=detail.date_of_birth,
            child_reference_number=detail.child_reference_number,
        )
        # From the date the change takes effect: a calculation from an earlier date does not count the child.
        child.start_date.CopyFrom(pb_date(a.on))
        if group == "qualifying_children":
            child.paying_parent_nights_per_year = detail.paying_parent_nights_per_year

    return effect


def _shared_care(out: Outcome, a: Applying) -> None:
    detail = a.change.shared_care_change
    for child in out.case.qualifying_children:
        if child.child_id == detail.child_id:
            child.paying_parent_nights_per_year = detail.paying_parent_nights_per_year


# -- payment arrangements ------------------------------------------------------------------------------------------


def _payment_arrangement(name: str, *, new_schedule: bool = False) -> Effect:
    """One of the case's payment arrangements (`name`) changes. A new frequency, or a service type and so its
    collection fees, needs a new schedule issued the same day, even if the liability holds."""

    def effect(out: Outcome, a: Applying) -> None:
        setattr(out.case, name, getattr(a.change.payment_arrangement_change, name))
        if new_schedule:
            out.needs_calculation = True

    return effect


# -- the paying parent's income, benefits and employment -----------------------------------------------------------


def _change_benefit_details(out: Outcome, a: Applying) -> None:
    detail = a.change.benefit_details_change
    change_benefits(
        out.clients[out.case.paying_parent.name].benefits,
        detail,
        a.on,
        verified_change=a.change.name,
    )


def _change_income(out: Outcome, a: Applying) -> None:
    """Applied only past the 25% tolerance (§11.12); below it the change is recorded as not breaching it."""
    held = out.clients[out.case.paying_parent.name].employment_and_income
    detail = a.change.income_change
    in_place = bool(held.current_income_source)
    in_use = held.current_gross_weekly_income_pence if in_place else _historic(out.case)
    points, breached = rules.income_tolerance(
        in_use, detail.current_gross_weekly_income_pence, params=a.params
    )
    detail.change_basis_points = max(-(2**31), min(points, 2**31 - 1))  # int32 in the contract
    detail.tolerance_breached = breached
    if not breached:
        a.change.state = pb.CHANGE_OF_CIRCUMSTANCES_STATE_TOLERANCE_NOT_BREACHED
        return
    held.current_gross_weekly_income_pence = detail.current_gross_weekly_income_pence
    held.current_income_source = detail.source
    held.current_income_date.CopyFrom(pb_date(a.on))
    out.current_income_in_place = out.current_income_in_place or in_place


def _historic(case: pb.Case) -> int:
    """What a change of income is measured against while no current income is in place: historic income before the
    £3,000 cap (reg 34 of SI 2012/2677), as the latest calculation found it; a calculation recorded before that figure
    was kept gives its gross weekly income."""
    latest = case.latest_calculation
    if latest.income_basis.startswith("CURRENT"):
        return latest.gross_weekly_income_pence  # current income in use (e.g. from the application)
    return latest.historic_weekly_income_pence or latest.gross_weekly_income_pence


def _change_employment_status(out: Outcome, a: Applying) -> None:
    held = out.clients[out.case.paying_parent.name].employment_and_income
    detail = a.change.employment_status_change
    held.employment_status = detail.new_status
    if detail.HasField("employment"):
        held.employer.CopyFrom(detail.employment)


def _change_deo_employment(out: Outcome, a: Applying) -> None:
    out.clients[out.case.paying_parent.name].employment_and_income.employer.CopyFrom(
        a.change.deo_employment_details_change
    )


def _correction_revision(out: Outcome, a: Applying) -> None:
    """Nothing on the case changes: the recalculation it asks for is made as a correction or revision."""
    out.calculation_reason = pb.CALCULATION_REASON_CORRECTION_REVISION


# -- nil-rate categories, equal care, a partner who pays too, variations ------------------------------------------------


def _open_period(periods: Iterable[common.DateRange]) -> common.DateRange | None:
    return next((p for p in periods if not p.end_date.year), None)


def _start_or_end(periods: MutableSequence[common.DateRange], *, ended: bool, on: dt.date) -> None:
    """Open a period from `on`, or end the open one on `on` (the first day it no longer applies)."""
    held = _open_period(periods)
    if ended and held is not None:
        held.end_date.CopyFrom(pb_date(on))
    elif not ended and held is None:
        periods.append(common.DateRange(start_date=pb_date(on)))


def _nil_rate_category(out: Outcome, a: Applying) -> None:
    """The paying parent enters or leaves a nil-rate category (reg 45), e.g. goes to prison or is released."""
    detail = a.change.nil_rate_category_change
    held = out.clients[out.case.paying_parent.name].nil_rate_categories
    current = next(
        (p for p in held if p.category == detail.category and not p.period.end_date.year), None
    )
    if detail.ended and current is not None:
        current.period.end_date.CopyFrom(pb_date(a.on))
    elif not detail.ended and current is None:
        held.add(category=detail.category, period=common.DateRange(start_date=pb_date(a.on)))


def _equal_day_to_day_care(out: Outcome, a: Applying) -> None:
    """Care of a qualifying child becomes, or stops being, shared equally (reg 50): the calculation leaves the child
    out for those dates, so with every child equal there is no liability."""
    detail = a.change.equal_day_to_day_care_change
    for child in out.case.qualifying_children:
        if child.child_id == detail.child_id:
            _start_or_end(child.equal_day_to_day_care_periods, ended=detail.ended, on=a.on)


def _partner_paying_parent(out: Outcome, a: Applying) -> None:
    """The paying parent's partner becomes, or stops being, a paying parent too (Sch 1 para 4(2))."""
    held = out.clients[out.case.paying_parent.name].partner_paying_parent_periods
    _start_or_end(held, ended=a.change.partner_paying_parent_change.ended, on=a.on)


def _variation_agreed(out: Outcome, a: Applying) -> None:
    """An agreed variation joins the case from its effective date; every later calculation includes it."""
    agreed = a.change.variation_agreed
    if any(v.variation == agreed.variation for v in out.case.variations):
        return  # applied already
    added = out.case.variations.add()
    added.CopyFrom(agreed)
    added.period.start_date.CopyFrom(pb_date(a.on))


EFFECTS: dict[pb.ChangeOfCircumstancesType.ValueType, Effect] = {
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_CORRECTION_REVISION: _correction_revision,
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_CONFIRM_CURRENT_LOCATION: _confirm_current_location,
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_ADDRESS_DETAILS: _change_address,
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_ACTIVATE_CLIENT_REPRESENTATIVE: _activate_representative,
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_DEACTIVATE_CLIENT_REPRESENTATIVE: _deactivate_representative,
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_CONTACT_DETAILS: _change_contact_details,
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_SECURITY_DETAILS: _change_security_details,
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_PERSONAL_DETAILS: _change_personal_details,
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_CONTACT_PREFERENCES: _change_contact_preferences,
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_NRP_NOT_THE_PARENT: _nrp_not_the_parent,
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_PARENTAGE_DISPUTE: _parentage_dispute,
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_PWC_AND_NRP_RECONCILED: _parents_reconciled,
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_QC_NOT_IN_FULL_TIME_EDUCATION: _child_leaves(
        pb.CHILD_END_REASON_NOT_IN_FULL_TIME_EDUCATION, None
    ),
    # The rules let a ROC or CIFBA turn 20 too (rules._CHILDREN_OF), not only a QC.
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_CHILD_TURNS_20: _child_leaves(
        pb.CHILD_END_REASON_TURNED_20, pb.CHILD_END_REASON_TURNED_20
    ),
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_DEATH_OF_QC: _child_leaves(pb.CHILD_END_REASON_DIED, None),
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_DEATH_OF_ROC: _child_leaves(None, pb.CHILD_END_REASON_DIED),
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_DEATH_OF_CLIENT: _death_of_client,
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_QC_ROC_ADOPTED: _child_leaves(
        pb.CHILD_END_REASON_ADOPTED, pb.CHILD_END_REASON_ADOPTED
    ),
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_TO_DEO_EMPLOYMENT_DETAILS: _change_deo_employment,
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_TO_METHOD_OF_PAYMENT_FROM: _payment_arrangement(
        "method_of_payment_from"
    ),
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_TO_METHOD_OF_PAYMENT_TO: _payment_arrangement(
        "method_of_payment_to"
    ),
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_TO_SERVICE_TYPE: _payment_arrangement(
        "service_type", new_schedule=True
    ),
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_PAYMENT_FREQUENCY: _payment_arrangement(
        "payment_frequency", new_schedule=True
    ),
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_NRP_NOT_PRIMARY_CARER_OF_ROC: _child_leaves(
        None, pb.CHILD_END_REASON_NOT_PRIMARY_CARER
    ),
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_PWC_NOT_PRIMARY_CARER_OF_QC: _child_leaves(
        pb.CHILD_END_REASON_NOT_PRIMARY_CARER, None
    ),
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_SHARED_CARE: _shared_care,
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_ROC_NOT_IN_FULL_TIME_EDUCATION: _child_leaves(
        None, pb.CHILD_END_REASON_NOT_IN_FULL_TIME_EDUCATION
    ),
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_NEW_QC_IN_PWC_HOUSEHOLD: _new_child("qualifying_children"),
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_NEW_ROC_IN_NRP_HOUSEHOLD: _new_child("relevant_other_children"),
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_NEW_CIFBA: _new_child("children_in_family_based_arrangements"),
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_BENEFIT_DETAILS: _change_benefit_details,
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_INCOME: _change_income,
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_EMPLOYMENT_STATUS: _change_employment_status,
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_NIL_RATE_CATEGORY: _nil_rate_category,
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_EQUAL_DAY_TO_DAY_CARE: _equal_day_to_day_care,
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_PARTNER_PAYING_PARENT: _partner_paying_parent,
    T.CHANGE_OF_CIRCUMSTANCES_TYPE_VARIATION_AGREED: _variation_agreed,
}


def apply_one(
    out: Outcome, change: pb.ChangeOfCircumstances, *, params: rules.ChangeParameters
) -> None:
    """Apply one verified change to the copies in `out` and set its final state."""
    change.state = pb.CHANGE_OF_CIRCUMSTANCES_STATE_APPLIED
    applying = Applying(change, effective_date(change), params)
    EFFECTS[change.type](out, applying)
    if change.state != pb.CHANGE_OF_CIRCUMSTANCES_STATE_APPLIED:
        return  # recorded, not applied (an income change within the tolerance)
    if rules.kind_of(change.type).moves_liability and out.closure is None:
        out.needs_calculation = True
        out.effective = min(out.effective or applying.on, applying.on)
        out.starts[change.name] = applying.on


def plan_application(
    case: pb.Case,
    clients: dict[str, pb.Client],
    pending: list[pb.ChangeOfCircumstances],
    *,
    params: rules.ChangeParameters = rules.DEFAULTS,
) -> Outcome:
    """Apply the verified changes to copies of the case and its clients in the sequencing table's order. A change that
    closes the case supersedes every change after it (step 4: whatever their effective dates)."""
    out = Outcome(case=pb.Case(), clients={})
    out.case.CopyFrom(case)
    for name, client in clients.items():
        out.clients[name] = pb.Client()
        out.clients[name].CopyFrom(client)
    for change in rules.order_for_application(pending, case):
        applied = pb.ChangeOfCircumstances()
        applied.CopyFrom(change)
        if out.closure is not None:
            applied.state = pb.CHANGE_OF_CIRCUMSTANCES_STATE_SUPERSEDED
            applied.superseded_by = out.closure[2]
        else:
            apply_one(out, applied, params=params)
        out.changes.append(applied)
    if out.closure is not None:
        out.needs_calculation = False
    return out


def applied_by(
    pending: list[pb.ChangeOfCircumstances], out: Outcome, on: dt.date, *, floor: dt.date
) -> list[pb.ChangeOfCircumstances]:
    """The pending changes `out` applied that are in effect on `on` (their effective date, never before `floor`, on
    or before it): applied again to the case as it was, they give the circumstances as they stand from `on`."""
    applied = {c.name for c in out.changes if c.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_APPLIED}
    return [c for c in pending if c.name in applied and max(effective_date(c), floor) <= on]
