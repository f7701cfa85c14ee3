"""The ids the simulated HMRC and DWP give employments and benefit awards: opaque, stable, decodable by the simulator.

An id spelt from a NINO ("AB123456C-E2") puts the person's number into every message, log line and span that names
the employment or award (docs/architecture.md, "Personal data in logs, spans and errors"). Instead the triple
(NINO, kind, sequence number) is packed into 56 bits with an 8-bit check, put through a keyed 64-bit Feistel
permutation and written in hex: `emp_3f9a0c1e22b4d5f6`, `awd_…`. The same person's second employment always has
the same id; nobody reading it sees a NINO; the simulator, which must find the person behind a generated award, can
decode it. (Not encryption against someone holding this code: the point is what logs and messages show.)

`legacy(id)` is the NINO-spelt form the id replaces. The population is derived from it where it was derived from the
id (RTI pay days, the order of awards that start on the same day), so the simulated world is unchanged by the new
spelling.
"""

from __future__ import annotations

import hashlib

from .nino import mix64, normalise_nino

EMPLOYMENT = "emp"
AWARD = "awd"
_MASK32 = (1 << 32) - 1
_KEYS = tuple(mix64(0x1D5_2026_0013 * 31 + r) for r in range(5))  # 4 rounds and the check
_ROUNDS = 4


def _nino_code(nino: str) -> int:
    """A NINO-format number as 32 bits: letters (26 x 26), six digits, suffix A-D."""
    n = normalise_nino(nino)
    if len(n) != 9 or not (n[:2].isalpha() and n[:2].isascii() and n[2:8].isdigit()):
        raise ValueError("not in the NINO format")
    if n[8] not in "ABCD":
        raise ValueError("not in the NINO format")
    letters = (ord(n[0]) - 65) * 26 + (ord(n[1]) - 65)
    return (letters * 1_000_000 + int(n[2:8])) * 4 + "ABCD".index(n[8])


def _nino_of(code: int) -> str | None:
    rest, suffix = divmod(code, 4)
    letters, digits = divmod(rest, 1_000_000)
    if letters >= 26 * 26:
        return None
    first, second = divmod(letters, 26)
    return f"{chr(65 + first)}{chr(65 + second)}{digits:06d}{'ABCD'[suffix]}"


def _f(r: int, half: int) -> int:
    return mix64(half ^ _KEYS[r]) & _MASK32


def _permute(x: int) -> int:
    left, right = x >> 32, x & _MASK32
    for r in range(_ROUNDS):
        left, right = right, left ^ _f(r, right)
    return (left << 32) | right


def _unpermute(y: int) -> int:
    left, right = y >> 32, y & _MASK32
    for r in reversed(range(_ROUNDS)):
        left, right = right ^ _f(r, left), left
    return (left << 32) | right


def _check(body: int) -> int:
    return mix64(body ^ _KEYS[_ROUNDS]) & 0xFF


def make(prefix: str, nino: str, kind: str, n: int) -> str:
    """The id of `nino`'s `n`th item of `kind` (one ASCII letter, or "" ): e.g. make(EMPLOYMENT, nino, "E", 2)."""
    if not 0 <= n < 1 << 16 or len(kind) > 1 or not kind.isascii():
        raise ValueError("kind is one letter or none, n below 65536")
    body = (_nino_code(nino) << 24) | ((ord(kind) if kind else 0) << 16) | n
    return f"{prefix}_{_permute((body << 8) | _check(body)):016x}"


def employment_id(nino: str, n: int, kind: str = "E") -> str:
    return make(EMPLOYMENT, nino, kind, n)


def award_id(nino: str, kind: str, n: int) -> str:
    return make(AWARD, nino, kind, n)


def hashed(prefix: str, *parts: str) -> str:
    """An opaque id for something with no sequence number (e.g. an employment known by PAYE reference and payroll
    id): 20 hex digits, so it never decodes."""
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=10, key=b"cms-simulation-ids")
    return f"{prefix}_{digest.hexdigest()}"


def decode(item_id: str) -> tuple[str, str, int] | None:
    """(NINO, kind, n) of an id made here, or None for any other string."""
    prefix, _, digits = item_id.partition("_")
    if prefix not in (EMPLOYMENT, AWARD) or len(digits) != 16 or digits.strip("0123456789abcdef"):
        return None
    try:
        x = _unpermute(int(digits, 16))
    except ValueError:
        return None
    body, check = x >> 8, x & 0xFF
    if check != _check(body):
        return None
    nino = _nino_of(body >> 24)
    kind = (body >> 16) & 0xFF
    if nino is None or (kind and not chr(kind).isalpha()):
        return None
    return nino, chr(kind) if kind else "", body & 0xFFFF


def nino_of(item_id: str) -> str | None:
    decoded = decode(item_id)
    return decoded[0] if decoded else None


def legacy(item_id: str) -> str:
    """The NINO-spelt id this one replaces ("AB123456C-E2"); any other id as it is."""
    decoded = decode(item_id)
    if decoded is None:
        return item_id
    nino, kind, n = decoded
    return f"{nino}-{kind}{n}"
