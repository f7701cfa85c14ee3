"""Scripting credit files (tests and demos): apply a change, reset a file, run the surveillance checks now.

A change is stored and replayed over the generated file; the surveillances watching the person are checked in the
same transaction, so an alert and its event exist exactly when the change does."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import delete
from sqlalchemy.orm import Session

from cms.cra.v1 import cra_scenario_service_pb2 as admin
from cms.cra.v1 import resources_pb2 as pb
from cms_platform.clock import Clock
from cms_platform.convert import date_or_violation
from cms_platform.errors import InvalidArgument, NotFound, ViolationCollector
from cms_simulation.population import normalise_nino, valid_nino

from . import surveillance
from .credit_files import ChangeError, apply_change, created_id
from .models import CreditFileChangeRecord
from .simulator import SimulatedCra

_SORT_CODE = re.compile(r"^\d{2}-\d{2}-\d{2}$")
_ACCOUNT_NUMBER = re.compile(r"^\d{8}$")


def _person(cra: SimulatedCra, nino: str) -> str:
    n = normalise_nino(nino)
    if not valid_nino(n):
        raise InvalidArgument.field("nino", "is not a valid National Insurance number")
    if cra.person(n) is None:
        raise NotFound(
            "person", "people/unknown", "the synthetic population holds nobody with this NINO"
        )
    return n


def _enum(v: ViolationCollector, path: str, value: int, enum) -> None:
    if value not in enum.values() or value == 0:
        v.add(path, "is required (choose a value)")


def _check(request: admin.ApplyCreditFileChangeRequest, v: ViolationCollector) -> None:
    """What the contract's REQUIRED markings cannot say: formats, ranges, enums in range, combinations."""
    kind = request.WhichOneof("change")
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
            _enum(v, f"set_scenarios.scenarios[{i}]", s, pb.CreditFileScenario)
    for path, enum in (
        ("link_type", pb.AddressLinkType),
        ("holding", pb.AccountHolding),
        ("status", pb.AccountStatus),
    ):
        value = getattr(c, path, None)
        if value and value not in enum.values():
            v.add(f"{kind}.{path}", "is not a known value")


def apply(
    db: Session, *, request: admin.ApplyCreditFileChangeRequest, cra: SimulatedCra, clock: Clock
) -> admin.ApplyCreditFileChangeResponse:
    nino = _person(cra, request.nino)
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
    before = cra.file_in(db, nino, on=effective)
    scenarios = {s: effective for s in before.scenarios}
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
    now_file = cra.file_in(db, nino, on=max(today, effective))
    watched = cra.file_in(db, nino, on=today) if effective > today else now_file
    if watched is not None and pb.CREDIT_FILE_SCENARIO_NO_TRACE in watched.scenarios:
        watched = None
    alerts = surveillance.check_person(db, nino, watched, on=today, clock=clock)
    return admin.ApplyCreditFileChangeResponse(
        credit_file=now_file, created_id=new_id, raised_alerts=alerts
    )


def reset(
    db: Session, *, request: admin.ResetCreditFileRequest, cra: SimulatedCra, clock: Clock
) -> pb.CreditFile:
    nino = _person(cra, request.nino)
    db.execute(delete(CreditFileChangeRecord).where(CreditFileChangeRecord.nino == nino))
    return cra.file_in(db, nino, on=clock.today())
