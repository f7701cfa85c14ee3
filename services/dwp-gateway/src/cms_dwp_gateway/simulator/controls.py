"""The scenario admin's run-time controls of the simulated CIS and JCP: the simulation settings (its profiles, their
checks and what they mean for the simulated systems) and outage windows, over the shared machinery of
cms_simulation.controls."""

from __future__ import annotations

import datetime as dt
import random

from google.protobuf import duration_pb2
from google.type import timeofday_pb2
from sqlalchemy.orm import Session, sessionmaker

from cms.dwp.v1 import dwp_scenario_service_pb2 as api
from cms_platform.clock import Clock
from cms_platform.errors import ViolationCollector
from cms_platform.paging import page, page_of
from cms_simulation import controls
from cms_simulation.controls import (
    Conditions,
    OutageKind,
    OutageWindow,
    instant_or_violation,
    seconds_of,
)
from cms_simulation.state import StateVersion

from .settings import SimulatedDwpGatewaySettings

S = api.SimulationSettings

_BASIS_POINTS = 10_000
_YEAR = 366 * 86_400
_KIND = {
    api.OUTAGE_KIND_SCHEDULED_MAINTENANCE: OutageKind.SCHEDULED_MAINTENANCE,
    api.OUTAGE_KIND_UNPLANNED: OutageKind.UNPLANNED,
}
_KIND_PB = {kind: value for value, kind in _KIND.items()}


def _duration(seconds: float) -> duration_pb2.Duration:
    d = duration_pb2.Duration()
    d.FromTimedelta(dt.timedelta(seconds=seconds))
    return d


def profile_defaults(profile: int) -> S:
    """A profile's settings (docs/domain/external-systems.md §4): DEFAULT is fast and deterministic; REALISTIC has
    HMRC-like latency and throttling, weekend maintenance, JCP deciding after 3 days in a nightly batch and next-day
    broadcasts."""
    if profile == api.SIMULATION_PROFILE_REALISTIC:
        return S(
            profile=api.SIMULATION_PROFILE_REALISTIC,
            latency_p50=_duration(0.3),
            latency_p95=_duration(2),
            latency_p99=_duration(8),
            random_failure_basis_points=50,
            requests_per_second_limit=3,
            weekend_maintenance=True,
            jcp_decision_delay=_duration(3 * 86_400),
            jcp_batch_times=[timeofday_pb2.TimeOfDay(hours=2)],
            broadcast_delay=_duration(86_400),
            partial_match_basis_points=100,
            stale_record_basis_points=300,
        )
    return S(profile=api.SIMULATION_PROFILE_DEFAULT)


def initial(settings: SimulatedDwpGatewaySettings) -> S:
    """The settings before a scenario admin changes any: the DEFAULT profile with what the gateway's own settings
    (DWP_GATEWAY_*) switch on."""
    out = profile_defaults(api.SIMULATION_PROFILE_DEFAULT)
    out.latency_p50.CopyFrom(_duration(settings.latency_p50_ms / 1000))
    out.random_failure_basis_points = round(settings.outage_probability * _BASIS_POINTS)
    out.requests_per_second_limit = round(settings.throttle_requests_per_second)
    out.jcp_decision_delay.CopyFrom(_duration(settings.jcp_decision_delay_hours * 3600))
    out.universal_credit_deductions_with_earnings = (
        settings.universal_credit_deductions_with_earnings
    )
    return out


def initial_conditions(settings: SimulatedDwpGatewaySettings) -> Conditions:
    return Conditions(
        latency_p50=settings.latency_p50_ms / 1000,
        failure_probability=settings.outage_probability,
        requests_per_second=settings.throttle_requests_per_second,
    )


def conditions_of(s: S) -> Conditions:
    return Conditions(
        latency_p50=seconds_of(s.latency_p50),
        latency_p95=seconds_of(s.latency_p95),
        latency_p99=seconds_of(s.latency_p99),
        failure_probability=s.random_failure_basis_points / _BASIS_POINTS,
        requests_per_second=float(s.requests_per_second_limit),
        weekend_maintenance=s.weekend_maintenance,
    )


def batch_times(s: S) -> list[dt.time]:
    return [dt.time(t.hours, t.minutes, t.seconds) for t in s.jcp_batch_times]


def chance(basis_points: int, rng: random.Random) -> bool:
    return basis_points > 0 and rng.randrange(_BASIS_POINTS) < basis_points


def _check(s: S, v: ViolationCollector) -> None:
    if s.profile not in (api.SIMULATION_PROFILE_DEFAULT, api.SIMULATION_PROFILE_REALISTIC):
        v.add("settings.profile", "choose DEFAULT or REALISTIC")
    for name, most, limit in (
        ("latency_p50", 60, "60 s (a call's deadline is shorter)"),
        ("latency_p95", 60, "60 s (a call's deadline is shorter)"),
        ("latency_p99", 60, "60 s (a call's deadline is shorter)"),
        ("jcp_decision_delay", _YEAR, "a year"),
        ("broadcast_delay", _YEAR, "a year"),
    ):
        seconds = seconds_of(getattr(s, name))
        if seconds < 0:
            v.add(f"settings.{name}", "must not be negative")
        elif seconds > most:
            v.add(f"settings.{name}", f"must be at most {limit}")
    p50, p95, p99 = (seconds_of(getattr(s, f"latency_{q}")) for q in ("p50", "p95", "p99"))
    if p95 and p95 < p50:
        v.add("settings.latency_p95", "must not be below latency_p50")
    if p99 and p99 < max(p50, p95):
        v.add("settings.latency_p99", "must not be below latency_p50 or latency_p95")
    for name in (
        "random_failure_basis_points",
        "partial_match_basis_points",
        "stale_record_basis_points",
    ):
        if not 0 <= getattr(s, name) <= _BASIS_POINTS:
            v.add(f"settings.{name}", "must be between 0 and 10000 basis points")
    if s.requests_per_second_limit < 0:
        v.add("settings.requests_per_second_limit", "must not be negative (0 means unlimited)")
    for i, t in enumerate(s.jcp_batch_times):
        if not (0 <= t.hours <= 23 and 0 <= t.minutes <= 59 and 0 <= t.seconds <= 59) or t.nanos:
            v.add(f"settings.jcp_batch_times[{i}]", "must be a time of day in whole seconds")


# -- the scenario service's operations, in its transaction ---------------------------------------------------------


def _copy(s: S) -> S:
    out = S()
    out.CopyFrom(s)
    return out


def current(db: Session, *, default: S) -> S:
    found = controls.stored_settings(db, S)
    if found is None:
        return _copy(default)
    out, updated = found
    out.update_time.FromDatetime(updated)
    return out


def update(
    db: Session, request: api.UpdateSimulationSettingsRequest, *, default: S, clock: Clock
) -> S:
    """The settings with the update applied (a profile resets the rest to its defaults first), checked whole."""
    v = ViolationCollector()
    if "profile" in request.update_mask.paths and not request.settings.profile:
        v.add("settings.profile", "choose DEFAULT or REALISTIC")
    was = current(db, default=default)
    new = controls.updated_settings(
        was, request.settings, list(request.update_mask.paths), defaults=profile_defaults, v=v
    )
    v.raise_if_any()
    _check(new, v)
    v.raise_if_any()
    new.update_time.FromDatetime(controls.store_settings(db, new, clock=clock))
    return new


def outage(w: OutageWindow) -> api.Outage:
    out = api.Outage(
        outage_id=w.outage_id,
        kind=_KIND_PB[w.kind],
        methods=list(w.methods),
        description=w.description,
    )
    out.start_time.FromDatetime(w.start)
    out.end_time.FromDatetime(w.end)
    return out


def schedule(
    db: Session, request: api.ScheduleOutageRequest, *, methods: frozenset[str], clock: Clock
) -> api.Outage:
    """An outage of the DwpGatewayService `methods` named (none: all) between its times; one already over is refused
    (it would change nothing)."""
    o = request.outage
    v = ViolationCollector()
    start = instant_or_violation(o, "start_time", v, "outage")
    end = instant_or_violation(o, "end_time", v, "outage")
    controls.window_violations(start, end, v, "outage")
    if end is not None and end <= clock.now():
        v.add("outage.end_time", "is already past")
    kind = _KIND.get(o.kind)
    if kind is None:
        v.add("outage.kind", "choose SCHEDULED_MAINTENANCE or UNPLANNED")
    for i, m in enumerate(o.methods):
        if m not in methods:
            v.add(f"outage.methods[{i}]", "is not a DwpGatewayService method")
    v.raise_if_any()
    assert start is not None and end is not None and kind is not None  # violations otherwise
    return outage(
        controls.schedule_outage(
            db,
            kind=kind,
            start=start,
            end=end,
            methods=sorted(set(o.methods)),
            description=o.description,
            clock=clock,
        )
    )


def cancel(db: Session, outage_id: str, *, clock: Clock) -> api.Outage:
    return outage(controls.cancel_outage(db, outage_id, clock=clock))


def list_outages(
    db: Session, request: api.ListOutagesRequest, *, clock: Clock
) -> api.ListOutagesResponse:
    size, offset = page(request.page_size, request.page_token, default=50, maximum=200)
    rows = controls.outages_not_ended(db, clock.now(), offset=offset, limit=size + 1)
    found, token = page_of(rows, size, offset)
    return api.ListOutagesResponse(outages=[outage(w) for w in found], next_page_token=token)


# -- as the simulated systems read them ----------------------------------------------------------------------------


class DwpControls:
    """What the simulated CIS and JCP read before each call: the settings in force and the outages covering it."""

    def __init__(
        self,
        sessions: sessionmaker,
        default: S,
        default_conditions: Conditions,
        version: StateVersion | None = None,
    ):
        self.default = default
        # Until a scenario admin changes them, the behaviour the gateway's settings give (exactly: a fractional
        # throttle rate has no place in the contract's settings).
        self._default_conditions = default_conditions
        self._stored = controls.StoredControls(sessions, S, lambda: default, version)

    def settings(self) -> S:
        return self._stored.settings()

    def live(self, at: dt.datetime, method: str) -> tuple[Conditions, list[OutageWindow]]:
        found, windows = self._stored.now(at, method)
        return (conditions_of(found) if found is not None else self._default_conditions), windows
