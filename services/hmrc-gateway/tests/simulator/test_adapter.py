"""The simulated HMRC behind the port (cms_hmrc_gateway.simulator.adapter): every enquiry is admitted by the
simulated platform for the calling application (throttle, maintenance), while what HMRC reports on registered
interests is not an enquiry and is never refused; answers come in the port's own types."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from cms_hmrc_gateway.port import EmploymentView, IncomeSource, MatchOutcome, PersonToMatch
from cms_hmrc_gateway.simulator.adapter import SimulatedHmrc
from cms_platform.clock import ManualClock
from cms_platform.errors import ResourceExhausted, Unavailable
from cms_platform.identity import bind_caller, reset_caller, staff_caller
from cms_simulation.behaviour import ExternalSystemBehaviour, MaintenanceWindow
from cms_simulation.population import Population

NOW = dt.datetime(2026, 4, 6, 9, 0, tzinfo=dt.UTC)
ON = NOW.date()
ALEX = PersonToMatch("AA123456A", "Alex", "Turner", dt.date(1985, 3, 14))
POPULATION = Population(size=1000)


@pytest.fixture
def caller() -> Iterator[None]:
    token = bind_caller(staff_caller("s1"))
    yield
    reset_caller(token)


def hmrc(**behaviour: object) -> SimulatedHmrc:
    return SimulatedHmrc(
        POPULATION,
        behaviour=ExternalSystemBehaviour(clock=ManualClock(NOW), system="HMRC", **behaviour),
    )


def test_an_enquiry_over_the_callers_rate_is_throttled_but_the_feeds_are_not(caller):
    throttled = hmrc(requests_per_second=3, burst=1)
    assert throttled.earned_income(ALEX, ON).match.outcome is MatchOutcome.MATCHED
    with pytest.raises(ResourceExhausted) as err:
        throttled.earned_income(ALEX, ON)
    assert err.value.reason == "MESSAGE_THROTTLED_OUT"
    for _ in range(5):
        income = throttled.latest_income("AA123456A", ON)
        assert income is not None and income.tax_year == "2025-26"


def test_in_maintenance_enquiries_are_refused_and_the_feeds_still_read(caller):
    down = hmrc(maintenance=(MaintenanceWindow(NOW, NOW + dt.timedelta(hours=2)),))
    with pytest.raises(Unavailable) as err:
        down.match(ALEX, ON)
    assert err.value.reason == "SCHEDULED_MAINTENANCE"
    assert down.reporting("AA123456A", ON)
    assert all(isinstance(v, EmploymentView) for v in down.employments("AA123456A", ON))


def test_answers_are_the_ports_own_types(caller):
    answer = hmrc().earned_income(ALEX, ON)
    assert answer.data is not None
    assert (answer.data.tax_year, answer.data.source, answer.data.gross_income_pence) == (
        "2025-26",
        IncomeSource.PAYE,
        31_200_00,
    )
    live = hmrc().live_employments(ALEX, ON).data
    assert live and all(v.live and v.employment.end_date is None for v in live)


def test_an_unknown_person_is_not_reported_on():
    quiet = hmrc()
    assert not quiet.reporting("ZX999999D", ON)
    assert quiet.latest_income("ZX999999D", ON) is None
    assert quiet.children_on_award("ZX999999D", [], ON) is None
