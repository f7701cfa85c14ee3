"""Rule sets found by name or version and listed in pages, straight over the rule book (no server)."""

from __future__ import annotations

import datetime as dt

import pytest
from google.type import date_pb2

from cms_calculation.engine.rules import RuleBook
from cms_calculation.rule_sets import service
from cms_platform.errors import InvalidArgument, NotFound

BOOK = RuleBook()


def test_a_rule_set_is_found_by_name_or_version_and_an_unknown_one_is_not_found():
    assert service.get(rule_book=BOOK, name="ruleSets/2014-08-11").version == "2014-08-11"
    assert service.find(rule_book=BOOK, version="reform-2025").effective_from is None
    with pytest.raises(NotFound) as err:
        service.find(rule_book=BOOK, version="1993-04-05")
    assert err.value.resource_name == "ruleSets/1993-04-05"
    for bad in ("2014-08-11", "ruleSets/"):
        with pytest.raises(InvalidArgument) as invalid:
            service.get(rule_book=BOOK, name=bad)
        assert [v.field for v in invalid.value.violations] == ["name"]


def test_rule_sets_are_listed_in_pages_and_by_effective_date():
    first, token = service.list_page(rule_book=BOOK, page_size=3, page_token="")
    rest, last = service.list_page(rule_book=BOOK, page_size=3, page_token=token)
    assert [r.version for r in first + rest] == [r.version for r in BOOK.rule_sets]
    assert len(first) == 3 and token and last == ""
    reformed = RuleBook(reform_start=dt.date(2027, 4, 1))
    on, _ = service.list_page(
        rule_book=reformed,
        page_size=0,
        page_token="",
        effective_date=date_pb2.Date(year=2027, month=4, day=1),
    )
    assert [r.version for r in on] == ["reform-2025"]


def test_the_page_is_checked_before_the_date():
    month = date_pb2.Date(year=2027, month=4)  # a month, not a day
    with pytest.raises(InvalidArgument) as err:
        service.list_page(rule_book=BOOK, page_size=0, page_token="x", effective_date=month)
    assert [v.field for v in err.value.violations] == ["page_token"]
    with pytest.raises(InvalidArgument) as err:
        service.list_page(rule_book=BOOK, page_size=0, page_token="", effective_date=month)
    assert [v.field for v in err.value.violations] == ["effective_date"]
