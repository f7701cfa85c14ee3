"""A paying parent's compliance from the ledger (docs/domain/money.md, "Write-offs, deaths and compliance"): the pure
rule (unit and property tests) and GetComplianceStatus through the running stack, flipping to NON_COMPLIANT with a
payment made after the due date and its grace days, and back once that charge leaves the rolling window."""

from __future__ import annotations

import datetime as dt

import grpc
from hypothesis import given
from hypothesis import strategies as st

from cms.casework.v1 import arrears_pb2 as apb
from cms.casework.v1 import arrears_service_pb2 as api
from cms_casework.arrears import estates, rules
from cms_casework.arrears.rules import DueCharge
from cms_casework.settings import CaseworkSettings

from ..conftest import d, error
from .conftest import client_of
from .helpers import MONTHLY_DUE, charge, live_case_with_account, receive

D = dt.date
ON = D(2026, 7, 1)

# -- the rule ------------------------------------------------------------------------------------------------------


def status(charges, *, as_of=ON, window=90, grace=3) -> rules.Compliance:
    return rules.compliance(charges, as_of=as_of, window_days=window, grace_days=grace)


def test_paid_by_the_due_date_plus_grace_is_on_time_and_later_is_not():
    due = D(2026, 6, 6)
    on_time = DueCharge(due, 500, ((D(2026, 6, 9), 500),))
    late = DueCharge(due, 500, ((D(2026, 6, 10), 500),))
    part = DueCharge(due, 500, ((D(2026, 6, 6), 499), (D(2026, 6, 20), 1)))
    assert status([on_time]).state == rules.COMPLIANT
    found = status([on_time, late, part])
    assert found.state == rules.NON_COMPLIANT
    assert (found.charges_due, found.charges_paid_on_time, found.first_missed) == (3, 1, due)
    # A charge whose grace days have not run out yet is not judged.
    assert status([late], as_of=D(2026, 6, 9)).state == rules.NO_HISTORY
    assert status([late], as_of=D(2026, 6, 10)).state == rules.NON_COMPLIANT
    # Out of the window, and a window of 0 days, judge nothing.
    assert status([late], as_of=D(2026, 9, 4)).state == rules.NO_HISTORY
    assert status([late], window=0).state == rules.NO_HISTORY
    assert status([]).state == rules.NO_HISTORY
    assert rules.counts_as_compliant(rules.NO_HISTORY)
    assert not rules.counts_as_compliant(rules.NON_COMPLIANT)


charges_st = st.lists(
    st.builds(
        DueCharge,
        st.dates(min_value=D(2026, 1, 1), max_value=D(2026, 8, 1)),
        st.integers(min_value=1, max_value=10_000),
        st.lists(
            st.tuples(
                st.dates(min_value=D(2026, 1, 1), max_value=D(2026, 9, 1)),
                st.integers(min_value=1, max_value=10_000),
            ),
            max_size=3,
        ).map(tuple),
    ),
    max_size=8,
)


@given(charges_st, st.integers(min_value=0, max_value=200), st.integers(min_value=0, max_value=10))
def test_the_counts_add_up_and_the_state_follows_them(charges, window, grace):
    found = status(charges, window=window, grace=grace)
    assert 0 <= found.charges_paid_on_time <= found.charges_due
    if found.charges_due == 0:
        assert found.state == rules.NO_HISTORY and found.first_missed is None
    elif found.charges_paid_on_time == found.charges_due:
        assert found.state == rules.COMPLIANT and found.first_missed is None
    else:
        assert found.state == rules.NON_COMPLIANT
        assert found.first_missed is not None and found.window_start < found.first_missed <= ON


@given(charges_st, st.integers(min_value=0, max_value=200))
def test_paying_earlier_never_makes_a_parent_less_compliant(charges, window):
    before = status(charges, window=window)
    # Every charge paid in full on its due date.
    paid = [DueCharge(c.due, c.amount_pence, ((c.due, c.amount_pence),)) for c in charges]
    after = status(paid, window=window)
    assert after.charges_due == before.charges_due
    assert after.charges_paid_on_time == after.charges_due
    assert after.state != rules.NON_COMPLIANT


# -- through the stack ---------------------------------------------------------------------------------------------


def test_compliance_flips_with_a_late_payment_and_back_once_it_leaves_the_window(
    stack, arrears, clock
):
    case = live_case_with_account(stack)
    client = case.paying_parent.name

    def now() -> apb.ComplianceStatus:
        found = arrears.call("GetComplianceStatus", api.GetComplianceStatusRequest(client=client))
        # The reform's what-if asks a page of parents at once: the batched read agrees with the RPC and the
        # one-case read every time.
        client_id, case_id = client_of(client), case.name.removeprefix("cases/")
        on = clock.today()
        with stack.casework.sessions() as s:
            one = estates.compliant(s, case_id, on)
            many = estates.paying_parents_compliant(s, [client_id, "no-such-client"], on)
        ok = rules.counts_as_compliant(
            apb.ComplianceState.Name(found.state).removeprefix("COMPLIANCE_STATE_")
        )
        assert one == many[client_id] == ok and many["no-such-client"] is True
        return found

    def at(day: D) -> None:
        clock.set(dt.datetime(day.year, day.month, day.day, 9, 0, tzinfo=dt.UTC))

    charge(stack, D(2026, 4, 6))
    assert now().state == apb.COMPLIANCE_STATE_NO_HISTORY
    receive(stack, clock, case, MONTHLY_DUE, on=D(2026, 4, 6))
    at(D(2026, 4, 10))
    first = now()
    assert first.state == apb.COMPLIANCE_STATE_COMPLIANT
    # The maintenance charge and its collection fee, both paid on time.
    assert (first.charges_due, first.charges_paid_on_time, first.window_days) == (2, 2, 90)
    assert (first.grace_days, first.as_of_date, first.window_start_date) == (
        3,
        d(2026, 4, 10),
        d(2026, 1, 10),
    )

    at(D(2026, 5, 6))
    charge(stack, D(2026, 5, 6))
    at(D(2026, 5, 12))
    receive(stack, clock, case, MONTHLY_DUE, on=D(2026, 5, 12))  # 3 days' grace ran out on 9 May
    late = now()
    assert late.state == apb.COMPLIANCE_STATE_NON_COMPLIANT
    assert (late.charges_due, late.charges_paid_on_time) == (4, 2)
    assert late.first_missed_due_date == d(2026, 5, 6)

    def pay_on_time(month: int) -> None:
        at(D(2026, month, 6))
        charge(stack, D(2026, month, 6))
        receive(stack, clock, case, MONTHLY_DUE, on=D(2026, month, 6))

    pay_on_time(6)
    pay_on_time(7)
    at(D(2026, 8, 3))
    assert now().state == apb.COMPLIANCE_STATE_NON_COMPLIANT  # 6 May is still within the 90 days
    pay_on_time(8)
    at(D(2026, 8, 10))
    back = now()
    assert back.state == apb.COMPLIANCE_STATE_COMPLIANT
    assert (back.charges_due, back.charges_paid_on_time) == (6, 6)
    assert not back.HasField("first_missed_due_date")

    # Caseworkers and team leaders see it; the paying parent does not (the RPC's access policy).
    assert (
        arrears.call(
            "GetComplianceStatus",
            api.GetComplianceStatusRequest(client=client),
            as_=stack.team_leader(),
        ).state
        == apb.COMPLIANCE_STATE_COMPLIANT
    )
    own = error(
        lambda: arrears.call(
            "GetComplianceStatus",
            api.GetComplianceStatusRequest(client=client),
            as_=stack.creds.client(client_of(client)),  # type: ignore[attr-defined]
            attempts=1,
        )
    )
    assert own.code() == grpc.StatusCode.PERMISSION_DENIED
    unknown = error(
        lambda: arrears.call(
            "GetComplianceStatus",
            api.GetComplianceStatusRequest(client=case.receiving_parent.name),
            attempts=1,
        )
    )
    assert unknown.code() == grpc.StatusCode.NOT_FOUND  # not a paying parent


def test_the_window_setting_keeps_the_deprecated_alias_working(monkeypatch):
    monkeypatch.delenv("CASEWORK_COMPLIANCE_WINDOW_DAYS", raising=False)
    monkeypatch.delenv("CASEWORK_ARREARS_NON_COMPLIANCE_DAYS", raising=False)
    assert CaseworkSettings().compliance_window == 90
    monkeypatch.setenv("CASEWORK_ARREARS_NON_COMPLIANCE_DAYS", "45")
    assert CaseworkSettings().compliance_window == 45
    monkeypatch.setenv("CASEWORK_COMPLIANCE_WINDOW_DAYS", "60")
    assert CaseworkSettings().compliance_window == 60  # the new setting wins
