"""casework's own jobs applying a case's changes (changes.flows.apply_pending_for_system) through the real stack:
one that loses the race for the case's version to another job applies again from a fresh read instead of failing.
The race is made deterministic: as the first attempt reads the case, its version moves on in the database, as a
concurrent application committed in between would move it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from google.type import date_pb2
from sqlalchemy import event, update

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import resources_pb2 as pb
from cms_casework.case_records.models import CaseRecord
from cms_casework.changes import flows
from cms_casework.feeds.service import FEEDS
from cms_platform import calls
from cms_platform.errors import Conflict


@contextmanager
def overtaken_once(stack) -> Iterator[list[str]]:
    """While open, the first CaseRecord read has its version moved on in the database straight after."""
    hit: list[str] = []
    table = CaseRecord.__table__

    def bump(target: Any, _context: Any) -> None:
        if not hit:
            hit.append(target.id)
            with stack.casework.sessions.begin() as s:
                s.execute(
                    update(table).where(table.c.id == target.id).values(version=table.c.version + 1)
                )

    event.listen(CaseRecord, "load", bump)
    try:
        yield hit
    finally:
        event.remove(CaseRecord, "load", bump)


def _apply(stack, case, attempts: int):
    with calls.serving("test-job"):  # as the scheduler and the feed applier run: a job, not an RPC
        return flows.apply_pending_for_system(
            sessions=stack.casework.sessions,
            parent=case.name,
            caller=FEEDS,
            clock=stack.casework.clock,
            downstream=stack.casework.downstream,
            attempts=attempts,
        )


def test_a_job_that_loses_the_race_applies_again_from_a_fresh_read(stack):
    case = stack.new_live_case()
    with overtaken_once(stack) as hit, pytest.raises(Conflict):
        _apply(stack, case, attempts=1)  # one attempt: the lost race is the answer
    assert hit
    with overtaken_once(stack) as hit:
        _apply(stack, case, attempts=3)  # the second attempt reads the moved-on version and applies
    assert hit


def _stored_calculations(stack) -> int:
    from sqlalchemy import text

    with stack.services["calculation"].sessions() as s:
        return s.scalar(text("SELECT count(*) FROM calculations")) or 0


def test_a_job_that_died_after_the_decision_was_stored_gets_that_decision_back_on_its_next_pass(
    stack, monkeypatch
):
    case = stack.new_live_case()
    change = stack.report(
        case,
        pb.ChangeOfCircumstances(
            type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_QC_NOT_IN_FULL_TIME_EDUCATION,
            effective_date=date_pb2.Date(year=2026, month=4, day=6),
            child_change=pb.ChildChange(child_id=case.qualifying_children[0].child_id),
        ),
    )
    stack.verify(change)
    before = _stored_calculations(stack)
    real = flows._record_application

    def dies(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the process died before casework committed")

    monkeypatch.setattr(flows, "_record_application", dies)
    with pytest.raises(RuntimeError):
        _apply(stack, case, attempts=1)
    assert _stored_calculations(stack) == before + 1  # the calculation service stored its decision
    monkeypatch.setattr(flows, "_record_application", real)
    _apply(stack, case, attempts=1)  # the next pass: same case version, same changes waiting
    assert _stored_calculations(stack) == before + 1  # the same decision, not a second one
    held = stack.call("GetCase", api.GetCaseRequest(name=case.name))
    assert held.latest_calculation.calculation != case.latest_calculation.calculation
