"""The legal gateway: every CRA request states the case and the purpose it is made for, and each interface accepts
only the purposes the CMS may search for through it (Child Support Act 1991 s14 and Sch 2; Child Support
Information Regulations 2008 reg 4).

A request without them is not a malformed request but one the CMS has no power to make, so it is PERMISSION_DENIED
(checked before generic validation), naming the missing field.
"""

from __future__ import annotations

from google.protobuf.message import Message

from cms.cra.v1 import resources_pb2 as pb
from cms_platform.errors import PermissionDenied

LEGAL_BASIS = (
    "Child Support Act 1991 s14 and Sch 2; Child Support Information Regulations 2008 reg 4 "
    "(credit reference agency)"
)

_SURVEILLANCE = frozenset({pb.SEARCH_PURPOSE_CASE_SURVEILLANCE})
PERMITTED_PURPOSES: dict[str, frozenset[pb.SearchPurpose.ValueType]] = {
    "TracePerson": frozenset(
        {
            pb.SEARCH_PURPOSE_TRACE,
            pb.SEARCH_PURPOSE_ARREARS_COLLECTION,
            pb.SEARCH_PURPOSE_ENFORCEMENT,
        }
    ),
    "GetCreditScore": frozenset(
        {
            pb.SEARCH_PURPOSE_ARREARS_COLLECTION,
            pb.SEARCH_PURPOSE_DEDUCTION_ORDER,
            pb.SEARCH_PURPOSE_ENFORCEMENT,
        }
    ),
    "GetFinancialDataAtArrears": frozenset(
        {pb.SEARCH_PURPOSE_ARREARS_COLLECTION, pb.SEARCH_PURPOSE_DEDUCTION_ORDER}
    ),
    "GetFinancialDataEnforcement": frozenset(
        {pb.SEARCH_PURPOSE_ENFORCEMENT, pb.SEARCH_PURPOSE_DEDUCTION_ORDER}
    ),
    "StartCaseSurveillance": _SURVEILLANCE,
    "RescheduleCaseSurveillanceReview": _SURVEILLANCE,
    "StopCaseSurveillance": _SURVEILLANCE,
    "GetCaseSurveillance": _SURVEILLANCE,
    "ListCaseSurveillances": _SURVEILLANCE,
    "ListSurveillanceAlerts": _SURVEILLANCE,
}


def describe(purpose: pb.SearchPurpose.ValueType) -> str:
    """The legal basis an audit row records: the statute, and the purpose the request stated."""
    return (
        f"{LEGAL_BASIS}; purpose {pb.SearchPurpose.Name(purpose).removeprefix('SEARCH_PURPOSE_')}"[
            :200
        ]
    )


def require_legal_basis(method: str, request: Message) -> None:
    """The registration guard (ServiceRegistration.guard): runs on every request before generic validation."""
    if "legal_basis" not in request.DESCRIPTOR.fields_by_name:
        return
    basis: pb.LegalBasis = getattr(request, "legal_basis")  # noqa: B009 - any request that has one
    missing = None
    if not request.HasField("legal_basis"):
        missing = "legal_basis"
    elif not basis.case_reference.strip():
        missing = "legal_basis.case_reference"
    elif basis.purpose == 0:
        missing = "legal_basis.purpose"
    if missing:
        raise PermissionDenied(
            f"a credit reference search needs a legal basis: {missing} is missing",
            reason="LEGAL_BASIS_MISSING",
            metadata={"field": missing},
        )
    permitted = PERMITTED_PURPOSES.get(method)
    if permitted is not None and basis.purpose not in permitted:
        names = ", ".join(sorted(pb.SearchPurpose.Name(p) for p in permitted))
        raise PermissionDenied(
            f"{method} may not be used for this purpose; permitted: {names}",
            reason="PURPOSE_NOT_PERMITTED",
            metadata={"field": "legal_basis.purpose"},
        )
