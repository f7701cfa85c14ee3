"""How casework words money and dates in what a parent reads: one spelling for every notice and explanation."""

from __future__ import annotations

import calendar
import datetime as dt


def pounds(pence: int) -> str:
    """£1,234.56 (a negative amount as -£1.50)."""
    sign, pence = ("-", -pence) if pence < 0 else ("", pence)
    return f"{sign}£{pence // 100:,}.{pence % 100:02d}"


def long_date(day: dt.date) -> str:
    """6 April 2026."""
    return f"{day.day} {calendar.month_name[day.month]} {day.year}"


def movement(effective: dt.date, before: int, after: int) -> str:
    """What a decision does to the weekly amount from `effective`."""
    if before == after:
        return f"The weekly amount from {long_date(effective)} stays at {pounds(after)}."
    way = "goes down" if after < before else "goes up"
    return f"The weekly amount from {long_date(effective)} {way} from {pounds(before)} to {pounds(after)}."
