"""Write-offs of small arrears on closed cases (MPA Regs 2009 as amended by SI 2024/87) through the running stack: each
entry condition refused with its own reason (case open, arrears too large, a recent payment, an ongoing liability, no
arrears), the review job raising one service request per qualifying case (not twice while it is open), and a team
leader's decision posted on the account as a write-off adjustment with its event. The rule itself: unit and property
tests."""

from __future__ import annotations

import datetime as dt
import uuid

import grpc
from hypothesis import given
from hypothesis import strategies as st

from cms.casework.v1 import arrears_pb2 as apb
from cms.casework.v1 import arrears_service_pb2 as api
from cms.casework.v1 import casework_service_pb2 as case_api
from cms.casework.v1 import money_events_pb2 as money_ev
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms_casework.arrears import rules
from cms_platform.grpc_errors import details_of

from ..conftest import alex_and_bethan, d, error, person
from .conftest import money_events, rid
from .helpers import (
    MONTHLY_DUE,
    adjustments,
    balances,
    charge,
    live_case_with_account,
    opened,
    receive,
    recognise_arrears,
    srs_of,
)

D = dt.date
REVIEW = "Arrears Write-Off Review"

# -- the rule ------------------------------------------------------------------------------------------------------


def facts(**kw) -> rules.WriteOffFacts:
    base: dict = {
        "case_closed": True,
        "owed_pence": 420,
        "ongoing_liability": False,
        "last_payment": D(2026, 1, 1),
    }
    return rules.WriteOffFacts(**(base | kw))


def code(f: rules.WriteOffFacts, today: D = D(2026, 7, 1)) -> str | None:
    refusal = rules.write_off_refusal(f, today=today)
    return None if refusal is None else refusal.code


def test_each_entry_condition_has_its_own_refusal():
    assert code(facts()) is None
    assert code(facts(case_closed=False)) == "CASE_OPEN"
    assert code(facts(owed_pence=0)) == "NO_ARREARS"
    assert code(facts(owed_pence=700)) == "ARREARS_TOO_LARGE"  # under £7 only
    assert code(facts(owed_pence=699)) is None
    assert code(facts(ongoing_liability=True)) == "ONGOING_LIABILITY"
    assert code(facts(last_payment=D(2026, 4, 3))) == "RECENT_PAYMENT"  # 89 days before
    assert code(facts(last_payment=D(2026, 4, 2))) is None  # 90 days before
    assert code(facts(last_payment=None)) is None


@given(
    st.booleans(),
    st.integers(min_value=-100, max_value=2000),
    st.booleans(),
    st.one_of(st.none(), st.dates(min_value=D(2025, 1, 1), max_value=D(2026, 7, 1))),
    st.integers(min_value=0, max_value=1000),
    st.integers(min_value=0, max_value=200),
)
def test_arrears_may_be_written_off_exactly_when_every_condition_holds(
    closed, owed, ongoing, last, max_pence, quiet
):
    params = rules.WriteOffParameters(max_pence=max_pence, quiet_days=quiet)
    today = D(2026, 7, 1)
    f = rules.WriteOffFacts(closed, owed, ongoing, last)
    allowed = (
        closed
        and 0 < owed < max_pence
        and not ongoing
        and (last is None or (today - last).days >= quiet)
    )
    assert (rules.write_off_refusal(f, today=today, params=params) is None) == allowed


# -- through the stack ---------------------------------------------------------------------------------------------


def decide(arrears, case, *, as_=None):
    return arrears.call(
        "DecideWriteOff",
        api.DecideWriteOffRequest(request_id=rid(), parent=case.name, note="not worth pursuing"),
        as_=as_ or arrears.stack.team_leader(),
        attempts=1,
    )


def refused(arrears, case) -> str:
    err = error(lambda: decide(arrears, case))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION, err.details()
    return str(details_of(err)["PreconditionFailure"].violations[0].type)


def review(stack, on: D) -> None:
    result = stack.run_scheduled(
        d(on.year, on.month, on.day), case_api.SCHEDULED_JOB_ARREARS_WRITE_OFF_REVIEW
    ).results[0]
    assert result.items_failed == 0, result.failures


def close(stack, case, on: D) -> None:
    stack.call(
        "CloseCase",
        case_api.CloseCaseRequest(
            request_id=str(uuid.uuid4()),
            name=case.name,
            reason=pb.CASE_CLOSURE_REASON_APPLICANT_REQUEST,
            effective_date=d(on.year, on.month, on.day),
        ),
    )


def alex_and_sian() -> case_api.CreateCaseRequest:
    """Alex again, paying Siân for Ffion: a second liability of the same paying parent."""
    request = alex_and_bethan(service_type=pb.SERVICE_TYPE_COLLECT_AND_PAY)
    request.receiving_parent.identity.CopyFrom(
        person("AG765432A", "Siân", "Llewellyn-Price", (1983, 5, 17))
    )
    del request.qualifying_children[:]
    request.qualifying_children.add(
        name=common.PersonName(forenames="Ffion", surname="Okafor"),
        date_of_birth=d(2014, 5, 20),
        child_reference_number="AK100003C",
    )
    return request


def test_small_arrears_on_a_closed_case_are_reviewed_once_and_written_off_by_a_team_leader(
    stack, arrears, clock
):
    case = live_case_with_account(stack)
    charge(stack, D(2026, 4, 6))
    receive(stack, clock, case, MONTHLY_DUE - 420, on=D(2026, 4, 6))
    assert refused(arrears, case) == "CASE_OPEN"
    # A caseworker may not decide one at all (the RPC's access policy).
    by_caseworker = error(
        lambda: decide(arrears, case, as_=stack.creds.staff("cw-1", "caseworker"))  # type: ignore[attr-defined]
    )
    assert by_caseworker.code() == grpc.StatusCode.PERMISSION_DENIED

    clock.set(dt.datetime(2026, 4, 26, 9, 0, tzinfo=dt.UTC))
    close(stack, case, D(2026, 4, 26))
    recognise_arrears(stack, clock, case, 500, due=D(2026, 4, 20))
    assert refused(arrears, case) == "ARREARS_TOO_LARGE"  # £9.20
    receive(stack, clock, case, 500, on=D(2026, 4, 26))
    assert balances(stack, case, D(2026, 4, 26)).owed == 420
    assert refused(arrears, case) == "RECENT_PAYMENT"
    review(stack, D(2026, 4, 26))
    assert not srs_of(stack, case, REVIEW)

    # The paying parent is liable on another case: refused while it is live.
    other = stack.new_live_case(alex_and_sian())
    opened(stack, other)
    clock.set(dt.datetime(2026, 7, 26, 9, 0, tzinfo=dt.UTC))  # 91 days after the last payment
    assert refused(arrears, case) == "ONGOING_LIABILITY"
    review(stack, D(2026, 7, 26))
    assert not srs_of(stack, case, REVIEW)
    close(stack, other, D(2026, 7, 26))

    # Now it qualifies: one review SR, not a second while it is open; the other case (no arrears) gets none.
    review(stack, D(2026, 7, 27))
    review(stack, D(2026, 7, 28))
    (sr,) = srs_of(stack, case, REVIEW)
    assert sr.status == pb.SERVICE_REQUEST_STATUS_OPEN
    assert not srs_of(stack, other, REVIEW)
    assert refused(arrears, other) == "NO_ARREARS"

    decision = decide(arrears, case)
    assert decision.reason == apb.WRITE_OFF_REASON_SMALL_ARREARS_CLOSED_CASE
    assert (decision.amount_pence, decision.decided_by, decision.note) == (
        420,
        "tl-1",
        "not worth pursuing",
    )
    assert adjustments(stack, case)[-1][:2] == (money_ev.ADJUSTMENT_KIND_WRITE_OFF, -420)
    assert balances(stack, case, D(2026, 7, 28)).owed == 0
    (event,) = money_events(stack, case.name, "written_off")
    written = money_ev.ArrearsWrittenOff.FromString(event.value)
    assert (written.write_off_decision, written.amount_pence) == (decision.name, 420)
    assert (
        arrears.call("GetWriteOffDecision", api.GetWriteOffDecisionRequest(name=decision.name))
        == decision
    )
    listed = arrears.call(
        "ListWriteOffDecisions", api.ListWriteOffDecisionsRequest(parent=case.name)
    )
    assert list(listed.write_off_decisions) == [decision]
    # Nothing left: refused, and the review raises nothing more.
    assert refused(arrears, case) == "NO_ARREARS"
    review(stack, D(2026, 7, 29))
    assert len(srs_of(stack, case, REVIEW)) == 1
