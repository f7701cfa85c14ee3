"""The account's pure rules (docs/domain/money.md, "The account"): fees by date, allocation, the receiving parent's
fee on collection, balances and statements; worked examples, then property tests over generated ledgers."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cms.casework.v1 import accounts_pb2 as apb
from cms_casework.accounts import rules
from cms_casework.accounts.rules import Debt, Entry, FeeRules, Policy

PROPERTY = settings(max_examples=200, deadline=None)
DAY0 = dt.date(2026, 4, 6)
REFORM = dt.date(2028, 4, 1)
ORDER = rules.DEFAULT_ALLOCATION_ORDER
VIEWS = (
    apb.STATEMENT_VIEW_PAYING_PARENT,
    apb.STATEMENT_VIEW_RECEIVING_PARENT,
    apb.STATEMENT_VIEW_FULL,
)


# -- fees -----------------------------------------------------------------------------------------------------------


def test_todays_fees_are_20_and_4_percent_half_up_per_charge():
    fees = FeeRules()
    assert fees.rates(DAY0) == (2000, 400)
    # docs/domain/money.md §8's example: £247.00 a month -> £49.40 and £9.88.
    assert (rules.fee(24700, 2000), rules.fee(24700, 400)) == (4940, 988)
    assert rules.fee(12, 400) == 0 and rules.fee(13, 400) == 1  # 0.48p down, 0.52p up
    assert rules.fee(1250, 400) == 50 and rules.fee(1262, 400) == 50 and rules.fee(1263, 400) == 51


def test_the_reform_fees_apply_to_charges_due_from_its_date_and_never_when_it_is_unset():
    fees = FeeRules(reform_date=REFORM)
    assert fees.rates(REFORM - dt.timedelta(days=1)) == (2000, 400)
    assert fees.rates(REFORM) == (200, 200)
    assert fees.rates(REFORM, compliant=False) == (2000, 200)
    assert FeeRules().rates(dt.date(2100, 1, 1), compliant=False) == (2000, 400)
    custom = FeeRules(
        reform_date=REFORM, reform_paying_parent_bp=300, reform_receiving_parent_bp=150
    )
    assert custom.rates(REFORM) == (300, 150)
    with pytest.raises(ValueError):
        FeeRules(reform_paying_parent_bp=-1)


def test_the_receiving_parents_fee_taken_in_parts_adds_up_to_the_charges_fee():
    charge, fee = 41600, rules.fee(41600, 400)
    parts = [10000, 333, 20000, 11267]
    taken, collected = [], 0
    for part in parts:
        taken.append(
            rules.receiving_parent_fee_taken(
                charge_pence=charge, fee_pence=fee, collected_before=collected, collected_now=part
            )
        )
        collected += part
    assert taken[0] == 400 and sum(taken) == fee == 1664


# -- allocation -------------------------------------------------------------------------------------------------------


def _debts() -> list[Debt]:
    return [
        Debt(1, rules.MAINTENANCE, dt.date(2026, 4, 6), 41600),
        Debt(2, rules.PAYING_PARENT_FEE, dt.date(2026, 4, 6), 8320),
        Debt(3, rules.MAINTENANCE, dt.date(2026, 5, 6), 41600),
        Debt(4, rules.PAYING_PARENT_FEE, dt.date(2026, 5, 6), 8320),
        Debt(5, rules.BACKDATED, dt.date(2026, 4, 6), 5000),
    ]


def test_by_default_current_maintenance_then_arrears_oldest_first_then_fees_then_credit():
    out = rules.allocate(110000, _debts(), on=dt.date(2026, 5, 10), order=ORDER)
    assert [(a.target, a.amount, a.covers) for a in out] == [
        (rules.CURRENT, 41600, 3),
        (rules.ARREARS, 41600, 1),
        (rules.ARREARS, 5000, 5),
        (rules.FEES, 8320, 2),
        (rules.FEES, 8320, 4),
        (rules.CREDIT, 5160, None),
    ]


def test_the_order_is_a_setting_and_charges_not_yet_due_are_not_paid():
    out = rules.allocate(
        20000,
        _debts(),
        on=dt.date(2026, 4, 30),
        order=("COLLECTION_FEES", "ARREARS", "CURRENT_MAINTENANCE"),
    )
    # On 30 April the May charge is not due; the April charge is the current one.
    assert [(a.target, a.amount, a.covers) for a in out] == [
        (rules.FEES, 8320, 2),
        (rules.ARREARS, 5000, 5),
        (rules.CURRENT, 6680, 1),
    ]
    with pytest.raises(ValueError):
        Policy(allocation_order=("ARREARS", "CURRENT_MAINTENANCE"))
    with pytest.raises(ValueError):
        Policy(allocation_order=("ARREARS", "ARREARS", "COLLECTION_FEES"))


def test_a_paid_current_charge_leaves_older_unpaid_ones_as_arrears():
    debts = [
        Debt(1, rules.MAINTENANCE, dt.date(2026, 4, 6), 100),
        Debt(2, rules.MAINTENANCE, dt.date(2026, 5, 6), 0),
    ]
    out = rules.allocate(50, debts, on=dt.date(2026, 5, 6), order=ORDER)
    assert [(a.target, a.covers) for a in out] == [(rules.ARREARS, 1)]


def test_a_regulation_8_offset_covers_arrears_oldest_first_and_never_a_charge_not_yet_overdue():
    # Decided on 6 May: the May charge falls due that day, so it is not arrears; April's maintenance and the
    # backdated amount are, then April's fee.
    out = rules.offset_against_arrears(50000, _debts(), on=dt.date(2026, 5, 6))
    assert [(a.target, a.amount, a.covers) for a in out] == [
        (rules.ARREARS, 5000, 5),
        (rules.CURRENT, 41600, 1),
        (rules.FEES, 3400, 2),
    ]
    with pytest.raises(ValueError):  # more than the 549.20 due before 6 May
        rules.offset_against_arrears(54921, _debts(), on=dt.date(2026, 5, 6))


def test_an_adjustment_may_not_cover_more_than_is_owed():
    assert sum(a.amount for a in rules.cover(10000, _debts(), order=ORDER)) == 10000
    with pytest.raises(ValueError):
        rules.cover(10**9, _debts(), order=ORDER)


# -- a ledger driven through the rules, as accounts.service drives them ----------------------------------------------


class Ledger:
    """The service's postings over an in-memory list: charges with fees, receipts allocated, credit applied,
    adjustments and payments out."""

    def __init__(self, policy: Policy = Policy()):
        self.entries: list[Entry] = []
        self.fee_of: dict[int, int] = {}
        self.policy = policy
        self.receipts: dict[str, int] = {}

    def _add(self, **kw) -> Entry:
        entry = Entry(id=len(self.entries) + 1, **kw)
        self.entries.append(entry)
        return entry

    def charge(self, amount: int, due: dt.date, *, compliant: bool = True) -> None:
        paying_bp, receiving_bp = self.policy.fees.rates(due, compliant=compliant)
        charge = self._add(kind=rules.MAINTENANCE, amount=amount, effective=due)
        self.fee_of[charge.id] = rules.fee(amount, receiving_bp)
        if rules.fee(amount, paying_bp):
            self._add(
                kind=rules.PAYING_PARENT_FEE, amount=rules.fee(amount, paying_bp), effective=due
            )

    def _allocate(self, amount: int, on: dt.date, source: str, receipt: str, credit: bool) -> int:
        by_id = {e.id: e for e in self.entries}
        collected: dict[int, int] = {}
        for e in self.entries:
            if e.kind == rules.ALLOCATION and e.covers is not None and e.source in rules.CASH:
                collected[e.covers] = collected.get(e.covers, 0) + e.amount
        allocations = rules.allocate(
            amount, rules.debts_of(self.entries), on=on, order=self.policy.allocation_order
        )
        spent = 0
        for a in allocations:
            if a.target == rules.CREDIT and not credit:
                continue
            spent += a.amount
            self._add(
                kind=rules.ALLOCATION,
                amount=a.amount,
                effective=on,
                target=a.target,
                covers=a.covers,
                source=source,
                receipt=receipt,
            )
            charge = by_id.get(a.covers) if a.covers is not None else None
            if charge is not None and charge.kind != rules.PAYING_PARENT_FEE:
                fee = rules.receiving_parent_fee_taken(
                    charge_pence=charge.amount,
                    fee_pence=self.fee_of.get(charge.id, 0),
                    collected_before=collected.get(charge.id, 0),
                    collected_now=a.amount,
                )
                collected[charge.id] = collected.get(charge.id, 0) + a.amount
                if fee:
                    self._add(kind=rules.RECEIVING_PARENT_FEE, amount=fee, effective=on)
        return spent

    def receive(self, amount: int, on: dt.date) -> None:
        receipt = f"r{len(self.receipts)}"
        self.receipts[receipt] = amount
        self._add(kind=rules.RECEIPT, amount=amount, effective=on, receipt=receipt)
        self._allocate(amount, on, rules.FROM_RECEIPT, receipt, credit=True)

    def apply_credit(self, on: dt.date) -> None:
        held = rules.balances(self.entries, as_of=dt.date.max).held_credit
        if held > 0:
            spent = self._allocate(held, on, rules.FROM_CREDIT, "", credit=False)
            if spent:
                self._add(
                    kind=rules.ALLOCATION,
                    amount=-spent,
                    effective=on,
                    target=rules.CREDIT,
                    source=rules.FROM_CREDIT,
                )

    def write_off(self, amount: int, on: dt.date) -> None:
        owed = rules.balances(self.entries, as_of=dt.date.max).owed
        amount = min(amount, owed)
        if amount <= 0:
            return
        debts = rules.debts_of(self.entries)
        self._add(kind=rules.ADJUSTMENT, amount=-amount, effective=on, adjustment=rules.WRITE_OFF)
        for a in rules.cover(amount, debts, order=self.policy.allocation_order):
            self._add(
                kind=rules.ALLOCATION,
                amount=a.amount,
                effective=on,
                target=a.target,
                covers=a.covers,
                source=rules.FROM_ADJUSTMENT,
            )

    def refund(self, amount: int, on: dt.date) -> None:
        amount = min(amount, rules.balances(self.entries, as_of=dt.date.max).held_credit)
        if amount > 0:
            self._add(kind=rules.ADJUSTMENT, amount=-amount, effective=on, adjustment=rules.REFUND)

    def pay_out(self, on: dt.date) -> None:
        payable = rules.balances(self.entries, as_of=on).payable_to_receiving_parent
        if payable > 0:
            self._add(kind=rules.PAYMENT_OUT, amount=payable, effective=on)


operations = st.lists(
    st.tuples(
        st.sampled_from(["charge", "receive", "credit", "write_off", "refund", "pay"]),
        st.integers(min_value=1, max_value=200_000),
        st.integers(min_value=0, max_value=400),
    ),
    max_size=40,
)
orders = st.permutations(rules.ORDERABLE).map(tuple)


def _run(ops, order, *, reform: bool = False) -> Ledger:
    ledger = Ledger(
        Policy(
            fees=FeeRules(reform_date=DAY0 + dt.timedelta(days=200) if reform else None),
            allocation_order=order,
        )
    )
    day = DAY0
    for op, amount, days in sorted(ops, key=lambda o: o[2]):
        day = DAY0 + dt.timedelta(days=days)
        if op == "charge":
            ledger.charge(amount, day, compliant=amount % 2 == 0)
        elif op == "receive":
            ledger.receive(amount, day)
        elif op == "credit":
            ledger.apply_credit(day)
        elif op == "write_off":
            ledger.write_off(amount, day)
        elif op == "refund":
            ledger.refund(amount, day)
        else:
            ledger.pay_out(day)
    return ledger


@PROPERTY
@given(operations, orders, st.booleans())
def test_every_penny_received_is_allocated(ops, order, reform):
    ledger = _run(ops, order, reform=reform)
    for receipt, amount in ledger.receipts.items():
        allocated = [
            e for e in ledger.entries if e.kind == rules.ALLOCATION and e.receipt == receipt
        ]
        assert sum(e.amount for e in allocated) == amount
        assert all(e.amount > 0 and e.source == rules.FROM_RECEIPT for e in allocated)
    b = rules.balances(ledger.entries, as_of=dt.date.max)
    # Money in is applied to charges, held as credit, or refunded: nothing else.
    assert b.received == b.allocated + b.held_credit + b.refunded
    assert b.held_credit >= 0 and b.owed >= 0 and b.payable_to_receiving_parent >= 0


@PROPERTY
@given(operations, orders, st.booleans())
def test_each_balance_equals_its_entries(ops, order, reform):
    entries = _run(ops, order, reform=reform).entries

    def total(*kinds: int) -> int:
        return sum(e.amount for e in entries if e.kind in kinds)

    b = rules.balances(entries, as_of=dt.date.max)
    assert b.maintenance_charged == total(rules.MAINTENANCE, rules.BACKDATED)
    assert b.paying_parent_fees == total(rules.PAYING_PARENT_FEE)
    assert b.received == total(rules.RECEIPT)
    assert b.receiving_parent_fees == total(rules.RECEIVING_PARENT_FEE)
    assert b.paid_out == total(rules.PAYMENT_OUT)
    debts = rules.debts_of(entries)
    assert all(d.outstanding >= 0 for d in debts)
    assert b.owed == sum(d.outstanding for d in debts)
    assert b.arrears == sum(d.outstanding for d in debts if d.due < dt.date.max)
    collected = sum(
        e.amount
        for e in entries
        if e.kind == rules.ALLOCATION
        and e.source in rules.CASH
        and e.target in (rules.CURRENT, rules.ARREARS)
    )
    assert b.payable_to_receiving_parent == collected - b.receiving_parent_fees - b.paid_out
    # The receiving parent's fee never exceeds the fee of what was collected.
    assert b.receiving_parent_fees <= rules.fee(collected, 400) + len(entries)
    for view in VIEWS:
        _, _, closing = rules.statement(entries, view=view, since=DAY0, as_of=dt.date.max)
        assert closing == rules.view_balance(b, view)


@PROPERTY
@given(operations, orders, st.integers(min_value=0, max_value=400), st.randoms())
def test_rebuilding_from_the_entries_gives_the_same_balances(ops, order, days, rnd):
    entries = _run(ops, order).entries
    as_of = DAY0 + dt.timedelta(days=days)
    shuffled = list(entries)
    rnd.shuffle(shuffled)
    # As the service reads them back: fields only, rebuilt, in any order.
    stored = [Entry(**{f: getattr(e, f) for f in Entry._fields}) for e in shuffled]
    assert rules.balances(stored, as_of=as_of) == rules.balances(entries, as_of=as_of)
    # A statement from any date reaches the same closing balance, its opening carrying the earlier lines.
    for view in VIEWS:
        opening, lines, closing = rules.statement(
            entries, view=view, since=as_of, as_of=dt.date.max
        )
        _, _, whole = rules.statement(entries, view=view, since=dt.date.min, as_of=dt.date.max)
        assert closing == whole and opening + sum(line.amount for line in lines) == closing


def test_a_worked_month_pays_the_receiving_parent_net_of_their_fee():
    ledger = Ledger()
    ledger.charge(41600, DAY0)
    ledger.receive(49920, DAY0)
    b = rules.balances(ledger.entries, as_of=DAY0)
    assert (b.owed, b.held_credit, b.receiving_parent_fees) == (0, 0, 1664)
    assert b.payable_to_receiving_parent == 39936
    ledger.pay_out(DAY0)
    assert rules.balances(ledger.entries, as_of=DAY0).nil


def test_credit_held_pays_a_later_charge():
    ledger = Ledger()
    ledger.receive(60000, DAY0)
    assert rules.balances(ledger.entries, as_of=DAY0).held_credit == 60000
    ledger.charge(41600, DAY0 + dt.timedelta(days=30))
    ledger.apply_credit(DAY0 + dt.timedelta(days=30))
    b = rules.balances(ledger.entries, as_of=DAY0 + dt.timedelta(days=30))
    assert (b.owed, b.held_credit) == (0, 60000 - 49920)


def test_statements_show_each_side_only_its_own_lines():
    ledger = Ledger()
    ledger.charge(41600, DAY0)
    ledger.receive(20000, DAY0 + dt.timedelta(days=3))
    ledger.pay_out(DAY0 + dt.timedelta(days=4))
    kinds = {
        view: {
            line.entry.kind
            for line in rules.statement(ledger.entries, view=view, since=DAY0, as_of=dt.date.max)[1]
        }
        for view in VIEWS
    }
    assert rules.PAYING_PARENT_FEE in kinds[apb.STATEMENT_VIEW_PAYING_PARENT]
    assert rules.RECEIVING_PARENT_FEE not in kinds[apb.STATEMENT_VIEW_PAYING_PARENT]
    assert rules.PAYMENT_OUT not in kinds[apb.STATEMENT_VIEW_PAYING_PARENT]
    assert rules.PAYING_PARENT_FEE not in kinds[apb.STATEMENT_VIEW_RECEIVING_PARENT]
    assert rules.RECEIPT not in kinds[apb.STATEMENT_VIEW_RECEIVING_PARENT]
    assert {rules.RECEIVING_PARENT_FEE, rules.PAYMENT_OUT} <= kinds[
        apb.STATEMENT_VIEW_RECEIVING_PARENT
    ]
    assert kinds[apb.STATEMENT_VIEW_FULL] == {e.kind for e in ledger.entries}
    # What the paying parent owes after paying £200 of £499.20.
    assert (
        rules.statement(
            ledger.entries, view=apb.STATEMENT_VIEW_PAYING_PARENT, since=DAY0, as_of=dt.date.max
        )[2]
        == 29920
    )
