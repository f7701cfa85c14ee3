"""Pure rules of business interests: which CIS businesses an interest covers, and the interest number each
business gives it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from ..benefits import Business

# An interest registered without naming businesses covers every business CIS notifies.
NOTIFIED_BUSINESSES = tuple(Business)


def covered(businesses: Sequence[Business]) -> tuple[Business, ...]:
    return tuple(businesses) or NOTIFIED_BUSINESSES


def interest_number(interest_id: str, business: Business) -> str:
    """Each business has its own CIS interest number (ESA's differs from JSA's and IS's), stable per interest."""
    number = uuid.uuid5(uuid.NAMESPACE_OID, interest_id + business.value).int % 10**8
    return f"{business.value[:3]}{number:08d}"
