"""The monthly Child Benefit check over a stand-in HMRC port (cms_hmrc_gateway.child_benefit.service): one result
per child in order, a child HMRC refuses is that child's error, and maintenance or an outage stops the run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

import pytest

from cms_hmrc_gateway.child_benefit.rules import stops_the_run
from cms_hmrc_gateway.child_benefit.service import ChildToCheck, check_children
from cms_hmrc_gateway.port import (
    Answer,
    ChildBenefitStatus,
    ChildToFind,
    MatchOutcome,
    MatchResult,
    PersonToMatch,
)
from cms_platform.errors import (
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    PreconditionViolation,
    ResourceExhausted,
    Unavailable,
)

ON = dt.date(2026, 4, 6)


class Hmrc:
    """Answers every child as matched and in payment, unless told to refuse a claimant."""

    def __init__(self, refusals: dict[str, DomainError] | None = None):
        self.refusals = refusals or {}
        self.asked: list[str] = []

    def for_people(self, ninos: Collection[str]) -> Hmrc:
        return self

    def child_benefit(
        self, claimant: PersonToMatch, children: Sequence[ChildToFind], on: dt.date
    ) -> Answer[list[ChildBenefitStatus]]:
        self.asked.append(claimant.nino)
        if claimant.nino in self.refusals:
            raise self.refusals[claimant.nino]
        return Answer(
            MatchResult(MatchOutcome.MATCHED),
            [ChildBenefitStatus(c, None, entitled=True, in_payment=True) for c in children],
        )


def item(n: int) -> ChildToCheck:
    return ChildToCheck(
        f"i{n}",
        f"c{n}",
        PersonToMatch(f"JK{n:06d}C", "Jordan", "Kellaway", dt.date(1984, 7, 1)),
        ChildToFind("Ella", "Kellaway", dt.date(2009, 3, 2)),
    )


def test_each_child_gets_its_own_result_and_a_refusal_is_that_childs_error():
    restricted = FailedPrecondition(
        PreconditionViolation("RECORD_RESTRICTED", "person", "restricted"),
        reason="RECORD_RESTRICTED",
    )
    throttled = ResourceExhausted("throttled", reason="MESSAGE_THROTTLED_OUT")
    unreadable = InvalidArgument.field("claimant.nino", "is not a valid National Insurance number")
    hmrc = Hmrc({item(1).claimant.nino: restricted, item(3).claimant.nino: throttled})
    results = check_children(hmrc, items=[item(0), item(1), unreadable, item(3), item(4)], on=ON)
    assert [r.error for r in results] == [None, restricted, unreadable, throttled, None]
    assert all(r.answer is not None for r in results if r.error is None)
    assert len(hmrc.asked) == 4  # an unreadable item is never sent to HMRC


@pytest.mark.parametrize("reason", ["SCHEDULED_MAINTENANCE", "SERVER_ERROR"])
def test_maintenance_or_an_outage_stops_the_run(reason):
    down = Unavailable("HMRC is down", reason=reason)
    hmrc = Hmrc({item(1).claimant.nino: down})
    with pytest.raises(Unavailable):
        check_children(hmrc, items=[item(0), item(1), item(2)], on=ON)
    assert len(hmrc.asked) == 2  # nothing after the refusal
    assert stops_the_run(down)


def test_other_refusals_do_not_stop_the_run():
    assert not stops_the_run(ResourceExhausted("throttled", reason="MESSAGE_THROTTLED_OUT"))
    assert not stops_the_run(InvalidArgument.field("child", "bad"))
