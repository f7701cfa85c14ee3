"""Business time (cms_platform.clock)."""

from __future__ import annotations

import datetime as dt

from cms_platform.clock import ManualClock


def test_manual_clock_moves_only_when_told():
    clock = ManualClock(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert clock.now() == clock.now()
    clock.advance(dt.timedelta(days=42))
    assert clock.today() == dt.date(2026, 2, 12)
