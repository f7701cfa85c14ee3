"""The pure rules the money contexts' wiring adds: what of a receipt's allocations went to arrears, a period's
Regulation 9 reduction. Unit and property tests (compliance from the ledger: tests/arrears/test_compliance.py)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from cms_casework.accounts import rules
from cms_casework.accounts.rules import Debt

D = dt.date
APRIL, MAY = D(2026, 4, 6), D(2026, 5, 6)
ORDER = rules.DEFAULT_ALLOCATION_ORDER


def debts() -> list[Debt]:
    return [
        Debt(1, rules.MAINTENANCE, APRIL, 416_00),
        Debt(2, rules.PAYING_PARENT_FEE, APRIL, 83_20),
        Debt(3, rules.MAINTENANCE, MAY, 416_00),
        Debt(4, rules.PAYING_PARENT_FEE, MAY, 83_20),
    ]


def test_money_for_the_current_period_is_not_arrears_and_the_rest_is():
    owed = debts()
    current = rules.allocate(416_00, owed, on=MAY, order=ORDER)
    assert rules.arrears_allocated(current, owed, on=MAY) == 0
    more = rules.allocate(500_00, owed, on=MAY, order=ORDER)
    # £416 to May's maintenance, £84 to April's (arrears): fees come after arrears in the default order.
    assert rules.arrears_allocated(more, owed, on=MAY) == 84_00
    # Received the day after May's due date, May's charges are arrears too (as the balances count them); credit
    # never is.
    later = rules.allocate(2_000_00, owed, on=MAY + dt.timedelta(days=1), order=ORDER)
    assert rules.arrears_allocated(later, owed, on=MAY + dt.timedelta(days=1)) == 2 * 499_20
    # On May's own due date only April's are arrears.
    assert rules.arrears_allocated(later, owed, on=MAY) == 499_20


@given(st.integers(min_value=0, max_value=3_000_00), st.sampled_from([APRIL, MAY, D(2026, 6, 1)]))
def test_arrears_allocated_is_never_more_than_the_receipt_nor_the_arrears(amount, on):
    owed = debts()
    allocations = rules.allocate(amount, owed, on=on, order=ORDER)
    taken = rules.arrears_allocated(allocations, owed, on=on)
    arrears = sum(d.outstanding for d in owed if d.due < on)
    assert 0 <= taken <= min(amount, arrears)


def test_a_reduction_is_capped_at_the_maintenance_and_what_is_left_to_recover():
    assert (
        rules.regulation_9_reduction(
            maintenance_pence=290_33, reduction_pence=50_00, overpaid_pence=87_00
        )
        == 50_00
    )
    assert (
        rules.regulation_9_reduction(
            maintenance_pence=290_33, reduction_pence=50_00, overpaid_pence=37_00
        )
        == 37_00
    )
    assert (
        rules.regulation_9_reduction(
            maintenance_pence=290_33, reduction_pence=400_00, overpaid_pence=1_000_00
        )
        == 290_33
    )  # the amount payable is nil, never below
    assert (
        rules.regulation_9_reduction(
            maintenance_pence=290_33, reduction_pence=50_00, overpaid_pence=0
        )
        == 0
    )


@given(
    st.integers(min_value=0, max_value=1_000_00),
    st.integers(min_value=1, max_value=500_00),
    st.integers(min_value=0, max_value=5_000_00),
)
def test_reductions_period_by_period_recover_exactly_the_overpayment(
    maintenance, per_period, overpaid
):
    left, periods = overpaid, 0
    while left and periods <= overpaid:
        cut = rules.regulation_9_reduction(
            maintenance_pence=maintenance, reduction_pence=per_period, overpaid_pence=left
        )
        assert 0 <= cut <= min(per_period, maintenance, left)
        if cut == 0:
            break
        left -= cut
        periods += 1
    assert left == 0 or maintenance == 0
