"""The credit reference agency port, in the CMS's terms: what the gateway asks an agency, and the types it speaks.

The file model is the contract's own `cms.cra.v1.CreditFile` (the CRAIN field set): that is the domain here, not the
simulator's invention. A real agency client (Experian, Equifax, TransUnion) implements this port too: it maps the
agency's response into that CreditFile, and the gateway ranks and explains it the same way whichever agency
answered. The simulated agency (simulator/adapter.py) is one implementation.

An agency may refuse a request it is asked to serve (a search, or a monitoring registration): it is unavailable
(UNAVAILABLE) or throttles the caller (RESOURCE_EXHAUSTED), as cms_platform.errors.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from cms.cra.v1 import resources_pb2 as pb


@dataclass(frozen=True)
class Search:
    """One soft search: who is sought, for which case and why (the legal gateway's facts)."""

    case_reference: str
    purpose: pb.SearchPurpose.ValueType
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

    def register_monitoring(self, nino: str, *, on: dt.date) -> pb.CreditFile | None:
        """Ask the agency to monitor a person's file: the file as monitoring starts (None when it holds none)."""
        ...

    def amend_monitoring(self, nino: str) -> None:
        """Tell the agency a monitoring registration changes (a new review date, or it stops)."""
        ...

    def monitor(self, nino: str, *, on: dt.date) -> pb.CreditFile | None:
        """The file as the agency's monitoring product sends it on a date: no search footprint, nothing to refuse."""
        ...

    def file_reference(self, nino: str) -> str:
        """The opaque name audit rows and logs give a person's file, never the NINO."""
        ...
