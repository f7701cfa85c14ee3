"""The legal gateway names a purpose for every RPC that carries a legal basis, and the audit trail an interface for
every RPC it records (unit tests; the refusals themselves are in test_servicer.py)."""

from __future__ import annotations

import pytest

from cms.cra.v1 import cra_service_pb2 as api
from cms.cra.v1 import resources_pb2 as pb
from cms_cra_gateway.audit import INTERFACES
from cms_cra_gateway.legal_gateway import PERMITTED_PURPOSES, describe, require_legal_basis
from cms_platform.errors import PermissionDenied

SERVICE = api.DESCRIPTOR.services_by_name["CraGatewayService"]


def test_every_rpc_with_a_legal_basis_has_permitted_purposes():
    for method in SERVICE.methods:
        if "legal_basis" in method.input_type.fields_by_name:
            assert PERMITTED_PURPOSES.get(method.name), method.name
    assert set(PERMITTED_PURPOSES) <= {m.name for m in SERVICE.methods}
    assert set(INTERFACES) <= set(PERMITTED_PURPOSES)


def test_the_guard_names_what_is_missing_then_what_is_not_permitted():
    with pytest.raises(PermissionDenied) as err:
        require_legal_basis("TracePerson", api.TracePersonRequest())
    assert (err.value.reason, err.value.metadata) == (
        "LEGAL_BASIS_MISSING",
        {"field": "legal_basis"},
    )
    with pytest.raises(PermissionDenied) as err:
        require_legal_basis(
            "TracePerson",
            api.TracePersonRequest(
                legal_basis=pb.LegalBasis(
                    case_reference="c", purpose=pb.SEARCH_PURPOSE_DEDUCTION_ORDER
                )
            ),
        )
    assert err.value.reason == "PURPOSE_NOT_PERMITTED"
    require_legal_basis(
        "TracePerson",
        api.TracePersonRequest(
            legal_basis=pb.LegalBasis(case_reference="c", purpose=pb.SEARCH_PURPOSE_TRACE)
        ),
    )


def test_the_audited_legal_basis_states_the_purpose_within_the_column():
    text = describe(pb.SEARCH_PURPOSE_ARREARS_COLLECTION)
    assert text.endswith("purpose ARREARS_COLLECTION") and len(text) <= 200
