"""UK tax years (6 April to 5 April), labelled "2025-26" as the public HMRC APIs do, plus tax weeks and months.

Other layers use other labels (docs/domain/external-systems.md §1.1): the IF back end "25-26" for PAYE
(`short_tax_year`) and the end year "2026" for Self Assessment (`sa_tax_year`).
"""

from __future__ import annotations

import datetime as dt
import re

RTI_START_YEAR = 2013  # RTI (and HMRC's employment data) starts in tax year 2013-14
_LABEL = re.compile(r"^(\d{4})-(\d{2})$")


def tax_year_start_year(on: dt.date) -> int:
    """The calendar year in which the tax year containing `on` starts."""
    return on.year if (on.month, on.day) >= (4, 6) else on.year - 1


def tax_year_label(start_year: int) -> str:
    return f"{start_year}-{(start_year + 1) % 100:02d}"


def tax_year_of(on: dt.date) -> str:
    """The tax year containing a date: 2026-04-05 -> "2025-26", 2026-04-06 -> "2026-27"."""
    return tax_year_label(tax_year_start_year(on))


def parse_tax_year(tax_year: str | int) -> int:
    """The start year of a "YYYY-YY" tax year (an int start year passes through); ValueError when malformed."""
    if isinstance(tax_year, int):
        return tax_year
    m = _LABEL.match(tax_year.strip())
    if m is None:
        raise ValueError(f"tax year {tax_year!r} must look like 2025-26")
    start = int(m.group(1))
    if int(m.group(2)) != (start + 1) % 100:
        raise ValueError(
            f"tax year {tax_year!r}: the second part must be the year after the first "
            f"({tax_year_label(start)})"
        )
    return start


def tax_year_start(tax_year: str | int) -> dt.date:
    return dt.date(parse_tax_year(tax_year), 4, 6)


def tax_year_end(tax_year: str | int) -> dt.date:
    return dt.date(parse_tax_year(tax_year) + 1, 4, 5)


def tax_years_between(first: dt.date | str | int, last: dt.date | str | int) -> list[str]:
    """Every tax year from the one containing (or named by) `first` to `last`, inclusive, oldest first."""
    a = tax_year_start_year(first) if isinstance(first, dt.date) else parse_tax_year(first)
    b = tax_year_start_year(last) if isinstance(last, dt.date) else parse_tax_year(last)
    return [tax_year_label(y) for y in range(a, b + 1)]


def short_tax_year(tax_year: str | int) -> str:
    """The IF back end's PAYE form: "2025-26" -> "25-26"."""
    start = parse_tax_year(tax_year)
    return f"{start % 100:02d}-{(start + 1) % 100:02d}"


def sa_tax_year(tax_year: str | int) -> str:
    """The IF back end's Self Assessment form, the end year: "2025-26" -> "2026"."""
    return str(parse_tax_year(tax_year) + 1)


def tax_month(on: dt.date) -> int:
    """Tax month 1-12: month 1 runs 6 April to 5 May, month 12 runs 6 March to 5 April."""
    m = on.month - 4 + (0 if on.day >= 6 else -1)
    return m % 12 + 1


def tax_week(on: dt.date) -> int:
    """Tax week 1-53: week 1 runs 6-12 April; week 53 is the last one or two days of the tax year."""
    start = dt.date(tax_year_start_year(on), 4, 6)
    return (on - start).days // 7 + 1
