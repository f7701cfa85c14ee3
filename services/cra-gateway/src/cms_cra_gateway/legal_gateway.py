"""The legal gateway: every CRA search states the case and the purpose it is made for.

A search without them is not a malformed request but one the CMS has no power to make, so it is
PERMISSION_DENIED (checked before generic validation), naming the missing field.
"""

from __future__ import annotations

from cms_platform.errors import PermissionDenied


def require_legal_basis(method: str, request) -> None:
    if "legal_basis" not in request.DESCRIPTOR.fields_by_name:
        return
    missing = None
    if not request.HasField("legal_basis"):
        missing = "legal_basis"
    elif not request.legal_basis.case_reference.strip():
        missing = "legal_basis.case_reference"
    elif request.legal_basis.purpose == 0:
        missing = "legal_basis.purpose"
    if missing:
        raise PermissionDenied(f"a credit reference search needs a legal basis: {missing} is missing",
                               reason="LEGAL_BASIS_MISSING", metadata={"field": missing})
