"""The simulated CIS's overlay (simulator/overlay.py) over the gateway's migrated database: every write bumps the
stored state's version in the writer's transaction (so every replica's next lookup reloads), and a lookup keeps
what it read, nothing stored included, until the version moves; a person nothing is stored over costs no query of
their own while the set of stored people fits its bound (past it, each person's rows are read once, then kept).
Clock: Monday 6 April 2026 09:00 UTC."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import sessionmaker

import cms_dwp_gateway
from cms.dwp.v1 import dwp_scenario_service_pb2 as api
from cms.dwp.v1 import resources_pb2 as pb
from cms_dwp_gateway.port import Address, BenefitAward, BenefitType, PaymentFrequency
from cms_dwp_gateway.simulator import overlay
from cms_platform.db import make_engine, make_sessionmaker
from cms_platform.migrations import upgrade
from cms_simulation.state import STATE, SimulationStateVersion

NINO = "AG765432A"
HOME = Address(("2 Ffordd y Môr",), "SWANSEA", "SA3 4AA")


@pytest.fixture
def sessions(database_url) -> Iterator[sessionmaker]:
    url = database_url("dwp-overlay")
    upgrade(url, Path(cms_dwp_gateway.__file__).parent / "migrations")
    engine = make_engine(url)
    try:
        yield make_sessionmaker(engine)
    finally:
        engine.dispose()


def version(sessions: sessionmaker) -> int:
    with sessions() as s:
        found = s.scalar(
            select(SimulationStateVersion.version).where(SimulationStateVersion.name == STATE)
        )
        assert found is not None
        return found


def award(amount: int = 100_00) -> BenefitAward:
    return BenefitAward(
        award_id="test-award-1",
        benefit_type=BenefitType.STATE_PENSION,
        claimant_nino=NINO,
        start_date=dt.date(2026, 1, 1),
        decision_date=dt.date(2026, 1, 1),
        amount_pence=amount,
        payment_frequency=PaymentFrequency.WEEKLY,
    )


def test_every_write_bumps_the_version_in_its_transaction(sessions, clock):
    assert version(sessions) == 0
    writes = [
        lambda s: overlay.store_award(s, award(), clock, new=True),
        lambda s: overlay.store_award(s, award(200_00), clock),  # a change to a stored award
        lambda s: overlay.store_address(s, NINO, HOME, clock),
        lambda s: overlay.store_address(s, NINO, HOME, clock),  # over a stored address
        lambda s: overlay.store_person(
            s, NINO, pb.PersonRecord(nino=NINO), api.PersonScenario(), clock
        ),
        lambda s: overlay.store_person(
            s, NINO, pb.PersonRecord(nino=NINO), api.PersonScenario(), clock
        ),
    ]
    for done, write in enumerate(writes, start=1):
        with sessions.begin() as s:
            write(s)
            assert version(sessions) == done - 1  # seen by others only with the change, at commit
        assert version(sessions) == done
    with pytest.raises(RuntimeError), sessions.begin() as s:
        overlay.store_address(s, NINO, HOME, clock)
        raise RuntimeError("the writer fails")
    assert version(sessions) == len(writes)
    overlay.Overlay(sessions, clock).change_address(NINO, HOME)  # Send Update's own transaction
    assert version(sessions) == len(writes) + 1


def test_a_lookup_keeps_what_it_read_until_the_version_moves(sessions, clock):
    cis = overlay.Overlay(sessions, clock)
    assert cis.changes(NINO) == overlay.Changes(None, None, ())
    with sessions.begin() as s:
        # Stored without a bump (no writer does this), so not looked for: the lookup kept "nothing here".
        s.add(
            overlay.AddressRecord(
                nino=NINO,
                address='{"lines": ["1 Stryd"], "post_town": "BALA", "postcode": "LL23 7AA", "country": ""}',
                updated_at=clock.now(),
            )
        )
    assert cis.changes(NINO).address is None
    with sessions.begin() as s:
        overlay.store_award(s, award(), clock, new=True)
    assert cis.changes(NINO) == overlay.Changes(
        None, Address(("1 Stryd",), "BALA", "LL23 7AA"), (award(),)
    )
    with sessions.begin() as s:
        overlay.store_address(s, NINO, HOME, clock)
    assert cis.changes(NINO) == overlay.Changes(None, HOME, (award(),))


def _queries(sessions: sessionmaker) -> list[str]:
    """The statements run from now on, but the version reads."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_):
        if "simulation_state_version" not in statement:
            seen.append(statement)

    event.listen(sessions.kw["bind"], "before_cursor_execute", count)
    return seen


@pytest.mark.parametrize("ninos_limit", [10_000, 1])
def test_only_the_people_something_is_stored_over_are_read(sessions, clock, ninos_limit):
    partner = "AE456789D"
    with sessions.begin() as s:
        overlay.store_award(s, dataclasses.replace(award(), partner_nino=partner), clock, new=True)
        overlay.store_address(s, "AA123456A", HOME, clock)
    cis = overlay.Overlay(sessions, clock, ninos_limit=ninos_limit)
    assert cis.changes(partner).awards == (dataclasses.replace(award(), partner_nino=partner),)
    assert cis.changes("AA123456A").address == HOME
    seen = _queries(sessions)
    assert cis.changes("AB987654C") == overlay.NOTHING
    # Within the bound, the stored people are known: anyone else costs no query. Past it (1: two are stored), each
    # person's rows are read once, then kept.
    assert len(seen) == (0 if ninos_limit > 2 else 3)
    assert cis.changes("AB987654C") == overlay.NOTHING
    assert cis.changes(partner).awards and cis.changes("AA123456A").address == HOME
    assert len(seen) == (0 if ninos_limit > 2 else 3)
