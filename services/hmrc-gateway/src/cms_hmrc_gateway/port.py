"""The HMRC port: what the CMS needs from HMRC, in domain terms. A real HMRC client implements this too."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class PersonToMatch:
    nino: str
    forenames: str
    surname: str
    date_of_birth: dt.date


class MatchOutcome(enum.StrEnum):
    MATCHED = "MATCHED"
    PARTIAL = "PARTIAL"
    NOT_FOUND = "NOT_FOUND"


@dataclass(frozen=True)
class EarnedIncomeSummary:
    outcome: MatchOutcome
    failed_rules: tuple[str, ...] = ()
    # Only for a full match with data held.
    income_data_held: bool = False
    tax_year: str = ""
    gross_income_pence: int = 0
    employment_income_pence: int = 0


class HmrcPort(Protocol):
    def summary_of_earned_income(self, person: PersonToMatch) -> EarnedIncomeSummary:
        """Summary Of Earned Income: the HMRC figure for the latest tax year HMRC holds."""
        ...
