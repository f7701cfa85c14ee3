"""Mandatory reconsideration, appeal and revision through the running stack (casework, calculation and the three
gateways, each a real gRPC server on its own real database, with the real broker).

Business clock: Monday 6 April 2026. The standard case is Alex Turner paying Bethan Morgan for Amy and Ben, £96 a week
on his HMRC figure (£31,200 a year); its first calculation is the decision disputed."""

from __future__ import annotations

import datetime as dt
import uuid

import grpc
import pytest
from google.type import date_pb2

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms_casework.wording import long_date, pounds
from cms_platform.grpc_errors import violated_fields

from ..conftest import alex_and_bethan, error, events_of, person

HISTORIC = 59836  # £31,200 ÷ 365 × 7 in pence a week: the income the first calculation used


def d(day: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=day.year, month=day.month, day=day.day)


def bare(client: str) -> str:
    return client.removeprefix("clients/")


def ask(
    stack, case: pb.Case, *, request_id: str | None = None, as_=None, **mr
) -> pb.MandatoryReconsideration:
    mr.setdefault("decision", case.latest_calculation.calculation)
    mr.setdefault("grounds", "my income was lower than the figure used")
    if as_ is None:
        mr.setdefault("requesting_client", case.paying_parent.name)
    return stack.call(
        "RequestMandatoryReconsideration",
        api.RequestMandatoryReconsiderationRequest(
            request_id=request_id or str(uuid.uuid4()),
            parent=case.name,
            mandatory_reconsideration=pb.MandatoryReconsideration(**mr),
        ),
        as_=as_,
        attempts=1,
    )


def decide(
    stack, mr, outcome, reason, *, request_id: str | None = None
) -> pb.MandatoryReconsideration:
    return stack.call(
        "DecideMandatoryReconsideration",
        api.DecideMandatoryReconsiderationRequest(
            request_id=request_id or str(uuid.uuid4()), name=mr.name, outcome=outcome, reason=reason
        ),
        timeout=30,
    )


def lodge(stack, mr, lodged: dt.date, late_reason: str = "") -> pb.MandatoryReconsideration:
    return stack.call(
        "LodgeAppeal",
        api.LodgeAppealRequest(
            request_id=str(uuid.uuid4()),
            name=mr.name,
            lodge_date=d(lodged),
            late_reason=late_reason,
            tribunal_reference="SC123/26/00001",
        ),
        attempts=1,
    )


def letters(stack, case: pb.Case, kind) -> list[pb.Correspondence]:
    page = stack.call(
        "ListCorrespondence", api.ListCorrespondenceRequest(parent=case.name, page_size=200)
    )
    return [c for c in page.correspondence if c.kind == kind]


def get_case(stack, case: pb.Case) -> pb.Case:
    return stack.call("GetCase", api.GetCaseRequest(name=case.name))


def corrected_income(stack, case: pb.Case, pence: int, effective: date_pb2.Date) -> None:
    """The caseworker records the corrected fact the reconsideration found, from the decision's effective date."""
    reported = stack.report(
        case,
        pb.ChangeOfCircumstances(
            type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_INCOME,
            effective_date=effective,
            income_change=pb.IncomeChange(
                current_gross_weekly_income_pence=pence, source=pb.INCOME_SOURCE_PAYSLIPS
            ),
        ),
    )
    stack.verify(reported)


def test_a_reconsideration_that_revises_a_decision_changes_the_liability_from_its_effective_date(
    stack, clock
):
    case = stack.new_live_case()
    decision = case.latest_calculation
    clock.advance(dt.timedelta(days=10))  # asked for on day 10, within the 30 days
    mr = ask(stack, case, as_=stack.creds.client(bare(case.paying_parent.name)))
    assert mr.state == pb.MANDATORY_RECONSIDERATION_STATE_REQUESTED and not mr.late
    assert mr.requesting_client == case.paying_parent.name
    assert mr.decision_effective_date == decision.effective_date
    assert mr.clearance_target_date == d(dt.date(2026, 4, 16) + dt.timedelta(days=28))
    # The other parent is invited to make representations, and does.
    (invitation,) = letters(stack, case, pb.CORRESPONDENCE_KIND_RECONSIDERATION_INVITATION)
    assert invitation.recipient == case.receiving_parent.name
    mr = stack.call(
        "RecordReconsiderationRepresentations",
        api.RecordReconsiderationRepresentationsRequest(
            request_id=str(uuid.uuid4()), name=mr.name, text="he works overtime every week"
        ),
        as_=stack.creds.client(bare(case.receiving_parent.name)),
    )
    assert [r.text for r in mr.representations] == ["he works overtime every week"]

    # The reconsideration finds the income was 30% lower from the start: corrected, and the decision revised.
    corrected_income(stack, case, 41885, decision.effective_date)
    request_id = str(uuid.uuid4())
    decided = decide(
        stack,
        mr,
        pb.RECONSIDERATION_OUTCOME_REVISED,
        "the payslips show a lower income",
        request_id=request_id,
    )
    assert decided.state == pb.MANDATORY_RECONSIDERATION_STATE_DECIDED
    assert decided.outcome == pb.RECONSIDERATION_OUTCOME_REVISED
    after = get_case(stack, case)
    assert (
        after.latest_calculation.calculation == decided.revised_calculation != decision.calculation
    )
    assert after.latest_calculation.effective_date == decision.effective_date
    assert after.latest_calculation.gross_weekly_income_pence == 41885
    assert after.latest_calculation.weekly_amount_pence < decision.weekly_amount_pence
    assert after.latest_calculation.reason == pb.CALCULATION_REASON_CORRECTION_REVISION
    assert (decided.weekly_amount_before_pence, decided.weekly_amount_after_pence) == (
        decision.weekly_amount_pence,
        after.latest_calculation.weekly_amount_pence,
    )
    change = stack.call(
        "GetChangeOfCircumstances",
        api.GetChangeOfCircumstancesRequest(name=decided.change_of_circumstances),
    )
    assert change.type == pb.CHANGE_OF_CIRCUMSTANCES_TYPE_CORRECTION_REVISION
    assert change.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_APPLIED
    assert change.correction_revision.calculation == decision.calculation
    assert change.effective_date == decision.effective_date
    # Explained, with the rule cited, and the notice with appeal rights to both parents.
    took_effect = dt.date(
        decision.effective_date.year, decision.effective_date.month, decision.effective_date.day
    )
    assert "changed it" in decided.explanation.explanation
    assert (
        f"The weekly amount from {long_date(took_effect)} goes down from "
        f"{pounds(decision.weekly_amount_pence)} to {pounds(after.latest_calculation.weekly_amount_pence)}"
    ) in decided.explanation.explanation
    assert "s.16" in decided.explanation.citation and "rule 22" in decided.explanation.citation
    assert decided.appeal_deadline == d(dt.date(2026, 5, 16))
    notices = letters(stack, case, pb.CORRESPONDENCE_KIND_MANDATORY_RECONSIDERATION_NOTICE)
    assert sorted(n.recipient for n in notices) == sorted(
        [case.paying_parent.name, case.receiving_parent.name]
    )
    # A retry answers the first decision and revises nothing more.
    again = decide(
        stack,
        mr,
        pb.RECONSIDERATION_OUTCOME_REVISED,
        "the payslips show a lower income",
        request_id=request_id,
    )
    assert again == decided
    assert get_case(stack, case).latest_calculation == after.latest_calculation
    assert events_of(stack, case.name, "mandatory_reconsideration.requested")
    assert events_of(stack, case.name, "mandatory_reconsideration.decided")


def test_a_late_request_needs_a_reason(stack, clock):
    case = stack.new_live_case()
    clock.advance(dt.timedelta(days=31))
    refused = error(lambda: ask(stack, case))
    assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(refused) == ["mandatory_reconsideration.late_reason"]
    assert not stack.call(
        "ListMandatoryReconsiderations", api.ListMandatoryReconsiderationsRequest(parent=case.name)
    ).mandatory_reconsiderations
    mr = ask(stack, case, late_reason="I was in hospital when the letter came")
    assert mr.late and mr.late_reason == "I was in hospital when the letter came"
    assert not mr.HasField("explanation")  # not decided yet
    kept = decide(stack, mr, pb.RECONSIDERATION_OUTCOME_NOT_REVISED, "the HMRC figure is right")
    assert "reg 15" in kept.explanation.citation
    assert get_case(stack, case).latest_calculation == case.latest_calculation


def test_no_request_is_taken_more_than_thirteen_months_after_the_decision(stack, clock):
    case = stack.new_live_case()
    clock.advance(dt.timedelta(days=396))  # 7 May 2027: 13 months and a day after 6 April 2026
    refused = error(lambda: ask(stack, case, late_reason="I forgot"))
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "13 months" in refused.details()
    clock.advance(dt.timedelta(days=-1))  # 6 May 2027, the last day a late request is taken
    late = ask(stack, case, late_reason="I was abroad")
    assert late.late


def test_a_second_request_for_the_same_decision_is_refused_and_a_retry_answers_the_first(stack):
    case = stack.new_live_case()
    request_id = str(uuid.uuid4())
    first = ask(stack, case, request_id=request_id)
    assert ask(stack, case, request_id=request_id) == first
    refused = error(lambda: ask(stack, case, requesting_client=case.receiving_parent.name))
    assert refused.code() == grpc.StatusCode.ALREADY_EXISTS
    listed = stack.call(
        "ListMandatoryReconsiderations", api.ListMandatoryReconsiderationsRequest(parent=case.name)
    ).mandatory_reconsiderations
    assert [m.name for m in listed] == [first.name]


def test_an_appeal_lies_only_after_the_notice_and_within_its_time(stack, clock):
    case = stack.new_live_case()
    mr = ask(stack, case)
    refused = error(lambda: lodge(stack, mr, dt.date(2026, 4, 6)))
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION  # not reconsidered yet
    kept = decide(stack, mr, pb.RECONSIDERATION_OUTCOME_NOT_REVISED, "the HMRC figure is right")
    assert kept.appeal_deadline == d(dt.date(2026, 5, 6))
    clock.advance(dt.timedelta(days=500))
    out_of_time = error(lambda: lodge(stack, mr, dt.date(2027, 5, 7), "I was ill"))
    assert out_of_time.code() == grpc.StatusCode.FAILED_PRECONDITION
    no_reason = error(lambda: lodge(stack, mr, dt.date(2026, 6, 1)))
    assert no_reason.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(no_reason) == ["late_reason"]
    appealed = lodge(stack, mr, dt.date(2026, 6, 1), "the notice went to my old address")
    assert appealed.state == pb.MANDATORY_RECONSIDERATION_STATE_APPEALED and appealed.appeal.late
    dismissed = stack.call(
        "RecordAppealOutcome",
        api.RecordAppealOutcomeRequest(
            request_id=str(uuid.uuid4()),
            name=mr.name,
            outcome=pb.APPEAL_OUTCOME_DISMISSED,
            outcome_date=d(dt.date(2026, 9, 1)),
            note="the tribunal found the HMRC figure right",
        ),
        timeout=30,
    )
    assert dismissed.state == pb.MANDATORY_RECONSIDERATION_STATE_APPEAL_DECIDED
    assert dismissed.appeal.outcome == pb.APPEAL_OUTCOME_DISMISSED
    assert "dismissed" in dismissed.appeal.explanation.explanation
    assert "s.20" in dismissed.appeal.explanation.citation
    assert get_case(stack, case).latest_calculation == case.latest_calculation


def test_an_appeal_in_time_that_is_allowed_revises_the_decision(stack):
    case = stack.new_live_case()
    mr = ask(stack, case)
    decide(stack, mr, pb.RECONSIDERATION_OUTCOME_NOT_REVISED, "the HMRC figure is right")
    appealed = lodge(stack, mr, dt.date(2026, 4, 6))
    assert not appealed.appeal.late
    corrected_income(stack, case, 41885, case.latest_calculation.effective_date)
    allowed = stack.call(
        "RecordAppealOutcome",
        api.RecordAppealOutcomeRequest(
            request_id=str(uuid.uuid4()),
            name=mr.name,
            outcome=pb.APPEAL_OUTCOME_ALLOWED,
            outcome_date=d(dt.date(2026, 4, 6)),
            note="use the payslips",
        ),
        timeout=30,
    )
    after = get_case(stack, case)
    assert allowed.appeal.revised_calculation == after.latest_calculation.calculation
    assert (
        after.latest_calculation.weekly_amount_pence < case.latest_calculation.weekly_amount_pence
    )
    assert after.latest_calculation.effective_date == case.latest_calculation.effective_date
    assert "allowed" in allowed.appeal.explanation.explanation


def test_a_parent_cannot_reconsider_another_familys_decision(stack):
    ours = stack.new_live_case()
    other = alex_and_bethan()
    other.paying_parent.identity.CopyFrom(person("AC345678C", "Chidi", "Okafor", (1990, 6, 30)))
    other.paying_parent.ClearField("address")
    other.receiving_parent.identity.CopyFrom(
        person("AG765432A", "Siân", "Llewellyn-Price", (1983, 5, 17))
    )
    del other.qualifying_children[:]
    other.qualifying_children.add(
        name=common.PersonName(forenames="Osian", surname="Okafor"),
        date_of_birth=date_pb2.Date(year=2014, month=11, day=11),
        child_reference_number="AK100005A",
    )
    theirs = stack.new_live_case(other)
    alex = stack.creds.client(bare(ours.paying_parent.name))
    # Their case does not exist for Alex; nor does their decision on his own case.
    hidden = error(
        lambda: stack.call(
            "RequestMandatoryReconsideration",
            api.RequestMandatoryReconsiderationRequest(
                request_id=str(uuid.uuid4()),
                parent=theirs.name,
                mandatory_reconsideration=pb.MandatoryReconsideration(
                    decision=theirs.latest_calculation.calculation, grounds="wrong"
                ),
            ),
            as_=alex,
            attempts=1,
        )
    )
    assert hidden.code() == grpc.StatusCode.NOT_FOUND
    borrowed = error(
        lambda: ask(stack, ours, as_=alex, decision=theirs.latest_calculation.calculation)
    )
    assert borrowed.code() == grpc.StatusCode.NOT_FOUND
    # Nor may he ask in the other parent's name on his own case.
    posing = error(lambda: ask(stack, ours, as_=alex, requesting_client=ours.receiving_parent.name))
    assert posing.code() == grpc.StatusCode.PERMISSION_DENIED
    # And a parent cannot decide.
    mr = ask(stack, ours, as_=alex)
    denied = error(
        lambda: stack.call(
            "DecideMandatoryReconsideration",
            api.DecideMandatoryReconsiderationRequest(
                request_id=str(uuid.uuid4()),
                name=mr.name,
                outcome=pb.RECONSIDERATION_OUTCOME_REVISED,
                reason="I say so",
            ),
            as_=alex,
            attempts=1,
        )
    )
    assert denied.code() == grpc.StatusCode.PERMISSION_DENIED


def test_each_parent_sees_only_their_side_and_representations_are_taken_in_time(stack, clock):
    case = stack.new_live_case()
    alex = stack.creds.client(bare(case.paying_parent.name))
    bethan = stack.creds.client(bare(case.receiving_parent.name))
    mr = ask(stack, case, as_=alex, grounds="my income fell")
    not_invited = error(
        lambda: stack.call(
            "RecordReconsiderationRepresentations",
            api.RecordReconsiderationRepresentationsRequest(
                request_id=str(uuid.uuid4()), name=mr.name, text="me too"
            ),
            as_=alex,
            attempts=1,
        )
    )
    assert not_invited.code() == grpc.StatusCode.PERMISSION_DENIED
    stack.call(
        "RecordReconsiderationRepresentations",
        api.RecordReconsiderationRepresentationsRequest(
            request_id=str(uuid.uuid4()), name=mr.name, text="his income did not fall"
        ),
        as_=bethan,
    )
    get = api.GetMandatoryReconsiderationRequest(name=mr.name)
    as_alex, as_bethan = (
        stack.call("GetMandatoryReconsideration", get, as_=alex),
        stack.call("GetMandatoryReconsideration", get, as_=bethan),
    )
    as_staff = stack.call("GetMandatoryReconsideration", get)
    assert (as_alex.grounds, list(as_alex.representations)) == ("my income fell", [])
    assert as_bethan.grounds == "" and [r.text for r in as_bethan.representations] == [
        "his income did not fall"
    ]
    assert as_staff.grounds and len(as_staff.representations) == 1
    clock.advance(dt.timedelta(days=15))
    too_late = error(
        lambda: stack.call(
            "RecordReconsiderationRepresentations",
            api.RecordReconsiderationRepresentationsRequest(
                request_id=str(uuid.uuid4()),
                name=mr.name,
                client=case.receiving_parent.name,
                text="and another thing",
            ),
            attempts=1,
        )
    )
    assert too_late.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert not stack.call("GetMandatoryReconsideration", get).clearance_overdue
    clock.advance(dt.timedelta(days=14))  # day 29: past the 28-day clearance target, undecided
    assert stack.call("GetMandatoryReconsideration", get).clearance_overdue


def test_the_cms_revises_on_any_ground_within_thirty_days_and_not_after(stack, clock):
    case = stack.new_live_case()
    decision = case.latest_calculation
    corrected_income(stack, case, 41885, decision.effective_date)
    revision = stack.call(
        "ReviseDecision",
        api.ReviseDecisionRequest(
            request_id=str(uuid.uuid4()),
            parent=case.name,
            decision=decision.calculation,
            reason="the wrong payslips were used",
        ),
        timeout=30,
    )
    after = get_case(stack, case)
    assert revision.revised_calculation == after.latest_calculation.calculation
    assert revision.weekly_amount_after_pence == after.latest_calculation.weekly_amount_pence
    assert revision.weekly_amount_after_pence < revision.weekly_amount_before_pence
    assert after.latest_calculation.effective_date == decision.effective_date
    assert "reg 14(1)(b)" in revision.explanation.citation
    assert "goes down" in revision.explanation.explanation
    clock.advance(dt.timedelta(days=31))
    late = error(
        lambda: stack.call(
            "ReviseDecision",
            api.ReviseDecisionRequest(
                request_id=str(uuid.uuid4()),
                parent=case.name,
                decision=after.latest_calculation.calculation,
                reason="another look",
            ),
            attempts=1,
        )
    )
    assert late.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "30 days" in late.details()


@pytest.mark.parametrize("field", ["decision", "grounds"])
def test_a_request_without_what_it_needs_names_the_field(stack, field):
    case = stack.new_live_case()
    refused = error(lambda: ask(stack, case, **{field: ""}))
    assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(refused) == [f"mandatory_reconsideration.{field}"]


class _Unavailable(grpc.RpcError):
    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE

    def details(self) -> str:
        return "injected outage"


class _CalculationDownOnce:
    """The calculation service's stub, failing its first CreateCalculation as an outage would."""

    def __init__(self, real) -> None:
        self.real, self.failed = real, 0

    def __getattr__(self, name: str):
        return getattr(self.real, name)

    def CreateCalculation(self, request, *args, **kwargs):
        if not self.failed:
            self.failed += 1
            raise _Unavailable()
        return self.real.CreateCalculation(request, *args, **kwargs)


def test_a_revision_cut_short_by_an_outage_is_finished_by_the_retry_and_done_once(stack):
    case = stack.new_live_case()
    mr = ask(stack, case)
    corrected_income(stack, case, 41885, case.latest_calculation.effective_date)
    downstream = stack.casework.downstream
    flaky = _CalculationDownOnce(downstream.calculation)
    downstream.calculation = flaky
    request_id = str(uuid.uuid4())
    try:
        cut = error(
            lambda: stack.call(
                "DecideMandatoryReconsideration",
                api.DecideMandatoryReconsiderationRequest(
                    request_id=request_id,
                    name=mr.name,
                    outcome=pb.RECONSIDERATION_OUTCOME_REVISED,
                    reason="the payslips show a lower income",
                ),
                attempts=1,
                timeout=30,
            )
        )
        assert cut.code() == grpc.StatusCode.UNAVAILABLE and flaky.failed == 1
        held = stack.call(
            "GetMandatoryReconsideration", api.GetMandatoryReconsiderationRequest(name=mr.name)
        )
        assert held.state == pb.MANDATORY_RECONSIDERATION_STATE_REQUESTED
        assert get_case(stack, case).latest_calculation == case.latest_calculation
        decided = decide(
            stack,
            mr,
            pb.RECONSIDERATION_OUTCOME_REVISED,
            "the payslips show a lower income",
            request_id=request_id,
        )
    finally:
        downstream.calculation = flaky.real
    assert decided.state == pb.MANDATORY_RECONSIDERATION_STATE_DECIDED
    assert decided.change_of_circumstances == held.change_of_circumstances
    after = get_case(stack, case)
    assert after.latest_calculation.calculation == decided.revised_calculation
    assert (
        after.latest_calculation.weekly_amount_pence < case.latest_calculation.weekly_amount_pence
    )
    revisions = stack.call(
        "ListChangesOfCircumstances",
        api.ListChangesOfCircumstancesRequest(
            parent=case.name, type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_CORRECTION_REVISION
        ),
    ).changes_of_circumstances
    assert [c.name for c in revisions] == [decided.change_of_circumstances]
