"""National Insurance numbers of generated people: the invertible index <-> NINO mapping. The format rules are
the platform's (cms_platform.identifiers).

Generated people and children get NINO-format numbers from a keyed bijection (a 4-round Feistel network over the
mixed-radix domain "prefix x 6 digits"), so a NINO decodes back to its index in O(1) with no table, and consecutive
indexes land far apart. The suffix is a keyed function of the rest (the number is unique without it): a NINO with
the right prefix and digits but the wrong suffix is unknown.

Ranges (disjoint, and clear of the fixtures and test values):
- people: first letter B C E G H J K L M N O P R S (258 prefixes, 258 million numbers);
- children's CRNs: first letter T W X Y (75 prefixes, 75 million numbers);
- A... is left to hand-written fixtures (AA123456A...), Z... to "never issued" test values (ZX999999D); the admin
  pseudo-prefixes CR, MW, NC (and OO, FY, which are invalid anyway) are never generated.
"""

from __future__ import annotations

from cms_platform.identifiers import (
    ADMIN_PREFIXES,
    NEVER_ISSUED,
    SECOND_LETTERS,
    format_nino,
    normalise_nino,
    valid_nino,
    valid_prefix,
)

__all__ = [
    "ADMIN_PREFIXES",
    "CHILD_PREFIXES",
    "NEVER_ISSUED",
    "PEOPLE_PREFIXES",
    "NinoScheme",
    "format_nino",
    "mix64",
    "normalise_nino",
    "valid_nino",
    "valid_prefix",
]

_MASK = (1 << 64) - 1


def _prefixes(first_letters: str) -> tuple[str, ...]:
    return tuple(
        a + b
        for a in first_letters
        for b in SECOND_LETTERS
        if valid_prefix(a + b) and a + b not in ADMIN_PREFIXES
    )


PEOPLE_PREFIXES = _prefixes("BCEGHJKLMNOPRS")
CHILD_PREFIXES = _prefixes("TWXY")


def mix64(x: int) -> int:
    """splitmix64 finaliser: a cheap, well-spread 64-bit hash of an integer."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


class NinoScheme:
    """A keyed bijection between [0, capacity) and NINO-format numbers over a range of prefixes."""

    _ROUNDS = 4

    def __init__(self, prefixes: tuple[str, ...], key: int):
        self.prefixes = prefixes
        self._prefix_index = {p: i for i, p in enumerate(prefixes)}
        self.capacity = len(prefixes) * 1_000_000
        self._m = len(prefixes) * 1000  # the high part of the mixed-radix domain
        self._n = 1000  # the low part
        self._keys = tuple(mix64(key * 31 + r) for r in range(self._ROUNDS + 1))

    def _f(self, r: int, v: int) -> int:
        x = ((v ^ self._keys[r]) * 0xBF58476D1CE4E5B9) & _MASK
        return x ^ (x >> 31)

    def _permute(self, x: int) -> int:
        m, n = self._m, self._n
        k0, k1, k2, k3 = self._keys[:4]
        a, b = divmod(x, n)  # a in Z_m, b in Z_n
        for ka, kb in ((k0, k1), (k2, k3)):
            f = ((b ^ ka) * 0xBF58476D1CE4E5B9) & _MASK
            a, b = b, (a + (f ^ (f >> 31))) % m  # a in Z_n, b in Z_m
            f = ((b ^ kb) * 0xBF58476D1CE4E5B9) & _MASK
            a, b = b, (a + (f ^ (f >> 31))) % n  # a in Z_m, b in Z_n
        return a * n + b

    def _unpermute(self, y: int) -> int:
        m, n = self._m, self._n
        a, b = divmod(y, n)
        for r in range(self._ROUNDS - 2, -1, -2):
            a, b = (b - self._f(r + 1, a)) % n, a  # undo the second half-round
            a, b = (b - self._f(r, a)) % m, a  # undo the first
        return a * n + b

    def _suffix(self, code: int) -> str:
        return "ABCD"[mix64(self._keys[self._ROUNDS] ^ code) & 3]

    def encode(self, index: int) -> str:
        if not 0 <= index < self.capacity:
            raise IndexError(f"index {index} outside 0..{self.capacity - 1}")
        code = self._permute(index)
        prefix, number = divmod(code, 1_000_000)
        return f"{self.prefixes[prefix]}{number:06d}{self._suffix(code)}"

    def decode(self, nino: str) -> int | None:
        """The index a NINO was generated from, or None (other range, invalid, or wrong suffix)."""
        n = normalise_nino(nino)
        if len(n) != 9:
            return None
        p = self._prefix_index.get(n[:2])
        digits = n[2:8]
        if p is None or not digits.isdigit():
            return None
        code = p * 1_000_000 + int(digits)
        if n[8] != self._suffix(code):
            return None
        return self._unpermute(code)
