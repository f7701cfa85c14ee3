"""Variations, nil-rate categories, equal day-to-day care and a partner who also pays, through the real casework server
(with the real calculation service, gateways, databases and broker).

Business clock: Monday 6 April 2026. The standard case is Alex Turner paying Bethan Morgan for Amy and Ben, £96 a week
on the historic HMRC income of £598.36 a week (16% for two children)."""

from __future__ import annotations

import datetime as dt
import uuid

import grpc

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import resources_pb2 as pb
from cms_devkit.testing import wait_until
from cms_platform.grpc_errors import details_of

from ..conftest import d, error

DAY = dt.timedelta(days=1)


def get_case(stack, case: pb.Case) -> pb.Case:
    return stack.call("GetCase", api.GetCaseRequest(name=case.name))


def letters(stack, case: pb.Case, kind: int) -> list[pb.Correspondence]:
    items = stack.call(
        "ListCorrespondence", api.ListCorrespondenceRequest(parent=case.name, page_size=200)
    ).correspondence
    return [c for c in items if c.kind == kind]


def apply_for(stack, case: pb.Case, variation: pb.Variation, *, as_=None) -> pb.Variation:
    return stack.call(
        "ApplyForVariation",
        api.ApplyForVariationRequest(
            request_id=str(uuid.uuid4()), parent=case.name, variation=variation
        ),
        as_=as_,
    )


def decide(
    stack, variation: pb.Variation, outcome=pb.VARIATION_OUTCOME_AGREED, **kw
) -> pb.Variation:
    return stack.call(
        "DecideVariation",
        api.DecideVariationRequest(
            request_id=str(uuid.uuid4()), name=variation.name, outcome=outcome, **kw
        ),
        timeout=30,
    )


def contact_costs(case: pb.Case, weekly_pence: int) -> pb.Variation:
    return pb.Variation(
        ground=pb.VARIATION_GROUND_CONTACT_COSTS,
        applicant=case.paying_parent.name,
        claimed_weekly_amount_pence=weekly_pence,
        description="Train fares Leeds to Cardiff every other weekend",
    )


def report_verified(
    stack, case: pb.Case, change: pb.ChangeOfCircumstances
) -> pb.ChangeOfCircumstances:
    return stack.verify(stack.report(case, change))


def as_of(clock, day: dt.date) -> None:
    clock.set(dt.datetime(day.year, day.month, day.day, 9, 0, tzinfo=dt.UTC))


# -- variations -------------------------------------------------------------------------------------------------------


def test_applications_that_fail_preliminary_consideration_are_rejected_and_change_nothing(stack):
    case = stack.new_live_case()
    assert case.latest_calculation.weekly_amount_pence == 9600

    below = apply_for(stack, case, contact_costs(case, 500))
    assert below.state == pb.VARIATION_STATE_REJECTED
    assert below.rejection_reason == pb.VARIATION_REJECTION_REASON_BELOW_THRESHOLD
    assert "reg 68" in below.explanation and "£10.00 a week" in below.explanation
    assert below.other_parent == case.receiving_parent.name

    # Bethan cannot ask for Alex's special expenses.
    wrong = contact_costs(case, 5000)
    wrong.applicant = case.receiving_parent.name
    assert (
        apply_for(stack, case, wrong).rejection_reason
        == pb.VARIATION_REJECTION_REASON_GROUND_NOT_OPEN_TO_APPLICANT
    )

    # Unearned income: HMRC is asked; it holds no Self Assessment return for Alex, and £1,000 a year is below £2,500.
    unearned = apply_for(
        stack,
        case,
        pb.Variation(
            ground=pb.VARIATION_GROUND_UNEARNED_INCOME,
            applicant=case.receiving_parent.name,
            claimed_annual_amount_pence=100_000,
            description="Rent from a flat",
        ),
    )
    assert unearned.hmrc_unearned_income.fetch_time.seconds
    assert not unearned.hmrc_unearned_income.self_assessment_return_filed
    assert unearned.rejection_reason == pb.VARIATION_REJECTION_REASON_BELOW_THRESHOLD
    assert "reg 69" in unearned.explanation

    listed = stack.call("ListVariations", api.ListVariationsRequest(parent=case.name)).variations
    assert {v.name for v in listed} == {below.name, unearned.name} | {
        v.name for v in listed if v.ground == pb.VARIATION_GROUND_CONTACT_COSTS
    }
    assert all(v.state == pb.VARIATION_STATE_REJECTED for v in listed) and len(listed) == 3
    notices = letters(stack, case, pb.CORRESPONDENCE_KIND_VARIATION_DECISION_NOTICE)
    assert len(notices) == 6  # each rejection to both parents
    assert not letters(stack, case, pb.CORRESPONDENCE_KIND_VARIATION_REPRESENTATIONS_INVITATION)

    # A rejected application cannot be decided, and the liability has not moved.
    err = error(lambda: decide(stack, below))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details_of(err)["ErrorInfo"].reason == "VARIATION_DECIDED"
    after = get_case(stack, case)
    assert after.latest_calculation == case.latest_calculation and not after.variations


def test_an_agreed_variation_moves_the_liability_from_the_date_of_the_application(
    stack, clock, creds
):
    case = stack.new_live_case()
    applied_on = dt.date(2026, 4, 20)
    as_of(clock, applied_on)
    variation = contact_costs(case, 3000)
    variation.evidence.add(kind=pb.EVIDENCE_KIND_DOCUMENT, description="Rail tickets seen")
    # Alex applies himself, through self-service.
    alex = creds.client(case.paying_parent.name.removeprefix("clients/"))
    applied = apply_for(stack, case, variation, as_=alex)
    assert applied.state == pb.VARIATION_STATE_AWAITING_REPRESENTATIONS
    assert applied.applicant == case.paying_parent.name
    assert applied.application_date == d(2026, 4, 20)
    assert applied.representations_due_date == d(2026, 5, 4)  # 14 days
    (invitation,) = letters(
        stack, case, pb.CORRESPONDENCE_KIND_VARIATION_REPRESENTATIONS_INVITATION
    )
    assert invitation.recipient == case.receiving_parent.name

    # Not before Bethan has had her say or the time allowed has passed.
    as_of(clock, dt.date(2026, 4, 27))
    err = error(lambda: decide(stack, applied))
    assert details_of(err)["ErrorInfo"].reason == "REPRESENTATIONS_PENDING"
    # Alex cannot make the other parent's representations; Bethan can.
    denied = error(
        lambda: stack.call(
            "RecordVariationRepresentations",
            api.RecordVariationRepresentationsRequest(
                request_id=str(uuid.uuid4()), name=applied.name, representations="He drives"
            ),
            as_=alex,
        )
    )
    assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
    bethan = creds.client(case.receiving_parent.name.removeprefix("clients/"))
    ready = stack.call(
        "RecordVariationRepresentations",
        api.RecordVariationRepresentationsRequest(
            request_id=str(uuid.uuid4()),
            name=applied.name,
            representations="He could drive instead.",
        ),
        as_=bethan,
    )
    assert ready.state == pb.VARIATION_STATE_READY_FOR_DECISION

    agreed = decide(stack, ready)
    assert agreed.state == pb.VARIATION_STATE_AGREED
    assert agreed.agreed_weekly_amount_pence == 3000
    assert agreed.effective_date == d(2026, 4, 20)
    assert "reg 63" in agreed.explanation and "s.17(4)" in agreed.explanation

    def applied_change() -> pb.ChangeOfCircumstances | None:
        # Applied by the decision, or by the feed applier when it won the race to apply the case's changes.
        found = stack.call(
            "GetChangeOfCircumstances",
            api.GetChangeOfCircumstancesRequest(name=agreed.change_of_circumstances),
        )
        return found if found.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_APPLIED else None

    change = wait_until(applied_change, timeout=30, what="the variation's change to be applied")
    assert (
        change.type == pb.CHANGE_OF_CIRCUMSTANCES_TYPE_VARIATION_AGREED and change.liability_changed
    )

    after = get_case(stack, case)
    # £598.36 - £30 = £568.36 a week; 16% = £90.94, £91.
    assert after.latest_calculation.weekly_amount_pence == 9100
    assert after.latest_calculation.effective_date == d(2026, 4, 20)
    assert after.latest_calculation.calculation == change.calculation
    (held,) = after.variations
    assert (held.variation, held.weekly_amount_pence, held.period.start_date) == (
        agreed.name,
        3000,
        d(2026, 4, 20),
    )
    assert len(letters(stack, case, pb.CORRESPONDENCE_KIND_VARIATION_DECISION_NOTICE)) == 2

    # Every later calculation includes it: a later change (Amy's shared care, 52 nights) recalculates from the
    # income less the special expenses, not from the HMRC figure alone.
    as_of(clock, dt.date(2026, 6, 1))
    report_verified(
        stack,
        after,
        pb.ChangeOfCircumstances(
            type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_SHARED_CARE,
            shared_care_change=pb.SharedCareChange(
                child_id=after.qualifying_children[0].child_id, paying_parent_nights_per_year=52
            ),
        ),
    )
    stack.apply(after)
    later = get_case(stack, case)
    # £91 less 1/14 for one of two children at 52+ nights = £84.50.
    assert later.latest_calculation.weekly_amount_pence == 8450, later.latest_calculation
    assert later.latest_calculation.effective_date == d(2026, 6, 1)


def test_a_variation_agreed_only_by_decision_not_reported(stack):
    case = stack.new_live_case()
    err = error(
        lambda: stack.report(
            case,
            pb.ChangeOfCircumstances(
                type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_VARIATION_AGREED,
                variation_agreed=pb.AgreedVariation(
                    variation=f"{case.name}/variations/x",
                    ground=pb.VARIATION_GROUND_CONTACT_COSTS,
                    weekly_amount_pence=5000,
                ),
            ),
        )
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT


# -- nil-rate categories, equal care, a partner who pays too ---------------------------------------------------------


def test_a_prisoner_is_on_the_nil_rate_until_released(stack, clock):
    case = stack.new_live_case()
    as_of(clock, dt.date(2026, 5, 1))
    prisoner = pb.NilRateCategoryChange(category=pb.NIL_RATE_CATEGORY_PRISONER)
    report_verified(
        stack,
        case,
        pb.ChangeOfCircumstances(
            type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_NIL_RATE_CATEGORY,
            nil_rate_category_change=prisoner,
        ),
    )
    stack.apply(case)
    jailed = get_case(stack, case)
    assert jailed.latest_calculation.rate == "NIL"
    assert jailed.latest_calculation.weekly_amount_pence == 0
    assert jailed.latest_calculation.effective_date == d(2026, 5, 1)
    (held,) = jailed.paying_parent.nil_rate_categories
    assert held.category == pb.NIL_RATE_CATEGORY_PRISONER and held.period.start_date == d(
        2026, 5, 1
    )
    # On the nil rate special expenses cannot apply: an application is rejected at preliminary consideration.
    refused = apply_for(stack, jailed, contact_costs(jailed, 3000))
    assert refused.rejection_reason == pb.VARIATION_REJECTION_REASON_RATE_EXCLUDES_GROUND

    as_of(clock, dt.date(2026, 8, 3))
    prisoner.ended = True
    report_verified(
        stack,
        jailed,
        pb.ChangeOfCircumstances(
            type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_NIL_RATE_CATEGORY,
            nil_rate_category_change=prisoner,
        ),
    )
    stack.apply(jailed)
    released = get_case(stack, case)
    assert released.latest_calculation.rate == "BASIC"
    assert released.latest_calculation.weekly_amount_pence == 9600
    assert released.latest_calculation.effective_date == d(2026, 8, 3)
    assert released.paying_parent.nil_rate_categories[0].period.end_date == d(2026, 8, 3)


def test_equal_day_to_day_care_of_every_child_means_no_liability(stack, clock):
    case = stack.new_live_case()
    as_of(clock, dt.date(2026, 5, 1))
    for child in case.qualifying_children:
        report_verified(
            stack,
            case,
            pb.ChangeOfCircumstances(
                type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_EQUAL_DAY_TO_DAY_CARE,
                equal_day_to_day_care_change=pb.EqualDayToDayCareChange(child_id=child.child_id),
            ),
        )
    stack.apply(case)
    equal = get_case(stack, case)
    assert equal.state == pb.CASE_STATE_LIVE
    assert equal.latest_calculation.rate == "NO_LIABILITY"
    assert equal.latest_calculation.weekly_amount_pence == 0
    assert all(c.equal_day_to_day_care_periods for c in equal.qualifying_children)

    # Ben goes back to living mostly with Bethan: Alex pays for one child, 12% of £598.36 = £71.80, £72.
    as_of(clock, dt.date(2026, 7, 1))
    report_verified(
        stack,
        equal,
        pb.ChangeOfCircumstances(
            type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_EQUAL_DAY_TO_DAY_CARE,
            equal_day_to_day_care_change=pb.EqualDayToDayCareChange(
                child_id=equal.qualifying_children[1].child_id, ended=True
            ),
        ),
    )
    stack.apply(equal)
    unequal = get_case(stack, case)
    assert unequal.latest_calculation.weekly_amount_pence == 7200
    assert unequal.latest_calculation.effective_date == d(2026, 7, 1)


def test_a_partner_who_is_also_a_paying_parent_halves_the_flat_rate(stack, clock):
    case = stack.new_live_case()
    stack.award_jsa()  # income-based JSA from 6 April: the flat rate (reg 44(2))
    on_benefit = stack.recalculated(case)
    assert on_benefit.latest_calculation.rate == "FLAT"
    assert on_benefit.latest_calculation.weekly_amount_pence == 700

    as_of(clock, dt.date(2026, 5, 1))
    report_verified(
        stack,
        on_benefit,
        pb.ChangeOfCircumstances(
            type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_PARTNER_PAYING_PARENT,
            partner_paying_parent_change=pb.PartnerPayingParentChange(),
        ),
    )
    stack.apply(on_benefit)
    halved = get_case(stack, case)
    assert halved.latest_calculation.rate == "FLAT"
    assert halved.latest_calculation.weekly_amount_pence == 350
    assert halved.latest_calculation.effective_date == d(2026, 5, 1)

    as_of(clock, dt.date(2026, 6, 1))
    report_verified(
        stack,
        halved,
        pb.ChangeOfCircumstances(
            type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_PARTNER_PAYING_PARENT,
            partner_paying_parent_change=pb.PartnerPayingParentChange(ended=True),
        ),
    )
    stack.apply(halved)
    assert get_case(stack, case).latest_calculation.weekly_amount_pence == 700


def test_once_the_time_allowed_has_passed_a_decision_is_made_once_however_often_it_is_sent(
    stack, clock
):
    case = stack.new_live_case()
    variation = contact_costs(case, 3000)
    variation.evidence.add(kind=pb.EVIDENCE_KIND_DOCUMENT, description="Fuel receipts seen")
    applied = apply_for(stack, case, variation)
    debts = apply_for(
        stack,
        case,
        pb.Variation(
            ground=pb.VARIATION_GROUND_PRIOR_DEBTS,
            applicant=case.paying_parent.name,
            claimed_weekly_amount_pence=2000,
            description="Joint credit card",
        ),
    )
    assert applied.representations_due_date == d(2026, 4, 20)
    # Bethan does not reply; after the 14 days the variation can be decided without her representations.
    as_of(clock, dt.date(2026, 4, 21))
    request = api.DecideVariationRequest(
        request_id=str(uuid.uuid4()), name=applied.name, outcome=pb.VARIATION_OUTCOME_AGREED
    )
    first = stack.call("DecideVariation", request, timeout=30)
    again = stack.call("DecideVariation", request, timeout=30)
    assert first == again and first.state == pb.VARIATION_STATE_AGREED
    assert first.effective_date == d(2026, 4, 6)  # the date of the application
    agreed_changes = stack.call(
        "ListChangesOfCircumstances",
        api.ListChangesOfCircumstancesRequest(
            parent=case.name, type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_VARIATION_AGREED
        ),
    ).changes_of_circumstances
    assert [c.name for c in agreed_changes] == [first.change_of_circumstances]

    # No evidence for the debts: it cannot be agreed, and it can be refused.
    err = error(lambda: decide(stack, debts))
    assert details_of(err)["ErrorInfo"].reason == "EVIDENCE_INSUFFICIENT"
    refused = decide(
        stack, debts, pb.VARIATION_OUTCOME_REFUSED, reason="The debt is in Bethan's name."
    )
    assert refused.state == pb.VARIATION_STATE_REFUSED and "s.28F" in refused.explanation
    assert not refused.change_of_circumstances

    def moved() -> pb.Case | None:
        held = get_case(stack, case)
        return held if held.latest_calculation.weekly_amount_pence == 9100 else None

    after = wait_until(moved, timeout=30, what="the variation to reach the liability")
    assert [v.variation for v in after.variations] == [applied.name]
