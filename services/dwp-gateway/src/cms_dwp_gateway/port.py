"""The DWP port (CIS and Jobcentre Plus), in domain terms. A real CIS/JCP client implements this too."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class NinoVerification:
    found: bool
    failed_rules: tuple[str, ...] = ()
    nino: str = ""


class CisPort(Protocol):
    def verify_nino(self, *, nino: str, forenames: str, surname: str, date_of_birth: dt.date) -> NinoVerification:
        """CIS Verify NINO."""
        ...
