"""Scenario changes to a simulated credit file (CraScenarioService.ApplyCreditFileChange): applying one to a file,
and the id an entry it adds is given. Changes are stored and replayed in order over the generated file, each from
its effective date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TypeVar

from google.type import date_pb2

from cms.cra.v1 import cra_scenario_service_pb2 as admin
from cms.cra.v1 import resources_pb2 as pb
from cms_platform.convert import pb_date

from .credit_files import Scenario, stable_id

T = TypeVar("T")


def _month_of(d: date_pb2.Date) -> tuple[int, int]:
    return d.year, d.month


class ChangeError(Exception):
    """A change refers to something the file does not hold; `field` is the request field to name."""

    def __init__(self, field: str, message: str, *, not_found: bool = False):
        super().__init__(message)
        self.field, self.not_found = field, not_found


def _find(items: Iterable[T], attr: str, wanted: str, field: str) -> T:
    for item in items:
        if getattr(item, attr) == wanted:
            return item
    raise ChangeError(field, "is not on this credit file", not_found=True)


def created_id(request: admin.ApplyCreditFileChangeRequest, token: str, seed: int) -> str:
    """The id an added item gets (stored with the change, so replays agree); unrelated to the person, and never
    reused after a reset, so a surveillance that saw an entry does not mistake a new one for it."""
    prefix = {
        "add_current_account": "ca",
        "add_credit_account": "cr",
        "add_public_record": "pr",
        "add_employment_hint": "eh",
        "add_property_indicator": "pi",
    }.get(request.WhichOneof("change") or "")
    return stable_id(prefix, seed, "change", token) if prefix else ""


# An added entry: where it goes on the file, the id it is given, and the date that defaults to the change's.
_ADDED = {
    "add_current_account": ("current_accounts", "account_id", "opened_date"),
    "add_credit_account": ("credit_accounts", "account_id", "opened_date"),
    "add_public_record": ("public_records", "record_id", None),
    "add_employment_hint": ("employment_hints", "hint_id", "last_seen_date"),
    "add_property_indicator": ("property_indicators", "indicator_id", "first_seen_date"),
    "add_financial_associate": ("financial_associates", None, "first_seen_date"),
    "add_fraud_marker": ("fraud_markers", None, None),
}


def apply_change(
    f: pb.CreditFile,
    request: admin.ApplyCreditFileChangeRequest,
    *,
    effective: dt.date,
    new_id: str,
    scenarios: dict[Scenario, dt.date],
) -> None:
    """Apply one scenario change to a file (in place). Raises ChangeError for a reference the file does not hold."""
    kind = request.WhichOneof("change")
    if kind is None:  # stored and requested changes always have one
        raise ChangeError("change", "set exactly one change")
    c = getattr(request, kind)
    when = pb_date(effective)
    if kind in _ADDED:
        field, id_attr, dated = _ADDED[kind]
        item = getattr(f, field).add()
        item.CopyFrom(c)
        if id_attr:
            setattr(item, id_attr, new_id)
        if dated and not getattr(item, dated).year:
            getattr(item, dated).CopyFrom(when)
        if kind in ("add_current_account", "add_credit_account") and not item.status:
            item.status = pb.ACCOUNT_STATUS_UP_TO_DATE
        if kind == "add_current_account" and not item.balance_date.year:
            item.balance_date.CopyFrom(when)
        if kind == "add_credit_account":
            item.last_updated_date.CopyFrom(when)
    elif kind == "add_address_link":
        if (
            c.link_type == pb.ADDRESS_LINK_TYPE_CURRENT
        ):  # the old current address becomes a previous one
            for link in f.address_links:
                if link.link_type == pb.ADDRESS_LINK_TYPE_CURRENT:
                    link.link_type = pb.ADDRESS_LINK_TYPE_PREVIOUS
                    link.last_seen_date.CopyFrom(pb_date(effective - dt.timedelta(days=1)))
        link = f.address_links.add()
        link.CopyFrom(c)
        if not link.first_seen_date.year:
            link.first_seen_date.CopyFrom(when)
    elif kind == "update_current_account":
        current = _find(
            f.current_accounts, "account_id", c.account_id, "update_current_account.account_id"
        )
        if c.HasField("balance_pence"):
            current.balance_pence = c.balance_pence
            current.balance_date.CopyFrom(c.balance_date if c.balance_date.year else when)
        if c.monthly_turnover:
            months = {_month_of(t.month): t.credit_turnover_pence for t in current.monthly_turnover}
            months.update({_month_of(t.month): t.credit_turnover_pence for t in c.monthly_turnover})
            del current.monthly_turnover[:]
            for y, m in sorted(months, reverse=True)[:12]:
                current.monthly_turnover.add(
                    month=date_pb2.Date(year=y, month=m), credit_turnover_pence=months[(y, m)]
                )
        if c.closed_date.year:
            current.closed_date.CopyFrom(c.closed_date)
    elif kind == "update_credit_account_status":
        credit = _find(
            f.credit_accounts, "account_id", c.account_id, "update_credit_account_status.account_id"
        )
        credit.status, credit.months_in_arrears = c.status, c.months_in_arrears
        if c.HasField("balance_pence"):
            credit.balance_pence = c.balance_pence
        if c.status == pb.ACCOUNT_STATUS_DEFAULTED:
            credit.default_date.CopyFrom(c.default_date)
            credit.default_balance_pence = c.default_balance_pence or credit.balance_pence
        if c.status == pb.ACCOUNT_STATUS_SETTLED:
            credit.balance_pence = 0
            credit.closed_date.CopyFrom(when)
        credit.last_updated_date.CopyFrom(when)
    elif kind == "satisfy_public_record":
        r = _find(f.public_records, "record_id", c.record_id, "satisfy_public_record.record_id")
        r.satisfied = True
        r.satisfied_date.CopyFrom(c.satisfied_date)
    elif kind == "mark_deceased":
        f.date_of_death.CopyFrom(c)
    elif kind == "set_scenarios":
        wanted = set(c.scenarios)
        for s in list(scenarios):
            if s not in wanted:
                del scenarios[s]
        for s in wanted:
            scenarios.setdefault(s, effective)
