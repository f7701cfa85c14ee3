"""Identifier rules the CMS checks before it asks anyone anything: National Insurance numbers and Child Reference
Numbers (docs/domain/external-systems.md §1.1).

A NINO is two prefix letters, six digits and a suffix A-D. Neither prefix letter may be D, F, I, Q, U or V, the
second may not be O, and BG, GB, KN, NK, NT, TN and ZZ are never issued. Spaces are tolerated and case is ignored.
Child Benefit's Child Reference Numbers have the same format, so they follow the same rules.
"""

from __future__ import annotations

import re

FIRST_LETTERS = "ABCEGHJKLMNOPRSTWXYZ"
SECOND_LETTERS = "ABCEGHJKLMNPRSTWXYZ"
NEVER_ISSUED = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})
# Administrative pseudo-prefixes: valid in form, never a person's number.
ADMIN_PREFIXES = frozenset({"OO", "CR", "FY", "MW", "NC"})
_NINO = re.compile(r"^([A-Z]{2})(\d{6})([A-D])$")


def normalise_nino(nino: str) -> str:
    """Upper case, spaces removed (no validation)."""
    return nino.replace(" ", "").upper()


def valid_prefix(prefix: str) -> bool:
    return (
        len(prefix) == 2
        and prefix[0] in FIRST_LETTERS
        and prefix[1] in SECOND_LETTERS
        and prefix not in NEVER_ISSUED
    )


def valid_nino(nino: str) -> bool:
    """True for a NINO HMRC could have issued (prefix rules, suffix A-D); spaces and case tolerated."""
    m = _NINO.match(normalise_nino(nino))
    return m is not None and valid_prefix(m.group(1))


def valid_crn(crn: str) -> bool:
    """True for a Child Reference Number in the NINO format Child Benefit uses."""
    return valid_nino(crn)


def format_nino(nino: str) -> str:
    """Display form: "QQ 12 34 56 A"."""
    n = normalise_nino(nino)
    return f"{n[0:2]} {n[2:4]} {n[4:6]} {n[6:8]} {n[8:]}"
