"""Server reflection that shows the contracts' comments, on grpc.reflection.v1 and v1alpha.

The generated modules register descriptors without their source info, so reflection built on them alone serves no
comments (`grpcurl describe` shows no deadlines or allowed callers). `make proto` also writes the contracts as a
FileDescriptorSet with source info (`cms/descriptors.binpb`, package data of cms-contracts); files found there are
served from it byte for byte, the rest (health, reflection itself) from the descriptor pool.

grpcio-reflection serves v1alpha only; v1 has the same messages under another package, so the same servicer answers
both, and a renamed copy of the v1alpha file lets `grpcurl describe` read v1 too.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from importlib import resources
from typing import Any

import grpc
from google.protobuf import descriptor, descriptor_pb2, descriptor_pool
from grpc_reflection.v1alpha import reflection, reflection_pb2

V1ALPHA = reflection.SERVICE_NAME
V1 = "grpc.reflection.v1.ServerReflection"
DESCRIPTOR_SET = "descriptors.binpb"  # in the `cms` package (gen/python/cms)


@functools.cache
def _files() -> dict[str, bytes]:
    return {f.name: f.SerializeToString() for f in descriptor_set().file}


def descriptor_set() -> descriptor_pb2.FileDescriptorSet:
    """The contracts and their imports, with source info, as `make proto` wrote them."""
    return descriptor_pb2.FileDescriptorSet.FromString(
        resources.files("cms").joinpath(DESCRIPTOR_SET).read_bytes()
    )


def _v1_file(pool: descriptor_pool.DescriptorPool) -> None:
    """Adds grpc/reflection/v1/reflection.proto to `pool`: v1alpha's file under v1's package."""
    try:
        pool.FindFileByName("grpc/reflection/v1/reflection.proto")
        return
    except KeyError:
        pass
    proto = descriptor_pb2.FileDescriptorProto()
    reflection_pb2.DESCRIPTOR.CopyToProto(proto)
    proto.name, proto.package = "grpc/reflection/v1/reflection.proto", "grpc.reflection.v1"
    old, new = ".grpc.reflection.v1alpha.", ".grpc.reflection.v1."
    for message in proto.message_type:
        for f in message.field:
            if f.type_name:  # assigning "" would mark it present, which a scalar may not have
                f.type_name = f.type_name.replace(old, new)
    for method in proto.service[0].method:
        method.input_type = method.input_type.replace(old, new)
        method.output_type = method.output_type.replace(old, new)
    proto.options.Clear()  # v1alpha's go_package/java options name v1alpha
    pool.Add(proto)


class _Servicer(reflection.ReflectionServicer):
    """Answers file requests with the source-info bytes of each file where the descriptor set has them."""

    def __init__(self, service_names: Iterable[str], files: dict[str, bytes]):
        pool = descriptor_pool.Default()
        _v1_file(pool)
        super().__init__(service_names, pool=pool)
        self._files = files

    def _answer(self, request: Any, find: Any) -> reflection_pb2.ServerReflectionResponse:
        try:
            file = find()
        except KeyError:
            return reflection_pb2.ServerReflectionResponse(
                error_response=reflection_pb2.ErrorResponse(
                    error_code=grpc.StatusCode.NOT_FOUND.value[0], error_message="not found"
                ),
                original_request=request,
            )
        seen: dict[str, descriptor.FileDescriptor] = {}
        todo = [file]
        while todo:
            f = todo.pop()
            if f.name not in seen:
                seen[f.name] = f
                todo.extend(f.dependencies)
        return reflection_pb2.ServerReflectionResponse(
            file_descriptor_response=reflection_pb2.FileDescriptorResponse(
                file_descriptor_proto=[self._bytes(f) for f in seen.values()]
            ),
            original_request=request,
        )

    def _bytes(self, file: descriptor.FileDescriptor) -> bytes:
        if file.name in self._files:
            return self._files[file.name]
        proto = descriptor_pb2.FileDescriptorProto()
        file.CopyToProto(proto)
        return proto.SerializeToString()

    def _file_by_filename(self, request: Any, filename: str) -> Any:
        return self._answer(request, lambda: self._pool.FindFileByName(filename))

    def _file_containing_symbol(self, request: Any, fully_qualified_name: str) -> Any:
        return self._answer(request, lambda: self._containing(fully_qualified_name))

    def _containing(self, symbol: str) -> descriptor.FileDescriptor:
        """The pool finds messages, enums, services and extensions; a method, field or enum value (what
        `grpcurl describe Service.Method` asks for) is found through its parent."""
        try:
            return self._pool.FindFileContainingSymbol(symbol)
        except KeyError:
            parent, _, member = symbol.rpartition(".")
            for find, members in (
                (self._pool.FindServiceByName, "methods_by_name"),
                (self._pool.FindMessageTypeByName, "fields_by_name"),
                (self._pool.FindEnumTypeByName, "values_by_name"),
            ):
                try:
                    found = find(parent)
                except KeyError:
                    continue
                if member in getattr(found, members):
                    return found.file
            raise

    def _file_containing_extension(
        self, request: Any, containing_type: str, extension_number: int
    ) -> Any:
        def find() -> descriptor.FileDescriptor:
            message = self._pool.FindMessageTypeByName(containing_type)
            extension = self._pool.FindExtensionByNumber(message, extension_number)
            return self._pool.FindFileContainingSymbol(extension.full_name)

        return self._answer(request, find)


def enable(service_names: Iterable[str], server: grpc.Server) -> None:
    """Serves reflection for `service_names` (plus both reflection services) on `server`."""
    servicer = _Servicer([*service_names, V1ALPHA, V1], _files())
    handler = grpc.stream_stream_rpc_method_handler(
        servicer.ServerReflectionInfo,
        request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
        response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
    )
    # The same messages on the wire under both names.
    server.add_generic_rpc_handlers(
        [
            grpc.method_handlers_generic_handler(name, {"ServerReflectionInfo": handler})
            for name in (V1ALPHA, V1)
        ]
    )
