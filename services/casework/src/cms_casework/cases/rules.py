"""Casework rules that need no I/O: what a new case must contain, and NINO format (interfaces.md §1)."""

from __future__ import annotations

import re

from cms_platform.errors import ViolationCollector

# Two prefix letters (not D, F, I, Q, U, V; second not O; not the unallocated BG, GB, KN, NK, NT, TN, ZZ),
# six digits, suffix A–D.
_NINO = re.compile(r"^(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]$")


def normalise_nino(nino: str) -> str:
    return nino.replace(" ", "").upper()


def valid_nino(nino: str) -> bool:
    return bool(_NINO.match(normalise_nino(nino)))


def check_new_case(request) -> None:
    v = ViolationCollector()
    for role in ("paying_parent", "receiving_parent"):
        nino = getattr(request, role).identity.nino
        if nino and not valid_nino(nino):
            v.add(f"{role}.identity.nino", "is not a valid National Insurance number")
    if not request.qualifying_children:
        v.add("qualifying_children", "an application needs at least one qualifying child")
    for i, child in enumerate(request.qualifying_children):
        if not 0 <= child.paying_parent_nights_per_year <= 366:
            v.add(f"qualifying_children[{i}].paying_parent_nights_per_year", "must be between 0 and 366")
    if (request.paying_parent.identity.nino and
            normalise_nino(request.paying_parent.identity.nino) == normalise_nino(request.receiving_parent.identity.nino)):
        v.add("receiving_parent.identity.nino", "the receiving parent cannot be the paying parent")
    v.raise_if_any()
