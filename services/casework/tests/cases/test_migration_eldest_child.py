"""Revision 0020 fills cases.eldest_child_born from the documents already stored: a database at 0019 holding cases of
every shape is upgraded, and each case's column must equal the service's own rule on its document (the migration
keeps a frozen copy of that rule, so this holds the two together)."""

from __future__ import annotations

import datetime as dt
import importlib.util
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from cms.casework.v1 import resources_pb2 as pb
from cms_casework.case_records.service import eldest_child_born
from cms_platform.db import make_engine
from cms_platform.migrations import upgrade


def _migrations() -> Path:
    spec = importlib.util.find_spec("cms_casework")
    assert spec is not None and spec.submodule_search_locations
    return Path(spec.submodule_search_locations[0]) / "migrations"


def _child(born: tuple[int, int, int], *, ended: bool = False) -> pb.QualifyingChild:
    child = pb.QualifyingChild()
    child.date_of_birth.year, child.date_of_birth.month, child.date_of_birth.day = born
    if ended:
        child.end_date.year, child.end_date.month, child.end_date.day = 2026, 8, 31
    return child


def _cases() -> dict[str, pb.Case]:
    live = pb.CASE_STATE_LIVE
    return {
        "two-children": pb.Case(
            state=live, qualifying_children=[_child((2012, 5, 1)), _child((2009, 2, 28))]
        ),
        # The eldest has left the case: the next one counts.
        "eldest-ended": pb.Case(
            state=live,
            qualifying_children=[_child((2008, 1, 1), ended=True), _child((2011, 7, 9))],
        ),
        "leap-day": pb.Case(state=live, qualifying_children=[_child((2008, 2, 29))]),
        # A partial date of birth is no date: nothing to select the case by.
        "partial-date": pb.Case(state=live, qualifying_children=[_child((2010, 0, 0))]),
        "no-children": pb.Case(state=live),
        "closed": pb.Case(state=pb.CASE_STATE_CLOSED, qualifying_children=[_child((2009, 3, 3))]),
    }


def test_the_upgrade_fills_each_case_by_the_rule(database_url: Callable[[str], str]) -> None:
    url = database_url("casework")
    upgrade(url, _migrations(), revision="0019")
    cases = _cases()
    now = dt.datetime(2026, 12, 7, tzinfo=dt.UTC)
    engine = make_engine(url)
    table = sa.table(
        "cases",
        *(
            sa.column(c)
            for c in ("id", "state", "paying_parent_nino", "document", "version")
            + ("created_at", "updated_at")
        ),
    )
    with engine.begin() as c:
        c.execute(
            table.insert(),
            [
                {
                    "id": case_id,
                    "state": pb.CaseState.Name(case.state),
                    "paying_parent_nino": "",
                    "document": case.SerializeToString(),
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
                for case_id, case in cases.items()
            ],
        )
    upgrade(url, _migrations())
    with engine.connect() as c:
        filled = dict(c.execute(sa.text("SELECT id, eldest_child_born FROM cases")).all())
    engine.dispose()
    as_dates = {k: dt.date.fromisoformat(v) if isinstance(v, str) else v for k, v in filled.items()}
    assert as_dates == {case_id: eldest_child_born(case) for case_id, case in cases.items()}
    assert as_dates["two-children"] == dt.date(2009, 2, 28)
    assert as_dates["eldest-ended"] == dt.date(2011, 7, 9)
    assert as_dates["closed"] is None and as_dates["partial-date"] is None
