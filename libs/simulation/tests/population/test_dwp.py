"""Live awards and suspensions on a date (cms_simulation.population.dwp): an award is live from its start date to
its end date inclusive, and a suspension covers its own dates (an open one, every later date)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from cms_simulation.population import FIXTURES
from cms_simulation.population.dwp import live_awards, suspended_on
from cms_simulation.population.model import (
    AwardEndReason,
    BenefitAward,
    BenefitType,
    PaymentSuspension,
)

D = dt.date


def test_live_awards_and_suspensions_on_a_date():
    award = BenefitAward(
        "X-B1",
        BenefitType.CARERS_ALLOWANCE,
        "AA123456A",
        D(2025, 1, 6),
        D(2025, 1, 20),
        83_30,
        "WEEKLY",
        end_date=D(2025, 12, 31),
        end_reason=AwardEndReason.ENTITLEMENT_ENDED,
        suspensions=(
            PaymentSuspension(D(2025, 3, 1), D(2025, 3, 31), "FAILED_TO_ATTEND"),
            PaymentSuspension(D(2025, 11, 1), None, "DOUBT_ON_ENTITLEMENT"),
        ),
    )
    later = BenefitAward(
        "X-B2",
        BenefitType.STATE_PENSION,
        "AA123456A",
        D(2026, 1, 1),
        D(2026, 1, 9),
        921_00,
        "FOUR_WEEKLY",
    )
    person = dataclasses.replace(FIXTURES[0], benefit_awards=(award, later))
    assert live_awards(person, D(2025, 1, 5)) == ()
    assert live_awards(person, D(2025, 1, 6)) == (award,)
    assert live_awards(person, D(2025, 12, 31)) == (award,)  # the end date is the last day
    assert live_awards(person, D(2026, 1, 1)) == (later,)
    assert not suspended_on(award, D(2025, 2, 28)) and suspended_on(award, D(2025, 3, 1))
    assert suspended_on(award, D(2025, 3, 31)) and not suspended_on(award, D(2025, 4, 1))
    assert suspended_on(award, D(2025, 11, 1)) and suspended_on(
        award, D(2030, 1, 1)
    )  # an open suspension
    assert not suspended_on(later, D(2026, 6, 1))
