"""Fixtures the population tests share: an employer and a factory for a simple employment with it (the RTI and
HMRC-figure tests both build employments)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from cms_simulation.population.model import Address, Employer, Employment, PayFrequency

D = dt.date


@pytest.fixture(scope="session")
def acme() -> Employer:
    return Employer(
        "Acme Widgets Ltd",
        Address(("Unit 4", "Trade Park"), "LEEDS", "LS1 4AB"),
        "0113 496 0000",
        "247/A1987CB",
    )


@pytest.fixture(scope="session")
def employment(acme: Employer) -> Callable[..., Employment]:
    """employment(frequency, start, end, annual, **kw): an Employment "AB123456C-E1" at Acme, monthly from
    6 January 2020 at £30,000 unless told otherwise."""

    def employment(
        frequency=PayFrequency.MONTHLY, start=D(2020, 1, 6), end=None, annual=3_000_000, **kw
    ) -> Employment:
        return Employment("AB123456C-E1", acme, "P1", start, end, frequency, annual, **kw)

    return employment
