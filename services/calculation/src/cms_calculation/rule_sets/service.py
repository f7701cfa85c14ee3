"""The rule sets the service publishes (GetRuleSet, ListRuleSets), and the lookup of a rule set by version that a
what-if run under a named rule set uses. Keyword-only functions over the rule book (engine/rules.py): rule sets are
code and settings, not rows, so there is no session here."""

from __future__ import annotations

from google.type import date_pb2

from cms_platform.convert import full_date
from cms_platform.errors import InvalidArgument, NotFound
from cms_platform.paging import next_token, page

from ..engine.rules import RuleBook, RuleSet
from .convert import PREFIX


def find(*, rule_book: RuleBook, version: str) -> RuleSet:
    """The rule set of this version; NOT_FOUND naming ruleSets/{version} when the book has none."""
    rules = rule_book.get(version)
    if rules is None:
        raise NotFound("rule set", f"{PREFIX}{version}")
    return rules


def get(*, rule_book: RuleBook, name: str) -> RuleSet:
    if not name.startswith(PREFIX) or not name[len(PREFIX) :]:
        raise InvalidArgument.field("name", "must look like ruleSets/{rule_set_version}")
    return find(rule_book=rule_book, version=name[len(PREFIX) :])


def list_page(
    *,
    rule_book: RuleBook,
    page_size: int,
    page_token: str,
    effective_date: date_pb2.Date | None = None,
) -> tuple[list[RuleSet], str]:
    """One page of the rule sets, oldest first, or of those in force on `effective_date` when given; and the next
    page's token ("" on the last page). The paging is checked before the date, as it always was."""
    size, offset = page(page_size, page_token)
    chosen = list(rule_book.rule_sets)
    if effective_date is not None:
        on = full_date(effective_date, "effective_date")
        chosen = [r for r in chosen if r.in_force(on)]
    token = next_token(offset + size) if offset + size < len(chosen) else ""
    return chosen[offset : offset + size], token
