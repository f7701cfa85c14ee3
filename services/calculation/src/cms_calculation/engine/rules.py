"""The rule set: statutory figures as named, effective-dated parameters (rules.md §2, §5, §8)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class RuleSet:
    version: str
    effective_from: dt.date
    weekly_income_cap_pence: int
    basic_rate_floor_pence: int  # GWI below this is not on the basic rate (Sch 1 para 3(1))
    basic_plus_threshold_pence: int
    basic_percent_by_children: tuple[int, int, int]  # 1, 2, 3+ qualifying children
    basic_plus_percent_by_children: tuple[int, int, int]
    roc_reduction_percent: tuple[int, int, int]  # 1, 2, 3+ relevant other children
    paying_parent_fee_basis_points: int
    receiving_parent_fee_basis_points: int


# The 2012 scheme as in force (no uprating since 2012 was found: rules.md §2), with the 2014 fees.
SCHEME_2012 = RuleSet(
    version="2012.1",
    effective_from=dt.date(2012, 12, 10),
    weekly_income_cap_pence=300_000,
    basic_rate_floor_pence=20_000,
    basic_plus_threshold_pence=80_000,
    basic_percent_by_children=(12, 16, 19),
    basic_plus_percent_by_children=(9, 12, 15),
    roc_reduction_percent=(11, 14, 16),
    paying_parent_fee_basis_points=2000,
    receiving_parent_fee_basis_points=400,
)


def rule_set_for(effective_date: dt.date) -> RuleSet:
    return SCHEME_2012
