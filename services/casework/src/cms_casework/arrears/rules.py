"""Arrears rules (docs/domain/money.md §8): an arrears agreement's schedule and its compliance, a Direct Pay shortfall,
what the arrears check finds newly missed, and a Regulation 8 decision's figures and explanation.

Pure domain logic: no gRPC calls, no SQL, no clock. Money is integer pence throughout and is never a float.

- An agreement clears the arrears by a lump sum and/or regular instalments at a payment frequency, the instalments
  from the first instalment date every 7, 14 or 28 days, or monthly on that day of the month (clamped to shorter
  months). Every instalment is the agreed amount but the last, which is what is left, so the schedule adds up to the
  arrears exactly. The last payment falls due within `max_term_months` (24) of the day the agreement is made unless
  a reason for a longer term is given (guidance: two years, with discretion to extend).
- Receipts pay the agreement's payments oldest first; a payment unpaid after its due date and the grace period
  breaks the agreement; all paid completes it.
- A reduction of the amount payable (MPA Regs 2009 reg 9) never takes a period's amount below nil.
- A paying parent is compliant (the announced reform's collection fee) when every charge that fell due in the rolling
  window was paid in full by its due date plus the grace days, from the ledger.
- Small arrears on a closed case may be written off (MPA Regs 2009 as amended by SI 2024/87): under £7, no ongoing
  liability, no payment for 90 days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

from cms.common.v1 import types_pb2 as common
from cms_platform.convert import months_after

from ..wording import long_date, pounds

_DAYS_PER_PERIOD: dict[int, int] = {
    common.PAYMENT_FREQUENCY_WEEKLY: 7,
    common.PAYMENT_FREQUENCY_FORTNIGHTLY: 14,
    common.PAYMENT_FREQUENCY_FOUR_WEEKLY: 28,
}
FREQUENCIES = frozenset({*_DAYS_PER_PERIOD, common.PAYMENT_FREQUENCY_MONTHLY})


@dataclass(frozen=True)
class AgreementParameters:
    # Guidance (Debt Steer): arrears cleared within two years at most, with discretion to extend.
    max_term_months: int = 24
    # A schedule longer than this is refused whatever the reason: a guard against a mistyped instalment (1p a week
    # for 1,000 years), not a policy figure [D].
    max_payments: int = 2000

    def __post_init__(self) -> None:
        if self.max_term_months <= 0 or self.max_payments <= 0:
            raise ValueError("max_term_months and max_payments must be positive")


DEFAULTS = AgreementParameters()


@dataclass(frozen=True)
class Violation:
    """A bad term, named by its request field path below `arrears_agreement`."""

    field: str
    description: str


@dataclass(frozen=True)
class Terms:
    arrears_pence: int
    lump_sum_pence: int = 0
    lump_sum_due: dt.date | None = None
    instalment_pence: int = 0
    frequency: int = 0
    first_instalment: dt.date | None = None
    extension_reason: str = ""


@dataclass(frozen=True)
class Payment:
    """One payment of an agreement: the lump sum or an instalment, with what receipts have paid of it."""

    due: dt.date
    amount_pence: int
    paid_pence: int = 0
    lump_sum: bool = False

    @property
    def unpaid_pence(self) -> int:
        return self.amount_pence - self.paid_pence


def instalment_date(first: dt.date, frequency: int, index: int) -> dt.date:
    """The `index`th instalment's due date (0 is the first), each worked out from the first, never from the last."""
    if frequency == common.PAYMENT_FREQUENCY_MONTHLY:
        return months_after(first, index)
    return first + dt.timedelta(days=_DAYS_PER_PERIOD[frequency] * index)


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def check_terms(
    terms: Terms, *, today: dt.date, params: AgreementParameters = DEFAULTS
) -> list[Violation]:
    """Every reason the terms cannot make an agreement, each naming its field; empty when they can."""
    out: list[Violation] = []
    if terms.arrears_pence <= 0:
        return [Violation("", "there are no arrears to agree")]
    if terms.lump_sum_pence < 0:
        out.append(Violation("lump_sum_pence", "must not be negative"))
    elif terms.lump_sum_pence > terms.arrears_pence:
        out.append(Violation("lump_sum_pence", "must not be more than the arrears"))
    if terms.lump_sum_pence > 0:
        if terms.lump_sum_due is None:
            out.append(Violation("lump_sum_due_date", "is required with a lump sum"))
        elif terms.lump_sum_due < today:
            out.append(Violation("lump_sum_due_date", "must be today or later"))
    elif terms.lump_sum_due is not None:
        out.append(Violation("lump_sum_due_date", "is for a lump sum: set lump_sum_pence"))
    remaining = terms.arrears_pence - max(0, min(terms.lump_sum_pence, terms.arrears_pence))
    if terms.instalment_pence < 0:
        out.append(Violation("instalment_amount_pence", "must not be negative"))
    elif remaining > 0 and terms.instalment_pence == 0:
        out.append(
            Violation(
                "instalment_amount_pence", "is required when the lump sum leaves arrears to pay"
            )
        )
    if remaining > 0:
        if terms.frequency not in FREQUENCIES:
            out.append(Violation("payment_frequency", "choose a payment frequency"))
        if terms.first_instalment is None:
            out.append(Violation("first_instalment_date", "is required with instalments"))
        elif terms.first_instalment < today:
            out.append(Violation("first_instalment_date", "must be today or later"))
    if out:
        return out
    payments = schedule(terms)
    if len(payments) > params.max_payments:
        return [
            Violation(
                "instalment_amount_pence",
                f"makes more than {params.max_payments} instalments: agree a larger amount",
            )
        ]
    limit = months_after(today, params.max_term_months)
    if payments[-1].due > limit and not terms.extension_reason.strip():
        field = "instalment_amount_pence" if remaining > 0 else "lump_sum_due_date"
        out += [
            Violation(
                field,
                f"clears the arrears on {long_date(payments[-1].due)}, after the "
                f"{params.max_term_months}-month term ({long_date(limit)}): agree more, or give an "
                "extension_reason",
            ),
            Violation(
                "extension_reason",
                f"is required for a schedule beyond {params.max_term_months} months",
            ),
        ]
    return out


def schedule(terms: Terms) -> list[Payment]:
    """The lump sum, then the instalments, adding up to the arrears to the penny (terms already checked)."""
    payments: list[Payment] = []
    lump = min(terms.lump_sum_pence, terms.arrears_pence)
    if lump > 0:
        assert terms.lump_sum_due is not None
        payments.append(Payment(terms.lump_sum_due, lump, lump_sum=True))
    remaining = terms.arrears_pence - lump
    if remaining > 0:
        assert terms.first_instalment is not None
        count = _ceil_div(remaining, terms.instalment_pence)
        for i in range(count):
            amount = min(terms.instalment_pence, remaining - i * terms.instalment_pence)
            payments.append(
                Payment(instalment_date(terms.first_instalment, terms.frequency, i), amount)
            )
    return payments


def pay(payments: Sequence[Payment], amount_pence: int) -> tuple[list[Payment], int]:
    """A receipt applied to the payments oldest first; returns them and what was left over."""
    left = amount_pence
    out = []
    for p in payments:
        take = min(left, p.unpaid_pence) if left > 0 else 0
        out.append(replace(p, paid_pence=p.paid_pence + take) if take else p)
        left -= take
    return out, left


def first_missed(payments: Sequence[Payment], *, as_of: dt.date, grace_days: int) -> Payment | None:
    """The oldest payment still unpaid after its due date and the grace period, as of `as_of`."""
    for p in payments:
        if p.unpaid_pence > 0 and p.due + dt.timedelta(days=grace_days) < as_of:
            return p
    return None


def completed(payments: Sequence[Payment]) -> bool:
    return all(p.unpaid_pence == 0 for p in payments)


# -- Direct Pay ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reported:
    due: dt.date | None
    expected_pence: int
    received_pence: int


def check_reported(items: Sequence[Reported], *, today: dt.date) -> list[Violation]:
    """Each reported payment must be due by today, short (received less than expected) and reported once."""
    out: list[Violation] = []
    seen: set[dt.date] = set()
    for i, item in enumerate(items):
        path = f"missed_payments[{i}]"
        if item.due is None:
            out.append(Violation(f"{path}.due_date", "is required"))
        elif item.due > today:
            out.append(Violation(f"{path}.due_date", "must not be in the future"))
        elif item.due in seen:
            out.append(Violation(f"{path}.due_date", "is reported twice"))
        else:
            seen.add(item.due)
        if item.expected_pence <= 0:
            out.append(Violation(f"{path}.expected_pence", "must be more than nil"))
        if item.received_pence < 0:
            out.append(Violation(f"{path}.received_pence", "must not be negative"))
        elif item.received_pence >= item.expected_pence > 0:
            out.append(
                Violation(
                    f"{path}.received_pence", "must be less than expected_pence (a shortfall)"
                )
            )
    return out


def shortfall(items: Sequence[Reported]) -> int:
    return sum(item.expected_pence - item.received_pence for item in items)


# -- the arrears check ---------------------------------------------------------------------------------------------


def cutoff(as_of: dt.date, grace_days: int) -> dt.date:
    """Charges due on or before this date are overdue on `as_of`: unpaid past their due date and the grace period
    after it (with no grace, the day after the due date). The same reckoning as `first_missed`."""
    return as_of - dt.timedelta(days=grace_days + 1)


def newly_missed(previous_overdue_pence: int, overdue_pence: int) -> int:
    """What became overdue since the last check: a rise in what is overdue (a fall is a payment, not a miss)."""
    return max(0, overdue_pence - previous_overdue_pence)


# -- overpayments (MPA Regs 2009 regs 8-9) -------------------------------------------------------------------------


@dataclass(frozen=True)
class Offset:
    overpaid_pence: int
    arrears_pence: int
    offset_pence: int
    explanation: tuple[str, ...]


def offset_against_arrears(*, overpaid_pence: int, arrears_pence: int) -> Offset:
    """ADJUST_ARREARS: as much of the overpayment as the arrears take is set against them; any rest stays as credit."""
    offset = min(max(overpaid_pence, 0), max(arrears_pence, 0))
    steps = (
        f"A backdated change left the paying parent's account {pounds(overpaid_pence)} in credit: an "
        "overpayment (Child Support (Management of Payments and Arrears) Regulations 2009, reg 8).",
        f"The arrears owed on the case are {pounds(arrears_pence)}.",
        f"Under reg 8 the overpayment is set against the arrears: {pounds(offset)} is offset, leaving arrears of "
        f"{pounds(arrears_pence - offset)}.",
        f"{pounds(overpaid_pence - offset)} of the overpayment remains as credit on the account."
        if overpaid_pence > offset
        else "Nothing of the overpayment remains as credit.",
    )
    return Offset(overpaid_pence, arrears_pence, offset, steps)


@dataclass(frozen=True)
class Reduction:
    overpaid_pence: int
    amount_payable_pence: int
    reduction_pence: int
    reduced_amount_pence: int
    periods: int
    final_reduction_pence: int
    explanation: tuple[str, ...]


def reduce_amount_payable(
    *, overpaid_pence: int, amount_payable_pence: int, reduction_pence: int, start: dt.date
) -> Reduction:
    """REDUCE_AMOUNT_PAYABLE: each period's amount payable reduced by `reduction_pence` (never below nil), until the
    overpayment is recovered; the last period takes what is left. All three amounts are more than nil."""
    applied = min(reduction_pence, amount_payable_pence)
    periods = _ceil_div(overpaid_pence, applied)
    final = overpaid_pence - applied * (periods - 1)
    reduced = max(0, amount_payable_pence - applied)
    steps = [
        f"A backdated change left the paying parent's account {pounds(overpaid_pence)} in credit: an "
        "overpayment (Child Support (Management of Payments and Arrears) Regulations 2009, reg 8).",
        f"Under reg 9 the amount payable is reduced to recover it: {pounds(amount_payable_pence)} is due each "
        "period now.",
    ]
    if applied < reduction_pence:
        steps.append(
            f"The reduction asked for, {pounds(reduction_pence)}, is more than the amount payable: it is "
            f"reduced to {pounds(applied)}, so nothing is payable (the amount payable is reduced to nil)."
        )
    steps.append(
        f"From {long_date(start)} each period's amount is reduced by {pounds(applied)} to {pounds(reduced)}, "
        f"for {periods} period{'s' if periods != 1 else ''}"
        + (f", the last by {pounds(final)}" if final != applied else "")
        + f": {pounds(overpaid_pence)} in all."
    )
    return Reduction(
        overpaid_pence, amount_payable_pence, applied, reduced, periods, final, tuple(steps)
    )


# -- write-offs (MPA Regs 2009 as amended by SI 2024/87) -----------------------------------------------------------


@dataclass(frozen=True)
class WriteOffParameters:
    # Arrears under this many pence may be written off (£7).
    max_pence: int = 700
    # ... when nothing was received for this many days.
    quiet_days: int = 90

    def __post_init__(self) -> None:
        if self.max_pence < 0 or self.quiet_days < 0:
            raise ValueError("max_pence and quiet_days must not be negative")


WRITE_OFF_DEFAULTS = WriteOffParameters()


@dataclass(frozen=True)
class WriteOffFacts:
    """What a small-arrears write-off turns on, as of today."""

    case_closed: bool
    owed_pence: int
    # Whether the paying parent is still liable to pay maintenance (a live case of theirs).
    ongoing_liability: bool
    last_payment: dt.date | None


@dataclass(frozen=True)
class Refusal:
    code: str
    description: str


def write_off_refusal(
    facts: WriteOffFacts, *, today: dt.date, params: WriteOffParameters = WRITE_OFF_DEFAULTS
) -> Refusal | None:
    """Why the arrears may not be written off (the first condition that fails, in this order), None when they may:
    the case closed, arrears owed and under the threshold, no ongoing liability, no payment in the quiet days."""
    if not facts.case_closed:
        return Refusal(
            "CASE_OPEN", "the case is open: only a closed case's arrears may be written off"
        )
    if facts.owed_pence <= 0:
        return Refusal("NO_ARREARS", "the account shows no arrears to write off")
    if facts.owed_pence >= params.max_pence:
        return Refusal(
            "ARREARS_TOO_LARGE",
            f"the arrears are {pounds(facts.owed_pence)}: only arrears under "
            f"{pounds(params.max_pence)} may be written off",
        )
    if facts.ongoing_liability:
        return Refusal("ONGOING_LIABILITY", "the paying parent has an ongoing liability")
    if facts.last_payment is not None and (today - facts.last_payment).days < params.quiet_days:
        return Refusal(
            "RECENT_PAYMENT",
            f"a payment was received on {long_date(facts.last_payment)}, within {params.quiet_days} days",
        )
    return None


# -- estates (a paying parent's death ends liability from the date of death) ---------------------------------------


@dataclass(frozen=True)
class ClaimPosition:
    amount_pence: int
    paid_pence: int = 0
    written_off_pence: int = 0

    @property
    def outstanding_pence(self) -> int:
        return self.amount_pence - self.paid_pence - self.written_off_pence


def estate_payment(position: ClaimPosition, amount_pence: int) -> ClaimPosition:
    """A payment from the estate: more than nil, no more than is outstanding (ValueError otherwise)."""
    if amount_pence <= 0 or amount_pence > position.outstanding_pence:
        raise ValueError("a payment is more than nil and no more than is outstanding")
    return replace(position, paid_pence=position.paid_pence + amount_pence)


# -- compliance (the announced reform's paying parent's fee) ------------------------------------------------------

COMPLIANT, NON_COMPLIANT, NO_HISTORY = "COMPLIANT", "NON_COMPLIANT", "NO_HISTORY"


@dataclass(frozen=True)
class DueCharge:
    """A charge on a paying parent's account (maintenance, a fee, recognised arrears) and what covered it, as (date
    effective, pence) pairs: money received or credit applied, or an adjustment the CMS made (a reversal, an
    offset)."""

    due: dt.date
    amount_pence: int
    covered: tuple[tuple[dt.date, int], ...] = ()

    def paid_by(self, day: dt.date) -> int:
        return sum(pence for on, pence in self.covered if on <= day)


@dataclass(frozen=True)
class Compliance:
    state: str
    window_start: dt.date
    charges_due: int
    charges_paid_on_time: int
    first_missed: dt.date | None


def compliance(
    charges: Sequence[DueCharge], *, as_of: dt.date, window_days: int, grace_days: int
) -> Compliance:
    """Whether a paying parent paid in full and on time over the `window_days` up to `as_of` (docs/domain/money.md,
    "Write-offs, deaths and compliance"). A charge is judged when it fell due in the window (after its start, on or
    before `as_of`) and its on-time date (the due date plus `grace_days`) has passed; it was paid on time when what
    covered it by then is its whole amount. Nothing judged: NO_HISTORY (a window of 0 days judges nothing)."""
    start = as_of - dt.timedelta(days=max(window_days, 0))
    grace = dt.timedelta(days=max(grace_days, 0))
    judged = [
        c
        for c in charges
        if c.amount_pence > 0 and start < c.due <= as_of and c.due + grace < as_of
    ]
    on_time = [c for c in judged if c.paid_by(c.due + grace) >= c.amount_pence]
    missed = [c.due for c in judged if c.paid_by(c.due + grace) < c.amount_pence]
    state = NO_HISTORY if not judged else (NON_COMPLIANT if missed else COMPLIANT)
    return Compliance(state, start, len(judged), len(on_time), min(missed, default=None))


def counts_as_compliant(state: str) -> bool:
    """The reform's fee: a paying parent with no history to judge pays the compliant rate."""
    return state != NON_COMPLIANT
