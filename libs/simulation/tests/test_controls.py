"""The shared run-time controls of a simulated system (cms_simulation.controls) as pure logic: outage windows and the
refusal they give, the weekend maintenance window, batch times, latency through three quantiles and settings
updates under a field mask; and the behaviour reading them before each call. Then, on the suite's database, the
stored controls: every writer bumps the stored state's version, and a change made through one replica is read by
another that has already cached the controls, on its very next call."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from google.protobuf import duration_pb2

from cms_platform import calls
from cms_platform.clock import ManualClock
from cms_platform.errors import ResourceExhausted, Unavailable, ViolationCollector
from cms_simulation.behaviour import ExternalSystemBehaviour
from cms_simulation.controls import (
    Conditions,
    OutageKind,
    OutageWindow,
    StoredControls,
    cancel_outage,
    latency,
    next_batch,
    refusal,
    schedule_outage,
    store_settings,
    updated_settings,
    weekend_window,
)
from cms_simulation.state import STATE, SimulationStateVersion

MONDAY = dt.datetime(2026, 4, 6, 9, 0, tzinfo=dt.UTC)


def at(days: float = 0, hours: float = 0) -> dt.datetime:
    return MONDAY + dt.timedelta(days=days, hours=hours)


def window(start, end, kind=OutageKind.UNPLANNED, methods=()):
    return OutageWindow("o", kind, start, end, tuple(methods))


def test_a_window_covers_its_methods_from_its_start_up_to_its_end():
    w = window(at(), at(hours=1), methods=["VerifyNino"])
    assert w.covers(at(), "VerifyNino") and w.covers(at(hours=0.99), "VerifyNino")
    assert not w.covers(at(hours=1), "VerifyNino")  # the end is when the system is back
    assert not w.covers(at(), "GetPersonRecord")
    assert window(at(), at(hours=1)).covers(at(), "anything")  # no methods: all


def test_the_refusal_names_the_kind_and_waits_for_the_last_covering_window():
    now = at()
    assert refusal([], now, "CIS", "SERVICE_UNAVAILABLE") is None
    planned = refusal([window(now, at(hours=1), OutageKind.SCHEDULED_MAINTENANCE)], now, "CIS", "X")
    assert isinstance(planned, Unavailable) and planned.reason == "SCHEDULED_MAINTENANCE"
    both = refusal(
        [
            window(now, at(hours=1), OutageKind.SCHEDULED_MAINTENANCE),
            window(now, at(hours=2)),
        ],
        now,
        "CIS",
        "SERVICE_UNAVAILABLE",
    )
    assert both is not None and both.reason == "SERVICE_UNAVAILABLE"
    assert both.retry_after_seconds == 7200


@pytest.mark.parametrize(
    "now, expected",
    [
        (at(days=4, hours=7.99), None),  # Friday 16:59
        (at(days=4, hours=8), (at(days=4, hours=8), at(days=7))),  # Friday 17:00 to Monday 09:00
        (at(days=5, hours=3), (at(days=4, hours=8), at(days=7))),  # Saturday noon
        (at(days=7, hours=-0.01), (at(days=4, hours=8), at(days=7))),  # Monday 08:59
        (at(days=7), None),  # Monday 09:00
        (at(days=2), None),  # Wednesday
    ],
)
def test_the_weekend_window_runs_from_friday_17_00_to_monday_09_00(now, expected):
    assert weekend_window(now) == expected


def test_a_batch_runs_at_the_first_batch_time_at_or_after_the_due_time():
    two, eighteen = dt.time(2), dt.time(18)
    assert next_batch(at(hours=1), []) == at(hours=1)
    assert next_batch(at(hours=1), [eighteen, two]) == at(hours=9)  # Monday 18:00
    assert next_batch(at(hours=9), [two, eighteen]) == at(hours=9)
    assert next_batch(at(hours=10), [two, eighteen]) == at(days=1, hours=-7)  # Tuesday 02:00


def test_latency_follows_the_three_quantiles():
    c = Conditions(latency_p50=0.3, latency_p95=2.0, latency_p99=8.0)
    rng = random.Random(7)
    draws = sorted(latency(c, rng) for _ in range(20_000))
    for q, expected in ((0.5, 0.3), (0.95, 2.0), (0.99, 8.0)):
        assert draws[int(q * len(draws))] == pytest.approx(expected, rel=0.1), q
    assert latency(Conditions(), rng) == 0


def test_a_mask_takes_only_the_fields_it_names():
    current = duration_pb2.Duration(seconds=5, nanos=7)
    given = duration_pb2.Duration(seconds=9, nanos=1)
    v = ViolationCollector()
    out = updated_settings(
        current,
        given,
        ["seconds"],
        defaults=lambda p: duration_pb2.Duration(),
        v=v,
        profile_field="nanos",
    )
    assert (out.seconds, out.nanos) == (9, 7) and not v.violations
    # Naming the profile starts from its defaults; fields named with it override them.
    out = updated_settings(
        current,
        given,
        ["nanos"],
        defaults=lambda p: duration_pb2.Duration(seconds=100, nanos=p),
        v=v,
        profile_field="nanos",
    )
    assert (out.seconds, out.nanos) == (100, 1)
    updated_settings(
        current, given, ["hours"], defaults=lambda p: given, v=v, profile_field="nanos"
    )
    assert [x.field for x in v.violations] == ["update_mask.paths[0]"]


def test_the_behaviour_reads_the_live_conditions_and_outages_on_each_call():
    clock = ManualClock(MONDAY)
    live: dict = {"conditions": Conditions(), "windows": []}
    seen: list[str] = []

    def read(now, method):
        seen.append(method)
        return live["conditions"], [w for w in live["windows"] if w.covers(now, method)]

    b = ExternalSystemBehaviour(clock=clock, system="CIS", live=read)
    b.admit("caller", "VerifyNino")
    live["windows"] = [window(MONDAY, at(hours=1), methods=["VerifyNino"])]
    with pytest.raises(Unavailable):
        b.admit("caller", "VerifyNino")
    b.admit("caller", "GetPersonRecord")
    live["conditions"] = Conditions(requests_per_second=0.001)
    for _ in range(10):  # the burst
        b.admit("caller", "GetPersonRecord")
    with pytest.raises(ResourceExhausted):
        b.admit("caller", "GetPersonRecord")
    assert seen[:3] == ["VerifyNino", "VerifyNino", "GetPersonRecord"]


def test_a_system_slower_than_the_callers_deadline_is_given_up_on_in_time():
    slow = Conditions(latency_p50=30.0, latency_p95=40.0, latency_p99=50.0)
    b = ExternalSystemBehaviour(
        clock=ManualClock(MONDAY), system="CIS", live=lambda now, method: (slow, [])
    )
    # The call has no time to spare beyond its answer margin: UNAVAILABLE now, not an answer past its deadline.
    with calls.serving("VerifyNino", timeout=calls.ANSWER_MARGIN_SECONDS):
        with pytest.raises(Unavailable) as err:
            b.admit("caller")
    assert "deadline" in err.value.message


def test_without_a_mask_a_profile_keeps_its_defaults_but_for_the_fields_given():
    current = duration_pb2.Duration(seconds=5, nanos=7)
    v = ViolationCollector()

    def defaults(p):
        return duration_pb2.Duration(seconds=100, nanos=p)

    out = updated_settings(
        current, duration_pb2.Duration(nanos=2), [], defaults=defaults, v=v, profile_field="nanos"
    )
    assert (out.seconds, out.nanos) == (100, 2)
    out = updated_settings(
        current,
        duration_pb2.Duration(seconds=1, nanos=2),
        [],
        defaults=defaults,
        v=v,
        profile_field="nanos",
    )
    assert (out.seconds, out.nanos) == (1, 2)
    # No profile: every field is replaced, the profile kept.
    out = updated_settings(
        current, duration_pb2.Duration(), [], defaults=defaults, v=v, profile_field="nanos"
    )
    assert (out.seconds, out.nanos) == (0, 7) and not v.violations


# -- stored, over the suite's database ----------------------------------------------------------------------------


def _version(sessions) -> int:
    with sessions() as s:
        row = s.get(SimulationStateVersion, STATE)
        assert row is not None
        return row.version


def _schedule(sessions, clock, start, end, methods=()) -> OutageWindow:
    with sessions.begin() as s:
        return schedule_outage(
            s,
            kind=OutageKind.UNPLANNED,
            start=start,
            end=end,
            methods=methods,
            description="",
            clock=clock,
        )


def test_every_write_to_the_controls_bumps_the_version_in_its_transaction(state_db):
    clock = ManualClock(MONDAY)
    with state_db.begin() as s:
        store_settings(s, duration_pb2.Duration(seconds=1), clock=clock)
    assert _version(state_db) == 1
    with state_db.begin() as s:
        store_settings(s, duration_pb2.Duration(seconds=2), clock=clock)  # an update, not an insert
    assert _version(state_db) == 2
    w = _schedule(state_db, clock, at(), at(hours=1))
    assert _version(state_db) == 3
    with state_db.begin() as s:
        cancel_outage(s, w.outage_id, clock=clock)
    assert _version(state_db) == 4


def test_a_change_through_one_replica_holds_at_another_that_cached_the_controls(state_db):
    clock = ManualClock(MONDAY)
    # Two replicas' views of the one database, each with its own cache.
    reader = StoredControls(state_db, duration_pb2.Duration, duration_pb2.Duration)
    assert reader.now(at(), "VerifyNino") == (None, [])
    assert reader.settings() == duration_pb2.Duration()
    with state_db.begin() as s:  # through the other replica
        store_settings(s, duration_pb2.Duration(seconds=9), clock=clock)
    assert reader.settings().seconds == 9 and reader.now(at(), "VerifyNino")[0].seconds == 9
    w = _schedule(state_db, clock, at(), at(hours=1), ["VerifyNino"])
    assert [o.outage_id for o in reader.now(at(), "VerifyNino")[1]] == [w.outage_id]
    assert reader.now(at(), "GetPersonRecord")[1] == []
    with state_db.begin() as s:
        cancel_outage(s, w.outage_id, clock=clock)
    assert reader.now(at(), "VerifyNino")[1] == []


def test_a_later_outage_starts_on_the_clock_and_a_clock_set_back_sees_outages_ended_since(state_db):
    clock = ManualClock(MONDAY)
    reader = StoredControls(state_db, duration_pb2.Duration, duration_pb2.Duration)
    w = _schedule(state_db, clock, at(hours=1), at(hours=2))
    assert reader.now(at(), "")[1] == []  # loaded now, the outage among them
    assert [o.outage_id for o in reader.now(at(hours=1.5), "")[1]] == [w.outage_id]
    assert reader.now(at(hours=3), "")[1] == []
    late = StoredControls(state_db, duration_pb2.Duration, duration_pb2.Duration)
    assert late.now(at(hours=3), "")[1] == []  # loaded after it ended, so without it
    assert [o.outage_id for o in late.now(at(hours=1.5), "")[1]] == [w.outage_id]
