"""The monthly Child Benefit check's decisions (no I/O): which cases it covers and which of their children it asks
about, how the children are sent (messages of at most a batch), and what an answer means for a child.

The CMS sends HMRC every qualifying child of every case that has a qualifying child aged 16 or over (a 16-19-year-old
is a qualifying child only while Child Benefit is payable for them, reg 76 of SI 2012/2677; the younger children of
the same case are checked with them). A child whose Child Benefit has ended leaves the case from the end date
(reg 18(3)(a) of SI 2012/2677)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from cms.casework.v1 import resources_pb2 as pb
from cms_platform.convert import day_of, years_after

T = TypeVar("T")

# Children per message of the stream: hmrc-gateway takes 1 to 1,000 (RunMonthlyChildBenefitCheckRequest.items).
CHILDREN_PER_MESSAGE = 1000
# Cases read per page of the keyset walk over the live cases.
CASES_PER_PAGE = 500
OLDEST_CHECKED_AGE = 16
CHILD_BENEFIT_AGE_LIMIT = 20


def age_on(born: dt.date | None, on: dt.date) -> int:
    """Whole years from `born` to `on` (0 for a child without a date of birth)."""
    if born is None:
        return 0
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def children_to_check(case: pb.Case, on: dt.date) -> list[pb.QualifyingChild]:
    """Every current qualifying child of a case that has one aged 16 or over on `on`; none otherwise."""
    current = [c for c in case.qualifying_children if not c.end_date.year]
    if any(age_on(day_of(c.date_of_birth), on) >= OLDEST_CHECKED_AGE for c in current):
        return current
    return []


def born_by_to_check(on: dt.date) -> dt.date:
    """The latest date of birth a child can have and be 16 or over on `on`, a day late so that a 29 February
    birthday is never missed: cases whose eldest current child was born after it have no child to check."""
    return years_after(on, -OLDEST_CHECKED_AGE) + dt.timedelta(days=1)


def item_id(case_id: str, child_id: str) -> str:
    """An item's id in the run: its case and child, so an answer names both without a lookup."""
    return f"{case_id}/{child_id}"


def case_and_child(item: str) -> tuple[str, str]:
    case_id, _, child_id = item.partition("/")
    return case_id, child_id


def ended_on(*, entitled: bool, end_date: dt.date | None, as_of: dt.date) -> dt.date | None:
    """The date a child's Child Benefit ended by HMRC's answer: None while it is payable past `as_of`; else the end
    date HMRC holds (the check's date when it holds none)."""
    if entitled and (end_date is None or end_date > as_of):
        return None
    return end_date or as_of


@dataclass(frozen=True)
class Ending:
    """A child's part in a case ends: from `on`, because they reached 20 or left qualifying education."""

    child_id: str
    on: dt.date
    turned_20: bool


def ending(child: pb.QualifyingChild, on: dt.date) -> Ending:
    """Why a child whose Child Benefit ended on `on` leaves the case: the 20th birthday reached by then, or else
    no longer in qualifying education or training."""
    turned_20 = age_on(day_of(child.date_of_birth), on) >= CHILD_BENEFIT_AGE_LIMIT
    return Ending(child.child_id, on, turned_20)


def in_batches(items: Iterable[T], size: int = CHILDREN_PER_MESSAGE) -> Iterator[list[T]]:
    """`items` in lists of at most `size`, in order, holding one list at a time."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
