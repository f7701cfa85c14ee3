"""The shape of a generated household, shared by the generator and the benefit awards it derives: who the (up to)
three adults are, how they are related, and the children each claims Child Benefit for."""

from __future__ import annotations

from typing import NamedTuple


class ChildSeed(NamedTuple):
    number: int  # 0-7 within the block
    date_of_birth: int  # ordinal
    female: bool


class Household(NamedTuple):
    kind: int
    roles: tuple[int, int, int]
    female: tuple[bool, bool, bool]
    dobs: tuple[int, int, int]  # ordinals
    partner: tuple[int, int, int]  # position of the partner in the block, or -1
    other_parent: tuple[int, int, int]
    claims: tuple[tuple[ChildSeed, ...], tuple[ChildSeed, ...], tuple[ChildSeed, ...]]
