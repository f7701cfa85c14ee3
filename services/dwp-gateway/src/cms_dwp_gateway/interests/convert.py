"""CIS businesses as the contract's values and back."""

from __future__ import annotations

from cms.dwp.v1 import resources_pb2 as pb

from ..benefits import Business


def business(b: Business) -> pb.CisBusiness.ValueType:
    return pb.CisBusiness.Value(f"CIS_BUSINESS_{b.value}")


def business_of(value: int) -> Business | None:
    """The business a contract value names (None: unset or not a CIS business)."""
    if not value or value not in pb.CisBusiness.values():
        return None
    name = pb.CisBusiness.Name(pb.CisBusiness.ValueType(value)).removeprefix("CIS_BUSINESS_")
    return Business.__members__.get(name)
