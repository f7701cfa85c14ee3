"""What a case surveillance counts as news on a credit file, as pure rules (no I/O, no clock).

A surveillance remembers which entries of the file it has seen (addresses, accounts, employment hints, property
indicators, public records, a deceased flag) and each open current account's turnover baseline (`Memory`). Comparing
the file on a date with that memory gives the findings: every unseen entry of a watched kind is one, and a current
account whose average monthly credit turnover has risen by the threshold (25% and £200 a month by default [D]) is
one. A fall lowers the baseline, so a later rise counts from the trough; after a rise the next one counts from the
new level. The review date arriving is due once per review date.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeAlias

from google.protobuf.message import Message

from cms.cra.v1 import resources_pb2 as pb
from cms_platform.convert import day_of, month_start, pb_date

from ..assessment import rules as assessment

AlertKind: TypeAlias = pb.SurveillanceAlertKind.ValueType

# The states a surveillance is stored in (SurveillanceRecord.state).
ACTIVE, REVIEW_DUE, STOPPED = "ACTIVE", "REVIEW_DUE", "STOPPED"
ALL_KINDS: tuple[AlertKind, ...] = tuple(k for k in pb.SurveillanceAlertKind.values() if k)


@dataclass(frozen=True)
class SurveillanceParameters:
    # A current account's average monthly credit turnover this much above its baseline is actionable [D] ...
    turnover_increase_percent: int = 25
    # ... and by at least this much, so small accounts do not alert on noise [D].
    turnover_increase_minimum_pence: int = 200_00


DEFAULTS = SurveillanceParameters()


@dataclass(frozen=True)
class Finding:
    """Something new on the file: the alert kind, the alert's finding field and value, and when it took effect."""

    kind: AlertKind
    field: str
    finding: Message
    effective: dt.date | None


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def entries(f: pb.CreditFile | None) -> Iterator[tuple[str, Finding]]:
    """(key, finding) for every alertable entry on a file; the key says when two files hold the same entry."""
    if f is None:
        return
    for link in f.address_links:
        a = link.address
        key = f"address:{_norm(a.postcode).replace(' ', '')}|{_norm(a.lines[0] if a.lines else '')}"
        yield (
            key,
            Finding(
                pb.SURVEILLANCE_ALERT_KIND_NEW_ADDRESS,
                "address_link",
                link,
                day_of(link.first_seen_date),
            ),
        )
    for current in f.current_accounts:
        yield (
            f"current:{current.account_id}",
            Finding(
                pb.SURVEILLANCE_ALERT_KIND_NEW_CURRENT_ACCOUNT,
                "current_account",
                current,
                day_of(current.opened_date),
            ),
        )
    for credit in f.credit_accounts:
        yield (
            f"credit:{credit.account_id}",
            Finding(
                pb.SURVEILLANCE_ALERT_KIND_NEW_CREDIT_ACCOUNT,
                "credit_account",
                credit,
                day_of(credit.opened_date),
            ),
        )
    for h in f.employment_hints:
        yield (
            f"hint:{h.hint_id}",
            Finding(
                pb.SURVEILLANCE_ALERT_KIND_NEW_EMPLOYMENT_HINT,
                "employment_hint",
                h,
                day_of(h.last_seen_date),
            ),
        )
    for p in f.property_indicators:
        yield (
            f"property:{p.indicator_id}",
            Finding(
                pb.SURVEILLANCE_ALERT_KIND_NEW_PROPERTY_INDICATOR,
                "property_indicator",
                p,
                day_of(p.first_seen_date),
            ),
        )
    for r in f.public_records:
        yield (
            f"record:{r.record_id}",
            Finding(
                pb.SURVEILLANCE_ALERT_KIND_NEW_PUBLIC_RECORD,
                "public_record",
                r,
                day_of(r.record_date),
            ),
        )
    if f.date_of_death.year:
        yield (
            "deceased",
            Finding(
                pb.SURVEILLANCE_ALERT_KIND_DECEASED,
                "date_of_death",
                f.date_of_death,
                day_of(f.date_of_death),
            ),
        )


def _open(a: pb.CurrentAccount) -> bool:
    return not a.closed_date.year and a.status != pb.ACCOUNT_STATUS_SETTLED


def _open_accounts(f: pb.CreditFile | None) -> list[pb.CurrentAccount]:
    return [a for a in (f.current_accounts if f is not None else ()) if _open(a)]


@dataclass
class Memory:
    """What a surveillance has seen: entry keys, each open current account's turnover baseline (pence a month), and
    the alert kinds raised since the last review. Stored as JSON (SurveillanceRecord.seen)."""

    entries: set[str] = field(default_factory=set)
    turnover: dict[str, int] = field(default_factory=dict)
    since_review: list[AlertKind] = field(default_factory=list)

    @classmethod
    def from_json(cls, text: str) -> Memory:
        stored = json.loads(text)
        return cls(
            set(stored["entries"]), dict(stored["turnover"]), list(stored.get("since_review", []))
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "entries": sorted(self.entries),
                "turnover": self.turnover,
                "since_review": self.since_review,
            }
        )


def snapshot(f: pb.CreditFile | None) -> Memory:
    """The memory of a surveillance starting on this file: what it already holds is the starting point, not news."""
    return Memory(
        {key for key, _ in entries(f)},
        {a.account_id: assessment.average_monthly_turnover(a) for a in _open_accounts(f)},
    )


def turnover_rose(average: int, baseline: int, params: SurveillanceParameters) -> bool:
    """A rise by both the percentage and the amount a month over the baseline."""
    return (
        average * 100 >= baseline * (100 + params.turnover_increase_percent)
        and average - baseline >= params.turnover_increase_minimum_pence
    )


def compare(
    memory: Memory,
    f: pb.CreditFile | None,
    *,
    watched: Iterable[AlertKind],
    params: SurveillanceParameters = DEFAULTS,
) -> tuple[list[Finding], Memory]:
    """The findings on the file a surveillance with this memory watching these kinds has not alerted on (new entries
    in file order, then turnover rises), and its memory afterwards. An entry of a kind not watched is remembered
    without a finding, so watching it later does not report it as new."""
    kinds = set(watched) or set(ALL_KINDS)
    seen, baselines = set(memory.entries), dict(memory.turnover)
    found: list[Finding] = []
    for key, finding in entries(f):
        if key in seen:
            continue
        seen.add(key)
        if finding.kind in kinds:
            found.append(finding)
    for a in _open_accounts(f):
        average = assessment.average_monthly_turnover(a)
        base = baselines.get(a.account_id)
        if base is None:
            baselines[a.account_id] = average
        elif turnover_rose(average, base, params):
            baselines[a.account_id] = average  # the next alert needs a further rise from here
            if pb.SURVEILLANCE_ALERT_KIND_TURNOVER_INCREASE in kinds:
                latest = month_start(a.monthly_turnover[0].month) if a.monthly_turnover else None
                found.append(
                    Finding(
                        pb.SURVEILLANCE_ALERT_KIND_TURNOVER_INCREASE, "current_account", a, latest
                    )
                )
        else:
            baselines[a.account_id] = min(base, average)  # a fall: a rise counts from the trough
    return found, Memory(seen, baselines, list(memory.since_review))


def alert(
    finding: Finding,
    f: pb.CreditFile,
    *,
    alert_id: str,
    surveillance_id: str,
    case_reference: str,
    detected: dt.datetime,
    on: dt.date,
) -> pb.SurveillanceAlert:
    """The alert a finding raises, assessed against the file it was found on; never dated after `on`."""
    out = pb.SurveillanceAlert(
        alert_id=alert_id,
        surveillance_id=surveillance_id,
        case_reference=case_reference,
        kind=finding.kind,
        effective_date=pb_date(min(finding.effective or on, on)),
    )
    out.detect_time.FromDatetime(detected)
    getattr(out, finding.field).CopyFrom(finding.finding)
    out.assessment.CopyFrom(assessment.assess_alert(finding.kind, out, f, on=on))
    return out


def review_due(state: str, review_date: dt.date, on: dt.date) -> bool:
    """An active surveillance is due for review once its review date has come (review-due until rescheduled)."""
    return state == ACTIVE and review_date <= on


def is_surveillance_id(text: str) -> bool:
    """Surveillance ids are UUIDs; anything else names no surveillance."""
    try:
        uuid.UUID(text)
        return True
    except ValueError:
        return False
