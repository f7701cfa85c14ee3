"""What a case surveillance counts as news on a file (cms_cra_gateway.surveillance.rules): unit and property tests."""

from __future__ import annotations

import datetime as dt
import uuid

from google.type import date_pb2
from hypothesis import given
from hypothesis import strategies as st

from cms.common.v1 import types_pb2 as common
from cms.cra.v1 import resources_pb2 as pb
from cms_cra_gateway.surveillance.rules import (
    ACTIVE,
    ALL_KINDS,
    DEFAULTS,
    REVIEW_DUE,
    STOPPED,
    Memory,
    alert,
    compare,
    is_surveillance_id,
    review_due,
    snapshot,
    turnover_rose,
)

ON = dt.date(2026, 4, 6)
NEW_ADDRESS = pb.SURVEILLANCE_ALERT_KIND_NEW_ADDRESS
NEW_CURRENT = pb.SURVEILLANCE_ALERT_KIND_NEW_CURRENT_ACCOUNT
TURNOVER = pb.SURVEILLANCE_ALERT_KIND_TURNOVER_INCREASE


def account(account_id: str, *monthly: int, **kw: object) -> pb.CurrentAccount:
    """A sole current account with its turnover, newest month (March 2026) first."""
    months = [
        pb.MonthlyTurnover(month=date_pb2.Date(year=2026, month=3 - i), credit_turnover_pence=p)
        for i, p in enumerate(monthly)
    ]
    return pb.CurrentAccount(
        account_id=account_id, holding=pb.ACCOUNT_HOLDING_SOLE, monthly_turnover=months, **kw
    )


def address(line: str, postcode: str) -> pb.AddressLink:
    return pb.AddressLink(
        address=common.Address(lines=[line], postcode=postcode),
        link_type=pb.ADDRESS_LINK_TYPE_CURRENT,
        first_seen_date=date_pb2.Date(year=2026, month=4, day=1),
    )


def test_what_a_file_holds_when_surveillance_starts_is_not_news():
    f = pb.CreditFile(
        current_accounts=[account("ca-1", 1_000_00)],
        address_links=[address("1 High St", "LS6 1DL")],
    )
    found, memory = compare(snapshot(f), f, watched=ALL_KINDS)
    assert found == [] and memory == snapshot(f)


def test_a_new_entry_alerts_once_and_only_when_watched():
    before = pb.CreditFile(address_links=[address("1 High St", "LS6 1DL")])
    after = pb.CreditFile(
        address_links=[address("1 HIGH  st", "ls61dl"), address("9 New Road", "M1 1AA")],
        current_accounts=[account("ca-2")],
    )
    found, memory = compare(snapshot(before), after, watched=[NEW_ADDRESS])
    # The same address written differently is not new; the account is remembered though not watched.
    assert [(f.kind, f.effective) for f in found] == [(NEW_ADDRESS, dt.date(2026, 4, 1))]
    assert "current:ca-2" in memory.entries
    assert compare(memory, after, watched=ALL_KINDS)[0] == []


def test_no_watched_kinds_means_every_kind():
    found, _ = compare(
        snapshot(None), pb.CreditFile(current_accounts=[account("ca-1")]), watched=[]
    )
    assert [f.kind for f in found] == [NEW_CURRENT]


def test_turnover_rises_by_the_percentage_and_the_amount():
    assert turnover_rose(1_250_00, 1_000_00, DEFAULTS)  # +25% and +£250
    assert not turnover_rose(1_249_99, 1_000_00, DEFAULTS)  # under 25%
    assert not turnover_rose(500_00, 400_00, DEFAULTS)  # +25% but only £100
    assert turnover_rose(600_00, 400_00, DEFAULTS)  # +50% and £200


@given(
    base=st.integers(min_value=0, max_value=10_000_000),
    rise=st.integers(min_value=0, max_value=10_000_000),
)
def test_a_rise_counts_only_when_both_thresholds_are_met(base: int, rise: int):
    average = base + rise
    assert turnover_rose(average, base, DEFAULTS) == (
        average * 100 >= base * 125 and rise >= DEFAULTS.turnover_increase_minimum_pence
    )


def test_a_rise_alerts_once_from_the_trough_and_then_from_the_new_level():
    memory = snapshot(pb.CreditFile(current_accounts=[account("ca-1", 1_000_00)]))

    def check(pence: int) -> list[int]:
        nonlocal memory
        found, memory = compare(
            memory, pb.CreditFile(current_accounts=[account("ca-1", pence)]), watched=ALL_KINDS
        )
        return [f.kind for f in found]

    assert check(800_00) == []  # a fall: the baseline follows it down
    assert memory.turnover == {"ca-1": 800_00}
    assert check(1_000_00) == [TURNOVER]  # +25% and £200 from the trough
    assert check(1_100_00) == []  # the next alert needs a further rise from here
    assert memory.turnover == {"ca-1": 1_000_00}


def test_a_turnover_finding_is_dated_from_its_latest_month_and_never_after_the_check():
    memory = snapshot(pb.CreditFile(current_accounts=[account("ca-1", 1_000_00)]))
    raised = pb.CreditFile(current_accounts=[account("ca-1", 2_000_00)])
    [finding] = compare(memory, raised, watched=ALL_KINDS)[0]
    assert finding.effective == dt.date(2026, 3, 1)
    out = alert(
        finding,
        raised,
        alert_id=str(uuid.uuid4()),
        surveillance_id="s-1",
        case_reference="case-1",
        detected=dt.datetime(2026, 4, 6, 9, tzinfo=dt.UTC),
        on=dt.date(2026, 2, 20),
    )
    assert (out.kind, out.effective_date) == (TURNOVER, date_pb2.Date(year=2026, month=2, day=20))
    assert out.current_account.account_id == "ca-1" and out.assessment.rank == 1


def test_closed_accounts_have_no_baseline():
    closed = account("ca-1", 1_000_00, closed_date=date_pb2.Date(year=2026, month=1, day=31))
    assert snapshot(pb.CreditFile(current_accounts=[closed])).turnover == {}


def test_memory_round_trips_through_its_stored_json():
    memory = Memory({"current:ca-1", "deceased"}, {"ca-1": 1_234}, [NEW_CURRENT])
    assert Memory.from_json(memory.to_json()) == memory
    # Rows stored before the review memory existed read as nothing raised since the last review.
    assert Memory.from_json('{"entries": [], "turnover": {}}').since_review == []


def test_review_is_due_for_an_active_surveillance_from_its_review_date():
    assert review_due(ACTIVE, ON, ON) and review_due(ACTIVE, ON - dt.timedelta(days=1), ON)
    assert not review_due(ACTIVE, ON + dt.timedelta(days=1), ON)
    assert not review_due(REVIEW_DUE, ON, ON) and not review_due(STOPPED, ON, ON)


def test_surveillance_ids_are_uuids():
    assert is_surveillance_id(str(uuid.uuid4()))
    assert not is_surveillance_id("case-surveillances/1") and not is_surveillance_id("")
