"""Every RPC of every service, through the real servers: bad input is INVALID_ARGUMENT naming the fields (or
PERMISSION_DENIED for a CRA search without a legal basis), a call without identity is UNAUTHENTICATED, and
nothing answers INTERNAL or UNKNOWN."""

from __future__ import annotations

import grpc
import pytest

from cms_platform.grpc_errors import details_of, violated_fields
from cms_platform.validation import request_violations

from .conftest import admitted, call, empty_request, rpcs

NEVER = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}


def test_every_rpc_refuses_empty_requests_naming_the_fields(running, creds):
    checked = 0
    for service, channel in running:
        for full_name, method in rpcs(service):
            request = empty_request(method)
            caller = admitted(creds, method)  # the access policy lets it through to validation
            expected = {v.field for v in request_violations(request)}
            where = f"{full_name}/{method.name}"
            if (
                not expected
            ):  # nothing is required (e.g. a list with defaults): answering is right too
                try:
                    call(channel, full_name, method, request, caller)
                except grpc.RpcError as err:
                    assert err.code() not in NEVER, f"{where} answered {err.code()}"
                checked += 1
                continue
            try:
                answers = call(channel, full_name, method, request, caller)
            except grpc.RpcError as exc:
                err = exc
            else:
                # A stream that checks item by item answers the bad item with its own INVALID_ARGUMENT status.
                assert method.client_streaming and method.server_streaming, (
                    f"{where} accepted an empty request"
                )
                statuses = [a.error for a in answers if a.HasField("error")]
                assert statuses and all(
                    s.code == grpc.StatusCode.INVALID_ARGUMENT.value[0] for s in statuses
                ), where
                checked += 1
                continue
            code = err.code()
            assert code not in NEVER, f"{where} answered {code}"
            if "legal_basis" in expected:
                assert code == grpc.StatusCode.PERMISSION_DENIED, where
                assert details_of(err)["ErrorInfo"].reason == "LEGAL_BASIS_MISSING"
            elif expected:
                assert code == grpc.StatusCode.INVALID_ARGUMENT, f"{where} answered {code}"
                fields = {f.removeprefix("[0].") for f in violated_fields(err)}
                assert expected <= fields, where
            checked += 1
    assert checked > 60  # every RPC of all five APIs


def test_every_rpc_needs_an_identity(running):
    for service, channel in running:
        for full_name, method in rpcs(service):
            with pytest.raises(grpc.RpcError) as err:
                call(channel, full_name, method, empty_request(method), ())
            assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED, f"{full_name}/{method.name}"
