"""The credit reference agency port, in the CMS's terms. A real agency client (Experian, Equifax, TransUnion)
implements it too: it maps the agency's response into the CRAIN-shaped CreditFile of the contract, and the gateway
ranks and explains it the same way whichever agency answered."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from cms.cra.v1 import resources_pb2 as pb


@dataclass(frozen=True)
class Search:
    """One soft search: who is sought, for which case and why (the legal gateway's facts)."""

    case_reference: str
    purpose: int  # cms.cra.v1.SearchPurpose
    nino: str
    forenames: str
    surname: str
    date_of_birth: dt.date


@dataclass(frozen=True)
class SearchOutcome:
    found: bool
    failed_rules: tuple[str, ...]
    file: pb.CreditFile | None  # as the agency shows it on the search date; None when not found
    search_reference: str  # the footprint left on the file ("" when no file was found)
    file_reference: str  # opaque name for logs and audit, never the NINO


class CreditReferencePort(Protocol):
    def search(self, search: Search, *, on: dt.date) -> SearchOutcome:
        """Search the agency's files; a file found carries a soft (no-footprint) search record afterwards."""
        ...

    def monitor(self, nino: str, *, on: dt.date) -> pb.CreditFile | None:
        """The file as a monitoring (surveillance) product sees it on a date: no search footprint."""
        ...

    def file_reference(self, nino: str) -> str: ...
