"""The collection reform's decisions (no I/O): which cases move, how a what-if's calculations add up (fee income by
month, receipts before and after, paying parents at the non-compliant rate), and how a migration run's progress
counts. docs/domain/money.md, "The end of Direct Pay"."""

from __future__ import annotations

import calendar
import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")

# calculation's rule set for the announced reform (Government response, 23 June 2025): Direct Pay removed; fees 2%
# receiving parent, 2% compliant paying parent, 20% non-compliant paying parent.
REFORM_RULE_SET = "reform-2025"
# BulkCalculate takes 1 to 1,000 items a message (calculation_service.proto BulkCalculateRequest.items).
ITEMS_PER_BATCH = 1000
FEE_MONTHS = 12
MAX_FAILURES_LISTED = 100
MAX_CASES_LISTED = 1000


def in_batches(items: Iterable[T], size: int = ITEMS_PER_BATCH) -> Iterator[list[T]]:
    """`items` in lists of at most `size`, in order."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def months_from(start: dt.date, count: int = FEE_MONTHS) -> list[tuple[dt.date, int]]:
    """The `count` calendar months from `start` as (first day, days in it): the first from `start` itself to its
    month's end, each later one whole; the last is cut at `count` months after `start`."""
    out: list[tuple[dt.date, int]] = []
    end = _months_after(start, count)
    day = start
    while day < end:
        last = calendar.monthrange(day.year, day.month)[1]
        following = min(dt.date(day.year, day.month, last) + dt.timedelta(days=1), end)
        out.append((day, (following - day).days))
        day = following
    return out


def _months_after(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def pence_for_days(weekly_pence: int, days: int) -> int:
    """A weekly amount for `days` days, in whole pence (rounded down: a forecast never overstates)."""
    return weekly_pence * days // 7


@dataclass(frozen=True)
class CaseToday:
    """One live case as it stands: its service type, current children and what its receiving parent receives a
    week under the decision in force (maintenance on Direct Pay, maintenance less the fee on Collect & Pay)."""

    case_id: str
    paying_parent: str
    direct_pay: bool
    children: int
    receipts_weekly_pence: int
    non_compliant: bool


@dataclass(frozen=True)
class CaseUnderReform:
    """The same case calculated under the reform: its receiving parent's weekly receipts and the weekly fees of
    its part (paying and receiving parents)."""

    case_id: str
    receipts_weekly_pence: int
    paying_parent_fee_weekly_pence: int
    receiving_parent_fee_weekly_pence: int


@dataclass(frozen=True)
class WhatIfPart:
    """What a part of the caseload (a national run's chunk, or the whole caseload in one run) comes to under the
    reform: the sums and the set the what-if's figures are made of, so parts added up (add_up) give exactly what the
    whole would. Paying parents at the non-compliant rate are a set, not a count: one parent's cases may fall in
    different chunks."""

    cases_moving: int = 0
    children_moving: int = 0
    weekly_receipts_before_pence: int = 0
    weekly_receipts_after_pence: int = 0
    receiving_less: int = 0
    receiving_more: int = 0
    paying_fees_weekly_pence: int = 0
    receiving_fees_weekly_pence: int = 0
    non_compliant_parents: frozenset[str] = frozenset()

    def to_json(self) -> str:
        fields = {k: v for k, v in self.__dict__.items() if k != "non_compliant_parents"}
        return json.dumps({**fields, "non_compliant_parents": sorted(self.non_compliant_parents)})

    @classmethod
    def from_json(cls, text: str) -> WhatIfPart:
        fields = json.loads(text)
        fields["non_compliant_parents"] = frozenset(fields["non_compliant_parents"])
        return cls(**fields)


def part_of(today: Sequence[CaseToday], reform: Sequence[CaseUnderReform]) -> WhatIfPart:
    """A part's sums from its cases calculated (`reform`; a case the calculation failed is left out altogether):
    cases and children moving are the Direct Pay ones; receipts compare each case's receiving parent before and
    after; the weekly fees are every case's."""
    by_case = {c.case_id: c for c in today}
    counts = dict.fromkeys(
        (
            "cases_moving",
            "children_moving",
            "weekly_receipts_before_pence",
            "weekly_receipts_after_pence",
            "receiving_less",
            "receiving_more",
            "paying_fees_weekly_pence",
            "receiving_fees_weekly_pence",
        ),
        0,
    )
    non_compliant: set[str] = set()
    for after in reform:
        before = by_case[after.case_id]
        if before.direct_pay:
            counts["cases_moving"] += 1
            counts["children_moving"] += before.children
        if before.non_compliant:
            non_compliant.add(before.paying_parent)
        counts["weekly_receipts_before_pence"] += before.receipts_weekly_pence
        counts["weekly_receipts_after_pence"] += after.receipts_weekly_pence
        if after.receipts_weekly_pence < before.receipts_weekly_pence:
            counts["receiving_less"] += 1
        elif after.receipts_weekly_pence > before.receipts_weekly_pence:
            counts["receiving_more"] += 1
        counts["paying_fees_weekly_pence"] += after.paying_parent_fee_weekly_pence
        counts["receiving_fees_weekly_pence"] += after.receiving_parent_fee_weekly_pence
    return WhatIfPart(**counts, non_compliant_parents=frozenset(non_compliant))


@dataclass
class WhatIfTotals:
    cases_moving: int = 0
    children_moving: int = 0
    paying_parents_non_compliant: int = 0
    weekly_receipts_before_pence: int = 0
    weekly_receipts_after_pence: int = 0
    receiving_less: int = 0
    receiving_more: int = 0
    paying_fees_weekly_pence: int = 0
    receiving_fees_weekly_pence: int = 0
    fee_income: list[tuple[dt.date, int, int]] = field(default_factory=list)

    @property
    def fee_income_total_pence(self) -> int:
        return sum(p + r for _, p, r in self.fee_income)


def add_up(parts: Iterable[WhatIfPart], *, start: dt.date) -> WhatIfTotals:
    """The what-if's figures from its parts: the sums added, the non-compliant paying parents counted once each
    across the parts, and fee income each month's days at the weekly fees of every case (rounded down once, on the
    whole caseload's weekly fees, as a single run would)."""
    out = WhatIfTotals()
    non_compliant: set[str] = set()
    for part in parts:
        out.cases_moving += part.cases_moving
        out.children_moving += part.children_moving
        out.weekly_receipts_before_pence += part.weekly_receipts_before_pence
        out.weekly_receipts_after_pence += part.weekly_receipts_after_pence
        out.receiving_less += part.receiving_less
        out.receiving_more += part.receiving_more
        out.paying_fees_weekly_pence += part.paying_fees_weekly_pence
        out.receiving_fees_weekly_pence += part.receiving_fees_weekly_pence
        non_compliant |= part.non_compliant_parents
    out.paying_parents_non_compliant = len(non_compliant)
    out.fee_income = [
        (
            first,
            pence_for_days(out.paying_fees_weekly_pence, days),
            pence_for_days(out.receiving_fees_weekly_pence, days),
        )
        for first, days in months_from(start)
    ]
    return out


def what_if_totals(
    today: Sequence[CaseToday], reform: Sequence[CaseUnderReform], *, start: dt.date
) -> WhatIfTotals:
    """The what-if's figures from the whole caseload's cases calculated, as one part."""
    return add_up([part_of(today, reform)], start=start)


# -- national runs -------------------------------------------------------------------------------------------------

# The national runs' job names for the collection reform's runs (national_runs: the run record's job).
WHAT_IF_RUN = "REFORM_WHAT_IF"
MIGRATION_RUN = "DIRECT_PAY_MIGRATION"


def what_if_run_id(what_if_id: str) -> str:
    return f"reform-what-if-{what_if_id}"


def migration_run_id(migration_id: str) -> str:
    return f"direct-pay-migration-{migration_id}"


# -- the migration run ---------------------------------------------------------------------------------------------

REPORTED, MOVED, FAILED = "REPORTED", "MOVED", "FAILED"


@dataclass(frozen=True)
class Progress:
    total: int
    moved: int
    failed: int

    @property
    def remaining(self) -> int:
        return max(0, self.total - self.moved - self.failed)


def progress(total: int, steps: Iterable[str]) -> Progress:
    """A run's progress from its cases' steps (a REPORTED case is still remaining: it is mid-move)."""
    moved = failed = 0
    for step in steps:
        if step == MOVED:
            moved += 1
        elif step == FAILED:
            failed += 1
    return Progress(total=total, moved=moved, failed=failed)


def lease_expired(lease_until: dt.datetime, now: dt.datetime) -> bool:
    """Whether a job's runner has let it go (or stopped without doing so)."""
    return lease_until <= now
