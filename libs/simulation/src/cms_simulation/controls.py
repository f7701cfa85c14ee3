"""What a scenario admin changes while a simulated system runs, shared by the gateways: outage windows on the
service's clock, and the simulation settings, both kept in the gateway's own database so every replica sees them.
The pure parts (windows, the weekend, batch times, latency quantiles, settings updates under a field mask) beside
the tables and the reads the simulated system makes before each call (docs/domain/external-systems.md §4)."""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from google.protobuf import duration_pb2
from google.protobuf.message import Message
from sqlalchemy import Index, LargeBinary, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from cms_platform.clock import Clock
from cms_platform.db import Base, UtcDateTime
from cms_platform.errors import (
    FailedPrecondition,
    NotFound,
    PreconditionViolation,
    Unavailable,
    ViolationCollector,
)

from .state import StateCache, StateVersion, bump

M = TypeVar("M", bound=Message)

# -- protobuf times, checked (a value off the calendar is a field violation, never an overflow) --------------------

_FIRST, _LAST = (
    dt.datetime(1, 1, 1, tzinfo=dt.UTC),
    dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC),
)


def seconds_of(d: duration_pb2.Duration) -> float:
    return d.seconds + d.nanos / 1e9


def instant_or_violation(
    msg: Message, field: str, v: ViolationCollector, path: str
) -> dt.datetime | None:
    """The Timestamp `msg.field` as an aware UTC datetime; None when unset (the caller says whether it must be)
    or, with a violation, when it is outside years 1 to 9999."""
    if not msg.HasField(field):
        return None
    t = getattr(msg, field)
    if not (_FIRST.timestamp() <= t.seconds <= _LAST.timestamp()) or not 0 <= t.nanos < 10**9:
        v.add(f"{path}.{field}", "must be between years 1 and 9999")
        return None
    return dt.datetime.fromtimestamp(t.seconds, dt.UTC) + dt.timedelta(microseconds=t.nanos // 1000)


# -- outage windows ------------------------------------------------------------------------------------------------


class OutageKind(enum.StrEnum):
    """Planned maintenance or an unplanned failure: the reason the refused call hears."""

    SCHEDULED_MAINTENANCE = "SCHEDULED_MAINTENANCE"
    UNPLANNED = "UNPLANNED"


@dataclass(frozen=True)
class OutageWindow:
    """[start, end) on the service's clock; `methods` empty means every call to the system."""

    outage_id: str
    kind: OutageKind
    start: dt.datetime
    end: dt.datetime
    methods: tuple[str, ...] = ()
    description: str = ""

    def covers(self, now: dt.datetime, method: str) -> bool:
        return self.start <= now < self.end and (not self.methods or method in self.methods)


def window_violations(
    start: dt.datetime | None, end: dt.datetime | None, v: ViolationCollector, path: str
) -> None:
    """An outage needs both ends, the end after the start (a missing or unreadable end is named already)."""
    if start is not None and end is not None and end <= start:
        v.add(f"{path}.end_time", "must be after start_time")


def refusal(
    windows: Sequence[OutageWindow], now: dt.datetime, system: str, unplanned_reason: str
) -> Unavailable | None:
    """UNAVAILABLE while any window covers the call, to retry once the last covering one ends; None otherwise."""
    if not windows:
        return None
    end = max(w.end for w in windows)
    planned = all(w.kind is OutageKind.SCHEDULED_MAINTENANCE for w in windows)
    return Unavailable(
        f"{system} is unavailable until {end.isoformat()}"
        + (" (scheduled maintenance)" if planned else ""),
        reason="SCHEDULED_MAINTENANCE" if planned else unplanned_reason,
        retry_after_seconds=max((end - now).total_seconds(), 0.001),
    )


# Friday 17:00 to Monday 09:00 (docs/domain/external-systems.md §1.8), on the clock's day as its today() has it.
_WEEKEND_START = (4, dt.time(17))
_WEEKEND_END = (0, dt.time(9))


def weekend_window(now: dt.datetime) -> tuple[dt.datetime, dt.datetime] | None:
    """The weekend maintenance window `now` falls in, or None."""
    monday = (now - dt.timedelta(days=now.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    start = monday + dt.timedelta(days=_WEEKEND_START[0], hours=_WEEKEND_START[1].hour)
    end = monday + dt.timedelta(days=7 + _WEEKEND_END[0], hours=_WEEKEND_END[1].hour)
    if start <= now < end:
        return start, end
    previous_end = monday + dt.timedelta(hours=_WEEKEND_END[1].hour)
    if now < previous_end:
        return start - dt.timedelta(days=7), previous_end
    return None


def next_batch(due: dt.datetime, times: Sequence[dt.time]) -> dt.datetime:
    """The first batch run at or after `due` among the daily `times` (none: `due` itself)."""
    if not times:
        return due
    day = due.replace(hour=0, minute=0, second=0, microsecond=0)
    for days in (0, 1):
        for t in sorted(times):
            run = day + dt.timedelta(days=days, hours=t.hour, minutes=t.minute, seconds=t.second)
            if run >= due:
                return run
    raise AssertionError("unreachable: tomorrow's first run is after `due`")


# -- how the system behaves now ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Conditions:
    """The behaviour a scenario admin set (seconds and probabilities); all off by default."""

    latency_p50: float = 0.0
    latency_p95: float = 0.0
    latency_p99: float = 0.0
    failure_probability: float = 0.0
    requests_per_second: float = 0.0
    weekend_maintenance: bool = False


# Standard normal quantiles of the 95th and 99th percentiles.
_Z95, _Z99 = 1.6449, 2.3263


def latency(c: Conditions, rng: random.Random) -> float:
    """A log-normal delay through the three quantiles given: p50 and p95 fix the body, p99 the tail beyond p95.
    Without p95 the spread is a p95 of 6.7 × p50; without p99 the tail follows the body."""
    if c.latency_p50 <= 0:
        return 0.0
    p95 = c.latency_p95 if c.latency_p95 > c.latency_p50 else c.latency_p50 * 6.7
    body = math.log(p95 / c.latency_p50) / _Z95
    tail = math.log(c.latency_p99 / p95) / (_Z99 - _Z95) if c.latency_p99 > p95 else body
    z = rng.gauss(0.0, 1.0)
    log_delay = (
        math.log(c.latency_p50) + z * body if z <= _Z95 else math.log(p95) + (z - _Z95) * tail
    )
    return math.exp(log_delay)


# -- settings updates ----------------------------------------------------------------------------------------------


def updated_settings(
    current: M,
    given: M,
    paths: Sequence[str],
    *,
    defaults: Callable[[int], M],
    output_only: frozenset[str] = frozenset({"update_time"}),
    v: ViolationCollector,
    profile_field: str = "profile",
) -> M:
    """`current` with the fields `paths` names taken from `given`. No paths means every field; but with a profile
    given, only the fields `given` sets (a profile resets the rest to its `defaults`). Naming a profile starts from
    that profile's defaults; the other fields named in the same update override them. Output-only fields are
    ignored; a path that is not a top-level field of the settings is a violation of update_mask."""
    fields = {f.name for f in current.DESCRIPTOR.fields} - output_only
    for i, p in enumerate(paths):
        if p not in fields and p not in output_only:
            v.add(f"update_mask.paths[{i}]", "is not a settings field")
    named = [p for p in paths if p not in output_only]
    if named:
        chosen = set(named)
    elif getattr(given, profile_field):
        chosen = {f.name for f, _ in given.ListFields()} & fields
    else:
        chosen = fields - {profile_field}  # "all fields" without a profile keeps the current one
    out = type(current)()
    if profile_field in chosen:
        out.CopyFrom(defaults(getattr(given, profile_field)))
        chosen.discard(profile_field)
    else:
        out.CopyFrom(current)
    for name in chosen & fields:
        out.ClearField(name)
        field = given.DESCRIPTOR.fields_by_name[name]
        value = getattr(given, name)
        if field.is_repeated:
            getattr(out, name).extend(value)
        elif field.message_type is not None:
            if given.HasField(name):
                getattr(out, name).CopyFrom(value)
        else:
            setattr(out, name, value)
    for name in output_only & {f.name for f in current.DESCRIPTOR.fields}:
        out.ClearField(name)
    return out


# -- the tables ----------------------------------------------------------------------------------------------------


class SimulatedOutage(Base):
    """An outage a scenario admin scheduled; cancelling it ends it at the time of the cancellation."""

    __tablename__ = "simulated_outages"

    outage_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    start_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    end_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    methods: Mapped[str] = mapped_column(Text)  # JSON list of method names; [] means all
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (Index("ix_simulated_outages_end_at", "end_at"),)

    def window(self) -> OutageWindow:
        return OutageWindow(
            outage_id=self.outage_id,
            kind=OutageKind(self.kind),
            start=self.start_at,
            end=self.end_at,
            methods=tuple(json.loads(self.methods)),
            description=self.description,
        )


class SimulationSettingsRecord(Base):
    """The simulation settings as a scenario admin last set them (the gateway's settings until then)."""

    __tablename__ = "simulation_settings"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    settings: Mapped[bytes] = mapped_column(
        LargeBinary
    )  # the gateway's settings message, serialised
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


def create_control_tables(op: Any) -> None:
    """The tables above, for a gateway's alembic revision (`op` is alembic.op)."""
    import sqlalchemy as sa

    op.create_table(
        "simulated_outages",
        sa.Column("outage_id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("start_at", UtcDateTime, nullable=False),
        sa.Column("end_at", UtcDateTime, nullable=False),
        sa.Column("methods", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("cancelled_at", UtcDateTime, nullable=True),
    )
    op.create_index("ix_simulated_outages_end_at", "simulated_outages", ["end_at"])
    op.create_table(
        "simulation_settings",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("settings", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )


def drop_control_tables(op: Any) -> None:
    for table in ("simulation_settings", "simulated_outages"):
        op.drop_table(table)


# -- in the caller's transaction (the scenario services) -----------------------------------------------------------

SETTINGS = "settings"


def schedule_outage(
    db: Session,
    *,
    kind: OutageKind,
    start: dt.datetime,
    end: dt.datetime,
    methods: Sequence[str],
    description: str,
    clock: Clock,
) -> OutageWindow:
    row = SimulatedOutage(
        outage_id=str(uuid.uuid4()),
        kind=kind.value,
        start_at=start,
        end_at=end,
        methods=json.dumps(list(methods)),
        description=description,
        created_at=clock.now(),
    )
    db.add(row)
    bump(db)
    return row.window()


def cancel_outage(db: Session, outage_id: str, *, clock: Clock) -> OutageWindow:
    """Ends the outage now (one not started yet never starts); one already over cannot be cancelled."""
    row = db.get(SimulatedOutage, outage_id, with_for_update=True)
    if row is None:
        raise NotFound("outage", f"outages/{outage_id}")
    now = clock.now()
    if row.cancelled_at is not None or row.end_at <= now:
        raise FailedPrecondition(
            PreconditionViolation(
                "OUTAGE_OVER",
                f"outages/{outage_id}",
                "the outage has already ended or been cancelled",
            ),
            reason="OUTAGE_OVER",
        )
    row.end_at, row.cancelled_at = max(row.start_at, now), now
    bump(db)
    return row.window()


def outages_not_ended(
    db: Session, now: dt.datetime, *, offset: int = 0, limit: int | None = None
) -> list[OutageWindow]:
    """Outages whose end is after `now`, earliest start first."""
    query = (
        select(SimulatedOutage)
        .where(SimulatedOutage.end_at > now)
        .order_by(SimulatedOutage.start_at, SimulatedOutage.outage_id)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return [r.window() for r in db.scalars(query)]


def stored_settings(db: Session, message_type: type[M]) -> tuple[M, dt.datetime] | None:
    row = db.get(SimulationSettingsRecord, SETTINGS)
    if row is None:
        return None
    return message_type.FromString(row.settings), row.updated_at


def store_settings(db: Session, settings: Message, *, clock: Clock) -> dt.datetime:
    now = clock.now()
    row = db.get(SimulationSettingsRecord, SETTINGS, with_for_update=True)
    data = settings.SerializeToString(deterministic=True)
    if row is None:
        db.add(SimulationSettingsRecord(name=SETTINGS, settings=data, updated_at=now))
    else:
        row.settings, row.updated_at = data, now
    bump(db)
    return now


# -- for the simulated system, before each call --------------------------------------------------------------------


@dataclass(frozen=True)
class _Outages:
    """The outages not ended at `loaded_at`: every one that can cover a call at or after it."""

    loaded_at: dt.datetime
    windows: tuple[OutageWindow, ...]


class StoredControls(Generic[M]):
    """The settings and outages as the simulated system reads them before each call: kept in memory while the
    stored state's version stands (cms_simulation.state), so a change made through one replica still holds at
    every other at once, for one version read a call rather than two queries."""

    def __init__(
        self,
        sessions: sessionmaker,
        message_type: type[M],
        default: Callable[[], M],
        version: StateVersion | None = None,
    ):
        self._type = message_type
        self._default = default
        version = version if version is not None else StateVersion(sessions)
        self._settings: StateCache[None, M | None] = StateCache(version, limit=1)
        self._outages: StateCache[None, _Outages] = StateCache(version, limit=1)

    def _stored(self) -> M | None:
        """The settings a scenario admin stored (None: never changed); shared, so read and never changed."""
        return self._settings.get(None, self._load_settings)

    def _load_settings(self, s: Session) -> M | None:
        found = stored_settings(s, self._type)
        return found[0] if found is not None else None

    def settings(self) -> M:
        found = self._stored()
        return found if found is not None else self._default()

    def now(self, at: dt.datetime, method: str) -> tuple[M | None, list[OutageWindow]]:
        """The settings a scenario admin stored (None: never changed) and the outages covering `method` at `at`."""
        found = self._stored()
        outages = self._outages.get(
            None,
            lambda s: _Outages(at, tuple(outages_not_ended(s, at))),
            # A clock set back before the load would miss the outages that ended in between.
            usable=lambda o: o.loaded_at <= at,
        )
        return found, [w for w in outages.windows if w.covers(at, method)]
