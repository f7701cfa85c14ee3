"""Keeping personal data out of logs, spans and error text (docs/architecture.md, "Personal data in logs, spans and
errors").

Pure functions, no logging or tracing imports: `redact_text` masks what a pattern can find (National Insurance
numbers and Child Reference Numbers, which share a format, and UK postcodes); `redact` walks a structure, masking
whole values under keys that name personal data (names, addresses, dates of birth) and scanning every other value;
`excerpt` is what an error message may say about a caller's value: one of our own ids, or nothing of it at all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MASK = "[redacted]"
WITHHELD = "(value withheld)"

# Any NINO-shaped run (two letters, three pairs of digits, a suffix A-D; spaces and case tolerated), whether or not
# HMRC could issue it: a mistyped NINO is still someone's. Not inside a longer word or hex run (trace ids, uuids).
_NINO = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-Da-d](?![A-Za-z0-9])")
# A UK postcode: outward code (A9, A9A, A99, AA9, AA9A, AA99), optional space, inward code (9AA).
_POSTCODE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}(?![A-Za-z0-9])")

# Keys whose values are personal data whatever they look like; compared in lower case, without "_" or "-".
_PERSONAL_KEYS = frozenset(
    k.replace("_", "")
    for k in (
        "name",
        "names",
        "full_name",
        "first_name",
        "last_name",
        "forename",
        "forenames",
        "middle_names",
        "surname",
        "surnames",
        "previous_surnames",
        "address",
        "addresses",
        "address_line",
        "postcode",
        "post_code",
        "date_of_birth",
        "dob",
        "birth_date",
        "nino",
        "crn",
        "child_reference",
        "email",
        "phone",
        "telephone",
    )
)
_PERSONAL_SUFFIXES = (
    "nino",
    "surname",
    "forename",
    "forenames",
    "postcode",
    "address",
    "dateofbirth",
)


def personal_key(key: object) -> bool:
    """True for a key (log field, span attribute, message field) whose value is personal data."""
    if not isinstance(key, str):
        return False
    k = key.lower().replace("_", "").replace("-", "").rsplit(".", 1)[-1]
    return k in _PERSONAL_KEYS or k.endswith(_PERSONAL_SUFFIXES) or k.startswith("addressline")


def redact_text(text: str) -> str:
    """`text` with every NINO/CRN- and postcode-shaped run masked."""
    return _POSTCODE.sub(MASK, _NINO.sub(MASK, text))


def contains_personal_pattern(text: str) -> bool:
    return bool(_NINO.search(text) or _POSTCODE.search(text))


def redact(value: Any, _depth: int = 0) -> Any:
    """A copy of `value` safe to log: strings scanned, mappings and sequences walked (values under personal keys
    masked whole), exceptions and other objects by their text; numbers, booleans and None as they are."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return redact_text(value)
    if _depth > 8:  # a deep or cyclic structure is not worth the risk
        return MASK
    if isinstance(value, Mapping):
        return {
            k: (MASK if personal_key(k) and value[k] not in (None, "") else redact(v, _depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(v, _depth + 1) for v in value]
    if isinstance(value, BaseException):
        return redact_text(f"{type(value).__name__}: {value}")
    return redact_text(repr(value))


# Our own ids: uuids, hex or decimal runs (with a digit), and prefixed opaque ids ("emp_3f9a0c…", "cis-…"); a name or
# a postcode is none of these. Collections in resource names are lower-case words or camelCase ("paymentPlans", "case-surveillances").
_OWN_ID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|(?=[0-9a-f]*\d)[0-9a-f]{6,32}"
    r"|\d{1,20}"
    r"|[a-z]{2,5}[-_](?=[0-9a-z]*\d)[0-9a-z]{8,32}"
)
_COLLECTION = re.compile(r"[a-z][a-zA-Z]*(?:-[a-z]+)*")
MAX_ECHO = 96


def own_id(value: str) -> bool:
    """True when `value` is an id of our own shape, or a resource name made of collections and such ids."""
    if not value or len(value) > MAX_ECHO or contains_personal_pattern(value):
        return False
    parts = value.split("/")
    if len(parts) == 1:
        return _OWN_ID.fullmatch(value) is not None
    if len(parts) % 2:
        return False
    return all(
        (_COLLECTION if i % 2 == 0 else _OWN_ID).fullmatch(p) is not None
        for i, p in enumerate(parts)
    )


def excerpt(value: object) -> str:
    """What a message may say about a caller's value: the value quoted if it is one of our own ids, else
    "(value withheld)". Never a part of the value: the part a person can read is the part that identifies them."""
    if isinstance(value, str) and own_id(value):
        return f"'{value}'"
    return WITHHELD
