"""The simulated HMRC behind the port (cms_hmrc_gateway.simulator.adapter): every enquiry is admitted by the
simulated platform for the calling application (throttle, maintenance), while what HMRC reports on registered
interests is not an enquiry and is never refused; answers come in the port's own types."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

import pytest

from cms_hmrc_gateway.port import (
    ChildToFind,
    EmploymentView,
    IncomeSource,
    MatchOutcome,
    PersonToMatch,
)
from cms_hmrc_gateway.simulator.adapter import SimulatedHmrc, person_to_match
from cms_platform.clock import ManualClock
from cms_platform.errors import FailedPrecondition, ResourceExhausted, Unavailable
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


def test_child_benefit_answers_from_the_claimant_as_from_the_whole_person(caller):
    """The Child Benefit enquiry reads a claimant generated without income; its answer is the one the whole
    person gives (read here through other_children_benefit, which still generates it), for every child of every
    claimant in a small population, in a message read together (for_people) as when asked alone."""
    population = Population(size=3000, seed=7)
    plain = SimulatedHmrc(population)
    scenario = population.person(population.nino_at(0))
    assert scenario is not None and scenario.child_benefit is not None
    renamed = dataclasses.replace(scenario, surname="Quayle", generated=False)
    asked_together: list[tuple[PersonToMatch, ChildToFind]] = []
    for index in range(0, 3000, 3):  # every receiving parent: most claim
        person = population.person_at(index)
        for c in person.child_benefit.children if person.child_benefit else ():
            child = ChildToFind(c.forenames, c.surname, c.date_of_birth, c.child_reference_number)
            asked_together.append((person_to_match(person), child))
    assert len(asked_together) > 1000
    answers_alone = []
    for claimant, child in asked_together:
        try:
            whole = plain.other_children_benefit(claimant, [child], ON)
        except FailedPrecondition as exc:  # deceased or restricted: the same refusal either way
            with pytest.raises(FailedPrecondition) as same:
                plain.child_benefit(claimant, [child], ON)
            assert same.value.reason == exc.reason
            continue
        assert plain.child_benefit(claimant, [child], ON) == whole
        answers_alone.append(whole)
    # A scenario override (here a new surname) wins over the generated claimant in a message read together.
    loads: list[set[str]] = []

    def overrides_of(ninos):
        loads.append(set(ninos))
        return {n: renamed if n == renamed.nino else None for n in ninos}

    together = SimulatedHmrc(
        population, lambda n: pytest.fail("read one by one"), overrides_of=overrides_of
    ).for_people([c.nino for c, _ in asked_together])
    answers_together, overridden = [], []
    for claimant, child in asked_together:
        try:
            answer = together.child_benefit(claimant, [child], ON)
        except FailedPrecondition:
            continue
        (overridden if claimant.nino == renamed.nino else answers_together).append(answer)
    assert len(loads) == 1
    # "Quayle" is not the surname asked for: each of the scenario person's children is a partial match.
    assert [a.match.outcome for a in overridden] == [MatchOutcome.PARTIAL] * len(
        scenario.child_benefit.children
    )
    assert answers_together == answers_alone[len(overridden) :]
