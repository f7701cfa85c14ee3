"""The credit reference agency port, in domain terms. A real CRA client implements this too."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class TraceResult:
    found: bool
    failed_rules: tuple[str, ...] = ()


class CreditReferencePort(Protocol):
    def trace(self, *, case_reference: str, nino: str, forenames: str, surname: str,
              date_of_birth: dt.date) -> TraceResult:
        """Trace a person (address links come with the credit-file simulation)."""
        ...
