"""Reflection (cms_platform.reflection) through a real server on port 0: both grpc.reflection.v1 and v1alpha are
served, and a method's descriptor comes with the contract's comments (its deadline, the service's allowed callers),
as `grpcurl describe` shows them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_reflection.v1alpha import reflection_pb2
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from cms.calculation.v1 import calculation_service_pb2_grpc as api_grpc
from cms_devkit.testing import local_issuer
from cms_platform.identity import IdentityVerifier, TrustedIssuer
from cms_platform.server import GrpcServer, ServiceRegistration

PACKAGE = "cms.calculation.v1"
SERVICE = f"{PACKAGE}.CalculationService"
FILE = "cms/calculation/v1/calculation_service.proto"


@pytest.fixture
def served() -> Iterator[int]:
    issuer = local_issuer()
    server = GrpcServer(
        service="test",
        registrations=[
            ServiceRegistration(
                SERVICE,
                api_grpc.add_CalculationServiceServicer_to_server,
                api_grpc.CalculationServiceServicer(),
            )
        ],
        identity=IdentityVerifier([TrustedIssuer.model_validate(issuer.trusted())], audience="t"),
        host="127.0.0.1",
        port=0,
    )
    yield server.start()
    server.stop(0)


@pytest.fixture
def channel(served: int) -> Iterator[grpc.Channel]:
    channel = grpc.insecure_channel(f"127.0.0.1:{served}")
    yield channel
    channel.close()


def _comments(file: descriptor_pb2.FileDescriptorProto) -> tuple[str, str]:
    """The service's and CreateCalculation's leading comments, found by their source-info paths."""
    s = next(i for i, svc in enumerate(file.service) if svc.name == "CalculationService")
    m = next(i for i, rpc in enumerate(file.service[s].method) if rpc.name == "CreateCalculation")
    by_path = {tuple(loc.path): loc.leading_comments for loc in file.source_code_info.location}
    return by_path.get((6, s), ""), by_path.get((6, s, 2, m), "")


def _ask(channel: grpc.Channel, version: str, **request) -> reflection_pb2.ServerReflectionResponse:
    # v1's messages are v1alpha's under another package: the same bytes on the wire.
    call = channel.stream_stream(
        f"/grpc.reflection.{version}.ServerReflection/ServerReflectionInfo",
        request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
        response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
    )
    return next(iter(call(iter([reflection_pb2.ServerReflectionRequest(**request)]), timeout=10)))


@pytest.mark.parametrize("version", ["v1", "v1alpha"])
def test_both_reflection_versions_serve_the_contract_with_its_comments(channel, version):
    listed = _ask(channel, version, list_services="")
    assert {s.name for s in listed.list_services_response.service} >= {
        SERVICE,
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    }
    found = _ask(channel, version, file_containing_symbol=f"{SERVICE}.CreateCalculation")
    files = [
        descriptor_pb2.FileDescriptorProto.FromString(b)
        for b in found.file_descriptor_response.file_descriptor_proto
    ]
    assert files[0].name == FILE
    service, method = _comments(files[0])
    assert "Callers" in service and "casework" in service
    assert "Recommended deadline: 5 s" in method
    # Every import comes along, so a client can build the descriptors from this answer alone.
    pool, added, todo = descriptor_pool.DescriptorPool(), set(), list(files)
    while todo:
        ready = next(f for f in todo if set(f.dependency) <= added)
        pool.Add(ready)
        added.add(ready.name)
        todo.remove(ready)
    assert pool.FindMethodByName(f"{SERVICE}.CreateCalculation").input_type.name == (
        "CreateCalculationRequest"
    )
    missing = _ask(channel, version, file_containing_symbol="cms.nothing.v1.Nothing")
    assert missing.error_response.error_code == grpc.StatusCode.NOT_FOUND.value[0]


def test_a_reflection_client_reads_comments_and_can_describe_reflection_v1_itself(channel):
    db = ProtoReflectionDescriptorDatabase(channel)
    service, method = _comments(db.FindFileContainingSymbol(SERVICE))
    assert "Recommended deadline" in method and "Callers" in service
    v1 = db.FindFileContainingSymbol("grpc.reflection.v1.ServerReflection")
    assert (v1.package, v1.service[0].method[0].input_type) == (
        "grpc.reflection.v1",
        ".grpc.reflection.v1.ServerReflectionRequest",
    )


def test_grpcurl_describes_a_method_with_its_comments(served):
    """An independent client (grpcurl, which asks v1 first) reads a method and a field with their comments."""
    grpcurl = shutil.which("grpcurl", path=str(Path(sys.executable).parent)) or "grpcurl"
    method = subprocess.run(
        [grpcurl, "-plaintext", f"127.0.0.1:{served}", "describe", f"{SERVICE}.CreateCalculation"],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert method.returncode == 0, method.stderr
    assert "Recommended deadline: 5 s" in method.stdout
    assert "SERVICE_NAME_CASEWORK" in method.stdout  # the access option: who may call it
    field = subprocess.run(
        [
            grpcurl,
            "-plaintext",
            f"127.0.0.1:{served}",
            "describe",
            f"{PACKAGE}.CreateCalculationRequest.request_id",
        ],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert field.returncode == 0, field.stderr
    assert "Idempotency key" in field.stdout
