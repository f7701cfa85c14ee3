"""The monthly Child Benefit check ↔ the cms.hmrc.v1 contract: a message's items as the children to check (each
bad item its own INVALID_ARGUMENT), and the results as the streamed answer."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from google.rpc import status_pb2

from cms.hmrc.v1 import hmrc_service_pb2 as api
from cms_platform.errors import DomainError, InvalidArgument, ViolationCollector
from cms_platform.validation import request_violations

from .. import convert
from .rules import MAX_CHECK_ITEMS, CheckResult, ChildToCheck


def check_message(request: api.RunMonthlyChildBenefitCheckRequest) -> None:
    """INVALID_ARGUMENT for a message the run cannot take (no run id, no items or too many)."""
    v = ViolationCollector()
    if not request.run_id.strip():
        v.add("run_id", "is required")
    if not 1 <= len(request.items) <= MAX_CHECK_ITEMS:
        v.add("items", f"send 1 to {MAX_CHECK_ITEMS} children per message")
    v.raise_if_any()


def child_to_check(item: api.ChildBenefitCheckItem) -> ChildToCheck | InvalidArgument:
    """The child an item asks about, or the item's INVALID_ARGUMENT naming every bad field."""
    v = ViolationCollector()
    for name in ("item_id", "case_id"):
        if not getattr(item, name).strip():
            v.add(name, "is required")
    claimant = convert.person_to_match(item.claimant, "claimant", v)
    child = convert.child_from_request(item.child, "child", v)
    # The contract's limits (lengths, date years, enum values) hold per item too; a field already named stays so.
    named = {x.field for x in v.violations}
    v.violations.extend(x for x in request_violations(item, required=False) if x.field not in named)
    try:
        v.raise_if_any()
    except InvalidArgument as exc:
        return exc
    assert claimant is not None and child is not None  # every way to None added a violation
    return ChildToCheck(item.item_id, item.case_id, claimant, child)


def audit_entries(
    run_id: str, items: Sequence[ChildToCheck | DomainError], results: Sequence[CheckResult]
) -> list[tuple[str, str, str, str]]:
    """(NINO, case, run id in the service request's place, match outcome) per child HMRC answered for."""
    return [
        (item.claimant.nino, item.case_id, run_id, result.answer.match.outcome.value)
        for item, result in zip(items, results, strict=True)
        if isinstance(item, ChildToCheck) and result.answer is not None
    ]


def check_response(
    items: Sequence[api.ChildBenefitCheckItem],
    results: Sequence[CheckResult],
    *,
    error_status: Callable[[DomainError], status_pb2.Status],
) -> api.RunMonthlyChildBenefitCheckResponse:
    """One result per item, in order: the claimant's match and the child's status, or the item's error."""
    response = api.RunMonthlyChildBenefitCheckResponse()
    for item, result in zip(items, results, strict=True):
        out = response.results.add(item_id=item.item_id, case_id=item.case_id)
        if result.error is not None:
            out.error.CopyFrom(error_status(result.error))
        elif result.answer is not None:
            out.claimant_match.CopyFrom(convert.match_to_proto(result.answer.match))
            if result.answer.data:
                out.child_status.CopyFrom(convert.child_status_to_proto(result.answer.data[0]))
    return response
