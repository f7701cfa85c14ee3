"""The pure rules of HMRC income enquiries: UK tax years ("2024-25", 6 April to 5 April), which of them HMRC can be
asked about (from 2013-14, when RTI starts, to the current one), and the 13-week RTI window current income is
averaged over (docs/domain/external-systems.md §1.4, §1.6)."""

from __future__ import annotations

import datetime as dt
import re

FIRST_TAX_YEAR = "2013-14"  # RTI data starts here
RTI_WINDOW_DAYS = 91  # the latest 13 weeks of RTI payments

_TAX_YEAR = re.compile(r"([0-9]{4})-([0-9]{2})")


def tax_year_of(day: dt.date) -> str:
    """The tax year containing a date: 5 April 2026 is in "2025-26", 6 April 2026 in "2026-27"."""
    start = day.year if (day.month, day.day) >= (4, 6) else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def is_tax_year(tax_year: str) -> bool:
    """HMRC's "YYYY-YY" form with the second part the first plus one, e.g. "2024-25" (and "2099-00")."""
    m = _TAX_YEAR.fullmatch(tax_year)
    return m is not None and (int(m[1]) + 1) % 100 == int(m[2])


def tax_year_problem(tax_year: str, today: dt.date) -> str | None:
    """Why HMRC cannot be asked about a tax year on `today` (None: it can)."""
    if not is_tax_year(tax_year):
        return 'is not a tax year like "2024-25"'
    if tax_year < FIRST_TAX_YEAR:
        return f"{tax_year} is before {FIRST_TAX_YEAR}, the first year of RTI data"
    if tax_year > tax_year_of(today):
        return f"{tax_year} has not started yet"
    return None


def rti_window(today: dt.date) -> tuple[dt.date, dt.date]:
    """The RTI_WINDOW_DAYS days ending on `today`, both ends included."""
    return today - dt.timedelta(days=RTI_WINDOW_DAYS - 1), today
