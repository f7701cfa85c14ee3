"""Matching in the shared synthetic population (HMRC's rules: exact NINO and date of birth, forename initial,
first three letters of the surname)."""

from __future__ import annotations

import datetime as dt

from cms_platform.population import Population

DOB = dt.date(1985, 3, 14)


def test_full_match_ignores_case_spaces_and_everything_after_the_rules():
    m = Population().match(nino="aa 12 34 56 a", forenames="A.", surname="TURNBULL", date_of_birth=DOB)
    assert m.matched and m.person.surname == "Turner"


def test_partial_match_names_every_failed_rule():
    m = Population().match(nino="AA123456A", forenames="Bob", surname="Smith", date_of_birth=dt.date(1985, 3, 15))
    assert not m.matched
    assert m.failed_rules == ("FORENAME_INITIAL", "SURNAME_FIRST_THREE_LETTERS", "DATE_OF_BIRTH")


def test_unknown_nino_is_not_found():
    m = Population().match(nino="ZX999999D", forenames="Alex", surname="Turner", date_of_birth=DOB)
    assert m.person is None and not m.matched
