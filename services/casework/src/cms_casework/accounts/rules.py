"""The Collect & Pay account as pure rules (docs/domain/money.md, "The account"): collection fees by date, the
allocation of money to what is due, the receiving parent's fee on what is collected, and the balances and statement
lines folded from the ledger's entries.

Pure domain logic: no gRPC, no SQL, no clock. Money is integer pence throughout and never a float.

- Fees (Fees Regs 2014 reg 7): 20% on top of each maintenance charge for the paying parent and 4% off maintenance
  collected for the receiving parent; from the reform date (a setting; unset = never) 2% and 2%, with 20% for a
  non-compliant paying parent. Each fee is rounded half-up to the penny per charge.
- Allocation (MPA Regs 2009 reg 4: the CMS "may allocate as it thinks fit"): in the configured order of current
  maintenance, arrears (oldest first) and collection fees (oldest first); what is left is held as credit, so every
  penny received is allocated.
- The receiving parent's fee is taken as the charge is collected: after collecting c of a charge m whose fee is f,
  round_half_up(c x f / m) has been taken in all, so a charge collected in parts costs exactly its fee.
- Enforcement charges (Child Support Fees Regulations 2014 reg 10) are a debt of their own, collected only after
  maintenance, arrears and collection fees whatever the configured order, and never counted as arrears.
- Balances are never stored: each is a sum over entries, and the same entries give the same balances in any order.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, TypeAlias

from cms.casework.v1 import accounts_pb2 as apb
from cms.casework.v1 import money_events_pb2 as mev

K = mev.LedgerEntryKind
T = mev.AllocationTarget
A = mev.AdjustmentKind
Kind: TypeAlias = mev.LedgerEntryKind.ValueType
Target: TypeAlias = mev.AllocationTarget.ValueType
Adjustment: TypeAlias = mev.AdjustmentKind.ValueType
View: TypeAlias = apb.StatementView.ValueType

MAINTENANCE = mev.LEDGER_ENTRY_KIND_MAINTENANCE_CHARGE
BACKDATED = mev.LEDGER_ENTRY_KIND_BACKDATED_MAINTENANCE_CHARGE
PAYING_PARENT_FEE = mev.LEDGER_ENTRY_KIND_PAYING_PARENT_FEE
RECEIVING_PARENT_FEE = mev.LEDGER_ENTRY_KIND_RECEIVING_PARENT_FEE
RECEIPT = mev.LEDGER_ENTRY_KIND_RECEIPT
ALLOCATION = mev.LEDGER_ENTRY_KIND_ALLOCATION
PAYMENT_OUT = mev.LEDGER_ENTRY_KIND_PAYMENT_OUT
ADJUSTMENT = mev.LEDGER_ENTRY_KIND_ADJUSTMENT
ENFORCEMENT_CHARGE = mev.LEDGER_ENTRY_KIND_ENFORCEMENT_CHARGE

CURRENT = mev.ALLOCATION_TARGET_CURRENT_MAINTENANCE
ARREARS = mev.ALLOCATION_TARGET_ARREARS
FEES = mev.ALLOCATION_TARGET_COLLECTION_FEES
CREDIT = mev.ALLOCATION_TARGET_CREDIT
ENFORCEMENT_CHARGES = mev.ALLOCATION_TARGET_ENFORCEMENT_CHARGES

REG8 = mev.ADJUSTMENT_KIND_REGULATION_8_OFFSET
WRITE_OFF = mev.ADJUSTMENT_KIND_WRITE_OFF
REFUND = mev.ADJUSTMENT_KIND_REFUND
ARREARS_RECOGNISED = mev.ADJUSTMENT_KIND_ARREARS_RECOGNISED
BACKDATED_OVERPAYMENT = mev.ADJUSTMENT_KIND_BACKDATED_OVERPAYMENT
REG9 = mev.ADJUSTMENT_KIND_REGULATION_9_REDUCTION
CHARGE_REVERSED = mev.ADJUSTMENT_KIND_CHARGE_REVERSED
CHARGE_WAIVER = mev.ADJUSTMENT_KIND_ENFORCEMENT_CHARGE_WAIVER

# Where an allocation's money came from.
FROM_RECEIPT, FROM_CREDIT, FROM_ADJUSTMENT = "RECEIPT", "CREDIT", "ADJUSTMENT"
CASH = (FROM_RECEIPT, FROM_CREDIT)

# Adjustments that lower what is owed by covering charges (as allocations FROM_ADJUSTMENT). A Regulation 9
# reduction is posted only by the charge run, a charge reversed only by a case's closure and an enforcement charge
# waiver only by the enforcement context (Fees Regs 2014 reg 12); none goes through PostAdjustment (none has an
# ADJUSTMENT_SIGN).
COVERING = (REG8, WRITE_OFF, REG9, CHARGE_REVERSED, CHARGE_WAIVER)
# The sign each adjustment kind takes (AdjustmentKind).
ADJUSTMENT_SIGN = {
    REG8: -1,
    WRITE_OFF: -1,
    REFUND: -1,
    ARREARS_RECOGNISED: 1,
    BACKDATED_OVERPAYMENT: -1,
}

# Orderable targets. Enforcement charges always come after these, and CREDIT is always what is left, last (MPA Regs
# 2009 reg 4; docs/domain/money.md, "Enforcement").
ORDERABLE = ("CURRENT_MAINTENANCE", "ARREARS", "COLLECTION_FEES")
DEFAULT_ALLOCATION_ORDER = ORDERABLE


def half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half-up, exactly (numerator >= 0, denominator > 0)."""
    return (2 * numerator + denominator) // (2 * denominator)


# -- fees ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeeRules:
    """Collection fees in basis points (1% = 100). Today's are the law's (Fees Regs 2014 reg 7); the reform's are
    parameters (announced, not legislated) in force from `reform_date` (None: never)."""

    paying_parent_bp: int = 2000
    receiving_parent_bp: int = 400
    reform_date: dt.date | None = None
    reform_paying_parent_bp: int = 200
    reform_receiving_parent_bp: int = 200
    reform_non_compliant_paying_parent_bp: int = 2000

    def __post_init__(self) -> None:
        for name in (
            "paying_parent_bp",
            "receiving_parent_bp",
            "reform_paying_parent_bp",
            "reform_receiving_parent_bp",
            "reform_non_compliant_paying_parent_bp",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10000:
                raise ValueError(
                    f"{name} must be whole basis points from 0 to 10000, not {value!r}"
                )

    def rates(self, on: dt.date, *, compliant: bool = True) -> tuple[int, int]:
        """(paying parent's, receiving parent's) fee in basis points for a charge due on `on`."""
        if self.reform_date is None or on < self.reform_date:
            return self.paying_parent_bp, self.receiving_parent_bp
        paying = (
            self.reform_paying_parent_bp
            if compliant
            else self.reform_non_compliant_paying_parent_bp
        )
        return paying, self.reform_receiving_parent_bp


def fee(amount_pence: int, basis_points: int) -> int:
    """A fee on a charge, half-up to the penny."""
    if amount_pence < 0:
        raise ValueError("a fee is on a charge of 0 or more")
    return half_up(amount_pence * basis_points, 10000)


def receiving_parent_fee_taken(
    *, charge_pence: int, fee_pence: int, collected_before: int, collected_now: int
) -> int:
    """The receiving parent's fee on `collected_now` more of a charge whose whole fee is `fee_pence`: what brings the
    fee taken in all to round_half_up(collected x fee / charge)."""
    if charge_pence <= 0:
        return 0

    def taken(collected: int) -> int:
        return half_up(min(collected, charge_pence) * fee_pence, charge_pence)

    return taken(collected_before + collected_now) - taken(collected_before)


# -- allocation ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """The account's settings: the fees and the allocation order (names of AllocationTarget without the prefix)."""

    fees: FeeRules = field(default_factory=FeeRules)
    allocation_order: tuple[str, ...] = DEFAULT_ALLOCATION_ORDER

    def __post_init__(self) -> None:
        order = tuple(self.allocation_order)
        if sorted(order) != sorted(ORDERABLE):
            raise ValueError(
                f"the allocation order must name each of {', '.join(ORDERABLE)} once, not {order!r}"
            )
        object.__setattr__(self, "allocation_order", order)


class Debt(NamedTuple):
    """A charge (maintenance, a fee, recognised arrears) and what of it no allocation has covered yet."""

    entry_id: int
    kind: Kind  # MAINTENANCE, BACKDATED, PAYING_PARENT_FEE, ENFORCEMENT_CHARGE or ADJUSTMENT (recognised arrears)
    due: dt.date
    outstanding: int

    @property
    def is_fee(self) -> bool:
        return self.kind == PAYING_PARENT_FEE

    @property
    def is_enforcement(self) -> bool:
        return self.kind == ENFORCEMENT_CHARGE


@dataclass(frozen=True)
class Allocation:
    target: Target
    amount: int
    covers: int | None = None  # the debt's entry id; None for credit


def _targets(debts: Sequence[Debt], on: dt.date) -> dict[str, list[Debt]]:
    due = sorted((d for d in debts if d.due <= on), key=lambda d: (d.due, d.entry_id))
    scheduled = [d for d in due if d.kind == MAINTENANCE]
    # The current period's charge is the latest due, paid or not: an older one unpaid is arrears.
    current = scheduled[-1] if scheduled else None
    due = [d for d in due if d.outstanding > 0]
    return {
        "CURRENT_MAINTENANCE": [current] if current and current.outstanding > 0 else [],
        "ARREARS": [d for d in due if not d.is_fee and not d.is_enforcement and d is not current],
        "COLLECTION_FEES": [d for d in due if d.is_fee],
        "ENFORCEMENT_CHARGES": [d for d in due if d.is_enforcement],
    }


_TARGET = {
    "CURRENT_MAINTENANCE": CURRENT,
    "ARREARS": ARREARS,
    "COLLECTION_FEES": FEES,
    "ENFORCEMENT_CHARGES": ENFORCEMENT_CHARGES,
}


def allocate(
    amount_pence: int,
    debts: Sequence[Debt],
    *,
    on: dt.date,
    order: Sequence[str],
    enforcement_charges: bool = True,
) -> list[Allocation]:
    """Where `amount_pence` received on `on` goes: to the debts due by then, in `order` (current maintenance = the
    latest scheduled charge due; arrears = every other maintenance charge due, oldest first; fees oldest first),
    then to enforcement charges, oldest first, always after all of those (unless `enforcement_charges` is False);
    the rest is credit. The allocations add up to the amount exactly."""
    if amount_pence < 0:
        raise ValueError("an amount to allocate is 0 or more")
    left = amount_pence
    out: list[Allocation] = []
    targets = _targets(debts, on)
    last = ("ENFORCEMENT_CHARGES",) if enforcement_charges else ()
    for name in (*order, *last):
        for debt in targets[name]:
            if left == 0:
                break
            take = min(left, debt.outstanding)
            out.append(Allocation(_TARGET[name], take, debt.entry_id))
            left -= take
    if left:
        out.append(Allocation(CREDIT, left))
    return out


def cover(amount_pence: int, debts: Sequence[Debt], *, order: Sequence[str]) -> list[Allocation]:
    """An adjustment lowering what is owed (a write-off, an offset) covers debts as money would, whatever their due
    date, but never an enforcement charge (only a waiver covers one: `enforcement_waiver`); ValueError when the debts
    owe less than the amount."""
    latest = max((d.due for d in debts), default=dt.date.min)
    allocations = allocate(amount_pence, debts, on=latest, order=order, enforcement_charges=False)
    if any(a.target == CREDIT for a in allocations):
        raise ValueError("the adjustment is more than is owed")
    return allocations


# A Regulation 8 offset is set against arrears: what fell due before the decision, maintenance oldest first (the
# latest period's charge too, once it is overdue), collection fees last.
OFFSET_ORDER = ("ARREARS", "CURRENT_MAINTENANCE", "COLLECTION_FEES")


def offset_against_arrears(
    amount_pence: int, debts: Sequence[Debt], *, on: dt.date
) -> list[Allocation]:
    """Where a Regulation 8 offset of `amount_pence` decided on `on` goes: only debts due before that day (arrears,
    as the balances count them), never a charge not yet due; ValueError when the arrears are less than the amount."""
    allocations = allocate(
        amount_pence,
        debts,
        on=on - dt.timedelta(days=1),
        order=OFFSET_ORDER,
        enforcement_charges=False,
    )
    if any(a.target == CREDIT for a in allocations):
        raise ValueError("the offset is more than the arrears")
    return allocations


def enforcement_waiver(debt: Debt) -> list[Allocation]:
    """A waiver of an enforcement charge (Fees Regs 2014 reg 12) covers what is still outstanding of it; ValueError
    when it is not an enforcement charge or nothing of it is outstanding."""
    if not debt.is_enforcement:
        raise ValueError("only an enforcement charge is waived")
    if debt.outstanding <= 0:
        raise ValueError("nothing of the charge is outstanding")
    return [Allocation(ENFORCEMENT_CHARGES, debt.outstanding, debt.entry_id)]


def coverable(debts: Iterable[Debt]) -> int:
    """What an adjustment lowering what is owed (not a waiver) can cover: every debt but enforcement charges."""
    return sum(d.outstanding for d in debts if not d.is_enforcement and d.outstanding > 0)


def arrears_allocated(
    allocations: Iterable[Allocation], debts: Sequence[Debt], *, on: dt.date
) -> int:
    """What of the allocations of money received on `on` went to charges due before that day: the arrears it paid
    (maintenance and fees alike, as the balances count arrears), never the current period's charge, an enforcement
    charge or credit."""
    due = {d.entry_id: d.due for d in debts if not d.is_enforcement}
    return sum(a.amount for a in allocations if a.covers is not None and due.get(a.covers, on) < on)


def regulation_9_reduction(
    *, maintenance_pence: int, reduction_pence: int, overpaid_pence: int
) -> int:
    """A period's maintenance reduced to recover an overpayment (MPA Regs 2009 reg 9): the decided reduction, no
    more than the maintenance (so the amount payable is never below nil) nor than the overpayment still to recover
    (so the last period takes what is left)."""
    return max(0, min(reduction_pence, maintenance_pence, overpaid_pence))


# -- balances -----------------------------------------------------------------------------------------------------


class Entry(NamedTuple):
    """A ledger entry as the rules see it (a tuple: a ten-year ledger is read thousands at a time). `amount` is
    signed as LedgerEntryPosted says."""

    id: int
    kind: Kind
    amount: int
    effective: dt.date
    target: Target = mev.ALLOCATION_TARGET_UNSPECIFIED
    covers: int | None = None
    source: str = ""
    adjustment: Adjustment = mev.ADJUSTMENT_KIND_UNSPECIFIED
    receipt: str = ""


class Group(NamedTuple):
    """What the balances and statements look at in an entry besides its amount: entries of one group move every
    balance alike, so sums by group (a database's GROUP BY) give the same balances as the entries one by one."""

    kind: Kind
    target: Target
    source: str
    adjustment: Adjustment


def group_of(entry: Entry) -> Group:
    return Group(entry.kind, entry.target, entry.source, entry.adjustment)


def is_debt(entry: Entry | Group) -> bool:
    return entry.kind in (MAINTENANCE, BACKDATED, PAYING_PARENT_FEE, ENFORCEMENT_CHARGE) or (
        entry.kind == ADJUSTMENT and entry.adjustment == ARREARS_RECOGNISED
    )


# The charges that become arrears when unpaid by their due date. An enforcement charge is owed but never arrears
# (docs/domain/money.md, "Enforcement").
ARREARS_KINDS = (MAINTENANCE, BACKDATED, PAYING_PARENT_FEE)


def becomes_arrears(entry: Entry | Group) -> bool:
    return is_debt(entry) and entry.kind != ENFORCEMENT_CHARGE


def is_maintenance_debt(entry: Entry | Group) -> bool:
    return is_debt(entry) and entry.kind not in (PAYING_PARENT_FEE, ENFORCEMENT_CHARGE)


@dataclass(frozen=True)
class Balances:
    """An account's balances as of a date, each a sum over its entries (AccountBalances)."""

    maintenance_charged: int = 0
    paying_parent_fees: int = 0
    received: int = 0
    allocated: int = 0
    held_credit: int = 0
    overpaid: int = 0
    arrears: int = 0
    maintenance_arrears: int = 0
    owed: int = 0
    adjusted: int = 0
    receiving_parent_fees: int = 0
    paid_out: int = 0
    payable_to_receiving_parent: int = 0
    refunded: int = 0
    # Enforcement charges made (Fees Regs 2014 reg 10); in `owed`, never in the arrears.
    enforcement_charges: int = 0

    @property
    def nil(self) -> bool:
        """Nothing owed, held or payable: a closed case's account can close."""
        return self.owed == 0 and self.held_credit == 0 and self.payable_to_receiving_parent == 0


def debts_of(entries: Iterable[Entry], *, as_of: dt.date | None = None) -> list[Debt]:
    """Each debt and what is still outstanding on it (allocations effective by `as_of`, all when None)."""
    entries = [e for e in entries if as_of is None or e.effective <= as_of]
    covered: dict[int, int] = {}
    for e in entries:
        if e.kind == ALLOCATION and e.covers is not None:
            covered[e.covers] = covered.get(e.covers, 0) + e.amount
    return [
        Debt(e.id, e.kind, e.effective, e.amount - covered.get(e.id, 0))
        for e in entries
        if is_debt(e)
    ]


def totals(
    sums: Iterable[tuple[Group, int]], *, arrears: int = 0, maintenance_arrears: int = 0
) -> Balances:
    """The balances from the entries' sums by group, and the arrears (which need each charge's due date)."""
    total: dict[str, int] = defaultdict(int)
    overpayment = 0
    for g, amount in sums:
        if is_maintenance_debt(g):
            total["maintenance_charged"] += amount
        elif g.kind == PAYING_PARENT_FEE:
            total["paying_parent_fees"] += amount
        elif g.kind == ENFORCEMENT_CHARGE:
            total["enforcement_charges"] += amount
        elif g.kind == RECEIPT:
            total["received"] += amount
        elif g.kind == RECEIVING_PARENT_FEE:
            total["receiving_parent_fees"] += amount
        elif g.kind == PAYMENT_OUT:
            total["paid_out"] += amount
        elif g.kind == ALLOCATION:
            if g.target == CREDIT:
                total["held_credit"] += amount
            elif g.source == FROM_ADJUSTMENT:
                total["adjusted"] += amount
            else:
                total["allocated"] += amount
                if g.target in (CURRENT, ARREARS):
                    total["collected_maintenance"] += amount
        elif g.kind == ADJUSTMENT:
            if g.adjustment == REFUND:
                total["held_credit"] += amount
                total["refunded"] -= amount
            elif g.adjustment == BACKDATED_OVERPAYMENT:
                overpayment -= amount
            elif g.adjustment in (REG8, REG9):
                overpayment += amount
    charged = (
        total["maintenance_charged"] + total["paying_parent_fees"] + total["enforcement_charges"]
    )
    return Balances(
        maintenance_charged=total["maintenance_charged"],
        paying_parent_fees=total["paying_parent_fees"],
        received=total["received"],
        allocated=total["allocated"],
        held_credit=total["held_credit"],
        overpaid=max(0, overpayment),
        arrears=arrears,
        maintenance_arrears=maintenance_arrears,
        owed=charged - total["allocated"] - total["adjusted"],
        adjusted=total["adjusted"],
        receiving_parent_fees=total["receiving_parent_fees"],
        paid_out=total["paid_out"],
        payable_to_receiving_parent=total["collected_maintenance"]
        - total["receiving_parent_fees"]
        - total["paid_out"],
        refunded=total["refunded"],
        enforcement_charges=total["enforcement_charges"],
    )


def sums_by_group(entries: Iterable[Entry]) -> dict[Group, int]:
    sums: dict[Group, int] = defaultdict(int)
    for e in entries:
        sums[group_of(e)] += e.amount
    return sums


def balances(entries: Iterable[Entry], *, as_of: dt.date) -> Balances:
    """The balances as of the end of `as_of`, from the entries effective by then (in any order)."""
    entries = [e for e in entries if e.effective <= as_of]
    arrears = maintenance_arrears = 0
    for debt in debts_of(entries):
        if debt.due < as_of and not debt.is_enforcement:
            arrears += debt.outstanding
            if not debt.is_fee:
                maintenance_arrears += debt.outstanding
    return totals(
        sums_by_group(entries).items(), arrears=arrears, maintenance_arrears=maintenance_arrears
    )


def balances_proto(b: Balances, view: View = apb.STATEMENT_VIEW_FULL) -> apb.AccountBalances:
    """The balances a view may see: a parent's own side only (the other side's figures are 0)."""
    out = apb.AccountBalances(
        maintenance_charged_pence=b.maintenance_charged,
        maintenance_arrears_pence=b.maintenance_arrears,
    )
    if view in (apb.STATEMENT_VIEW_PAYING_PARENT, apb.STATEMENT_VIEW_FULL):
        out.paying_parent_fees_pence = b.paying_parent_fees
        out.enforcement_charges_pence = b.enforcement_charges
        out.received_pence = b.received
        out.allocated_pence = b.allocated
        out.held_credit_pence = b.held_credit
        out.overpaid_pence = b.overpaid
        out.arrears_pence = b.arrears
        out.owed_pence = b.owed
        out.adjusted_pence = b.adjusted
    if view in (apb.STATEMENT_VIEW_RECEIVING_PARENT, apb.STATEMENT_VIEW_FULL):
        out.receiving_parent_fees_pence = b.receiving_parent_fees
        out.paid_out_pence = b.paid_out
        out.payable_to_receiving_parent_pence = b.payable_to_receiving_parent
    return out


# -- statements ---------------------------------------------------------------------------------------------------


def coefficient(g: Group, view: View) -> int | None:
    """How an entry of group `g` moves a view's balance, per penny of its amount (None: the view does not show it).
    The paying parent's balance is what they owe less the credit they hold; the receiving parent's is what is due
    to be paid to them. The full view shows every entry against the paying parent's balance."""
    if view == apb.STATEMENT_VIEW_RECEIVING_PARENT:
        if is_maintenance_debt(g):
            return 0  # maintenance due to them: shown, paid to them only once collected
        if g.kind == ALLOCATION and g.source in CASH and g.target in (CURRENT, ARREARS):
            return 1
        if g.kind in (RECEIVING_PARENT_FEE, PAYMENT_OUT):
            return -1
        return None
    if g.kind in (RECEIVING_PARENT_FEE, PAYMENT_OUT):
        return 0 if view == apb.STATEMENT_VIEW_FULL else None
    if is_debt(g):
        return 1
    if g.kind == RECEIPT:
        return -1
    if g.kind == ADJUSTMENT:
        if g.adjustment in COVERING:
            return 1
        if g.adjustment == REFUND:
            return -1
        return 0
    return 0  # allocations: where the money went, the balance already moved with the receipt


def effect(entry: Entry, view: View) -> int | None:
    c = coefficient(group_of(entry), view)
    return None if c is None else c * entry.amount


def view_total(sums: Iterable[tuple[Group, int]], view: View) -> int:
    """A view's balance over entries given as sums by group (a statement's opening balance)."""
    return sum((coefficient(g, view) or 0) * amount for g, amount in sums)


class Line(NamedTuple):
    entry: Entry
    amount: int
    balance: int


def statement(
    entries: Iterable[Entry], *, view: View, since: dt.date, as_of: dt.date, opening: int = 0
) -> tuple[int, list[Line], int]:
    """(opening balance, lines from `since` to `as_of` in posting order, closing balance) for a view. `opening`:
    the view's balance of entries before `since` left out of `entries`."""
    lines = list[Line]()
    coefficients: dict[Group, int | None] = {}  # a handful of groups over thousands of entries
    for e in sorted(entries, key=lambda e: (e.effective, e.id)):
        if e.effective > as_of:
            continue
        group = Group(e.kind, e.target, e.source, e.adjustment)
        if group not in coefficients:
            coefficients[group] = coefficient(group, view)
        c = coefficients[group]
        if c is None:
            continue
        moved = c * e.amount
        if e.effective < since:
            opening += moved
            continue
        balance = (lines[-1].balance if lines else opening) + moved
        lines.append(Line(e, moved, balance))
    return opening, lines, lines[-1].balance if lines else opening


def view_balance(b: Balances, view: View) -> int:
    """A view's balance from the balances: what the statement's closing balance must equal."""
    if view == apb.STATEMENT_VIEW_RECEIVING_PARENT:
        return b.payable_to_receiving_parent
    return b.owed - b.held_credit
