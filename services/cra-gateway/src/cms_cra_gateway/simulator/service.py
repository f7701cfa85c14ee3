"""The scenario admin service over an explicit session (tests and demos): read a simulated file, apply a change,
reset a file, list the search footprints.

A change is stored and replayed over the generated file; the surveillances watching the person are checked in the
same transaction, so an alert and its event exist exactly when the change does."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cms.cra.v1 import cra_scenario_service_pb2 as admin
from cms.cra.v1 import resources_pb2 as pb
from cms_platform.clock import Clock
from cms_platform.convert import date_or_violation
from cms_platform.errors import InvalidArgument, NotFound, ViolationCollector
from cms_platform.identifiers import normalise_nino, valid_nino
from cms_platform.paging import next_token, page

from ..surveillance import flows as surveillance
from .adapter import SimulatedCra
from .changes import ChangeError, apply_change, created_id
from .credit_files import Scenario
from .models import CreditFileChangeRecord, SearchFootprintRecord

_SORT_CODE = re.compile(r"^\d{2}-\d{2}-\d{2}$")
_ACCOUNT_NUMBER = re.compile(r"^\d{8}$")


def known_nino(cra: SimulatedCra, nino: str) -> str:
    """The NINO normalised, if it is valid and someone in the population has it."""
    n = normalise_nino(nino)
    if not valid_nino(n):
        raise InvalidArgument.field("nino", "is not a valid National Insurance number")
    if cra.person(n) is None:
        raise NotFound(
            "person", "people/unknown", "the synthetic population holds nobody with this NINO"
        )
    return n


def _enum(v: ViolationCollector, path: str, value: int, known: list[int]) -> None:
    if value not in known or value == 0:
        v.add(path, "is required (choose a value)")


def _check(request: admin.ApplyCreditFileChangeRequest, v: ViolationCollector) -> None:
    """What the contract's REQUIRED markings cannot say: formats, ranges, enums in range, combinations."""
    kind = request.WhichOneof("change") or ""
    c = getattr(request, kind)
    if kind in ("add_address_link", "add_property_indicator"):
        a = c.address
        if not a.lines or not a.lines[0].strip():
            v.add(f"{kind}.address.lines", "the first address line is required")
        if not a.postcode.strip():
            v.add(f"{kind}.address.postcode", "is required")
    if kind == "add_current_account":
        if not _SORT_CODE.match(c.sort_code):
            v.add("add_current_account.sort_code", "must be NN-NN-NN")
        if not _ACCOUNT_NUMBER.match(c.account_number):
            v.add("add_current_account.account_number", "must be eight digits")
        if c.overdraft_limit_pence < 0:
            v.add("add_current_account.overdraft_limit_pence", "must not be negative")
        for i, t in enumerate(c.monthly_turnover):
            if t.credit_turnover_pence < 0:
                v.add(
                    f"add_current_account.monthly_turnover[{i}].credit_turnover_pence",
                    "must not be negative",
                )
    if kind == "update_current_account":
        for i, t in enumerate(c.monthly_turnover):
            if not (t.month.year and t.month.month):
                v.add(
                    f"update_current_account.monthly_turnover[{i}].month",
                    "needs a year and a month",
                )
            if t.credit_turnover_pence < 0:
                v.add(
                    f"update_current_account.monthly_turnover[{i}].credit_turnover_pence",
                    "must not be negative",
                )
    if kind == "add_credit_account" and (c.credit_limit_pence < 0 or c.balance_pence < 0):
        v.add(
            "add_credit_account.balance_pence"
            if c.balance_pence < 0
            else "add_credit_account.credit_limit_pence",
            "must not be negative",
        )
    if kind == "update_credit_account_status":
        if c.status == pb.ACCOUNT_STATUS_IN_ARREARS and not 1 <= c.months_in_arrears <= 6:
            v.add(
                "update_credit_account_status.months_in_arrears",
                "must be 1-6 for an account in arrears",
            )
        if c.status == pb.ACCOUNT_STATUS_DEFAULTED:
            date_or_violation(c.default_date, "update_credit_account_status.default_date", v)
    if kind == "add_public_record" and c.amount_pence < 0:
        v.add("add_public_record.amount_pence", "must not be negative")
    if kind == "mark_deceased":
        date_or_violation(c, "mark_deceased", v)
    if kind == "set_scenarios":
        for i, s in enumerate(c.scenarios):
            _enum(v, f"set_scenarios.scenarios[{i}]", s, list(pb.CreditFileScenario.values()))
    for path, enum in (
        ("link_type", pb.AddressLinkType),
        ("holding", pb.AccountHolding),
        ("status", pb.AccountStatus),
    ):
        value = getattr(c, path, None)
        if value and value not in enum.values():
            v.add(f"{kind}.{path}", "is not a known value")


def _file(db: Session, cra: SimulatedCra, nino: str, *, on: dt.date) -> pb.CreditFile:
    f = cra.file_in(db, nino, on=on)
    if f is None:  # known_nino found the person: the population does not lose people
        raise NotFound(
            "person", "people/unknown", "the synthetic population holds nobody with this NINO"
        )
    return f


def credit_file(db: Session, *, cra: SimulatedCra, nino: str, clock: Clock) -> pb.CreditFile:
    """The whole simulated file today, with its scenarios."""
    return _file(db, cra, known_nino(cra, nino), on=clock.today())


def apply(
    db: Session, *, request: admin.ApplyCreditFileChangeRequest, cra: SimulatedCra, clock: Clock
) -> admin.ApplyCreditFileChangeResponse:
    """Store one change, dated `effective_date` (default today), and check the surveillances watching the file."""
    nino = known_nino(cra, request.nino)
    v = ViolationCollector()
    if request.WhichOneof("change") is None:
        v.add("change", "set exactly one change")
        v.raise_if_any()
    effective = (
        date_or_violation(request.effective_date, "effective_date", v, required=False)
        or clock.today()
    )
    _check(request, v)
    v.raise_if_any()
    new_id = created_id(request, uuid.uuid4().hex, cra.population.seed)
    # The change must make sense on the file as it stands on its effective date.
    before = _file(db, cra, nino, on=effective)
    scenarios: dict[Scenario, dt.date] = {s: effective for s in before.scenarios}
    try:
        apply_change(before, request, effective=effective, new_id=new_id, scenarios=scenarios)
    except ChangeError as exc:
        raise NotFound("credit file entry", f"{exc.field}", f"{exc.field} {exc}") from exc
    stored = admin.ApplyCreditFileChangeRequest()
    stored.CopyFrom(request)
    stored.ClearField("request_id")
    db.add(
        CreditFileChangeRecord(
            nino=nino,
            effective_date=effective,
            change=stored.SerializeToString(),
            created_id=new_id,
            created_at=clock.now(),
        )
    )
    db.flush()
    today = clock.today()
    now_file = _file(db, cra, nino, on=max(today, effective))
    watched: pb.CreditFile | None = (
        _file(db, cra, nino, on=today) if effective > today else now_file
    )
    if watched is not None and pb.CREDIT_FILE_SCENARIO_NO_TRACE in watched.scenarios:
        watched = None
    # With the default thresholds: the settings' ones reach the scheduled and on-demand checks only.
    alerts = surveillance.check_person(db, nino=nino, file=watched, on=today, clock=clock)
    return admin.ApplyCreditFileChangeResponse(
        credit_file=now_file, created_id=new_id, raised_alerts=alerts
    )


def reset(
    db: Session, *, request: admin.ResetCreditFileRequest, cra: SimulatedCra, clock: Clock
) -> pb.CreditFile:
    """Drop every scenario change to a file: it is the generated one again."""
    nino = known_nino(cra, request.nino)
    db.execute(delete(CreditFileChangeRecord).where(CreditFileChangeRecord.nino == nino))
    return _file(db, cra, nino, on=clock.today())


def footprints(
    db: Session, *, cra: SimulatedCra, nino: str, page_size: int, page_token: str
) -> tuple[list[pb.SearchFootprint], str]:
    """A page of the search footprints on a person's file, newest first, and the next page's token."""
    n = known_nino(cra, nino)
    size, offset = page(page_size, page_token, maximum=500)
    rows = db.scalars(
        select(SearchFootprintRecord)
        .where(SearchFootprintRecord.nino == n)
        .order_by(SearchFootprintRecord.id.desc())
        .offset(offset)
        .limit(size + 1)
    ).all()
    out = []
    for r in rows[:size]:
        fp = pb.SearchFootprint(
            search_reference=r.search_reference,
            searcher_name=r.searcher_name,
            type=pb.SearchFootprintType.Value(f"SEARCH_FOOTPRINT_TYPE_{r.footprint_type}"),
            purpose=pb.SearchPurpose.Value(r.purpose),
        )
        fp.search_time.FromDatetime(r.search_time)
        out.append(fp)
    return out, next_token(offset + size) if len(rows) > size else ""
