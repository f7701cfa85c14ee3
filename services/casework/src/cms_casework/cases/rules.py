"""What a new application and a surveillance request must contain (no I/O). NINO rules are the platform's
(NIM39110)."""

from __future__ import annotations

import datetime as dt

from cms.casework.v1 import casework_service_pb2 as api
from cms_platform.convert import date_or_violation, years_after
from cms_platform.errors import InvalidArgument, ViolationCollector
from cms_platform.identifiers import normalise_nino, valid_nino

__all__ = ["check_new_case", "check_surveillance_request", "normalise_nino", "valid_nino"]

_GROUPS = (
    "qualifying_children",
    "relevant_other_children",
    "children_in_family_based_arrangements",
)


def check_new_case(request: api.CreateCaseRequest, today: dt.date) -> None:
    v = ViolationCollector()
    for role in ("paying_parent", "receiving_parent"):
        nino = getattr(request, role).identity.nino
        if nino and not valid_nino(nino):
            v.add(f"{role}.identity.nino", "is not a valid National Insurance number")
    if not request.qualifying_children:
        v.add("qualifying_children", "an application needs at least one qualifying child")
    for i, child in enumerate(request.qualifying_children):
        if not 0 <= child.paying_parent_nights_per_year <= 366:
            v.add(
                f"qualifying_children[{i}].paying_parent_nights_per_year",
                "must be between 0 and 366",
            )
    payer, receiver = request.paying_parent.identity.nino, request.receiving_parent.identity.nino
    if payer and normalise_nino(payer) == normalise_nino(receiver):
        v.add("receiving_parent.identity.nino", "the receiving parent cannot be the paying parent")
    for group in _GROUPS:
        for i, child in enumerate(getattr(request, group)):
            born = date_or_violation(child.date_of_birth, f"{group}[{i}].date_of_birth", v)
            if born and born > today:
                v.add(f"{group}[{i}].date_of_birth", "is in the future")
            if born and group == "qualifying_children" and born <= years_after(today, -20):
                v.add(f"{group}[{i}].date_of_birth", "a qualifying child must be under 20")
    if request.HasField("application_date"):
        applied = date_or_violation(request.application_date, "application_date", v)
        if applied and applied > today:
            v.add("application_date", "is in the future")
    v.raise_if_any()


def check_surveillance_request(
    request: api.SetCaseSurveillanceRequest, today: dt.date
) -> dt.date | None:
    """The review date of a surveillance request: required when starting one, and after today."""
    v = ViolationCollector()
    review = date_or_violation(request.review_date, "review_date", v, required=request.active)
    v.raise_if_any()
    if request.active and review is not None and review <= today:
        raise InvalidArgument.field("review_date", "must be after today")
    return review
