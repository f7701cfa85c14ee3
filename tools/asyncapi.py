"""Writes docs/events/asyncapi.yaml (AsyncAPI 3.0) from the event contracts: every events file's topic, source and
partitions, every event message's CloudEvents type and comment (cms_platform.events reads the same options), the
CloudEvents headers, each topic's record keys (the aggregates' resource names, KEYS below) and each payload's fields
(a JSON Schema of the message in its proto3 JSON mapping, with the contract's comments; the wire is binary).

    .venv/bin/python tools/asyncapi.py docs/events/asyncapi.yaml   (make proto and make descriptors run it;
                                                                    make lint checks it is current and valid)

Generating the document from the contracts means every event the code can publish (an event is publishable only
through its contract's options) is in it; a topic without KEYS fails here.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path
from typing import Any

import yaml
from google.protobuf import descriptor, descriptor_pb2

import cms
from cms_platform import cloudevents, events
from cms_platform.reflection import descriptor_set

# The aggregates whose resource names key each topic's records (cloudevents.resource_key enforces the form).
KEYS: dict[str, list[str]] = {
    "cms.calculation.events.v1": ["cases/{case_id}"],
    "cms.casework.events.v1": [
        "cases/{case_id}",
        "clients/{client_id}",
        "serviceRequests/{service_request_id}",
    ],
    "cms.casework.money.events.v1": [
        "accounts/{account_id}",
        "suspenseItems/{suspense_item_id}",
        "cases/{case_id}",
        "reformWhatIfs/{what_if_id}",
        "directPayMigrations/{migration_id}",
    ],
    "cms.casework.national-runs.v1": ["nationalRuns/{run_id}/chunks/{chunk}"],
    "cms.cra.events.v1": ["case-surveillances/{surveillance_id}"],
    "cms.dwp.events.v1": ["interests/{interest_id}", "deductions/{deduction_id}"],
    "cms.hmrc.events.v1": ["interests/{interest_id}"],
}


def _comments(file: descriptor_pb2.FileDescriptorProto) -> dict[str, str]:
    """Top-level message name -> its leading comment, as one paragraph."""
    out = {}
    for loc in file.source_code_info.location:
        if len(loc.path) == 2 and loc.path[0] == 4:
            text = " ".join(line.strip() for line in loc.leading_comments.strip().splitlines())
            out[file.message_type[loc.path[1]].name] = text
    return out


FD = descriptor.FieldDescriptor
_LONG = (FD.TYPE_INT64, FD.TYPE_UINT64, FD.TYPE_SINT64, FD.TYPE_FIXED64, FD.TYPE_SFIXED64)
_WELL_KNOWN = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?s$"},
    "google.protobuf.FieldMask": {"type": "string"},
}


def _source_comments(fds: descriptor_pb2.FileDescriptorSet) -> dict[str, str]:
    """{full name of a message, enum, field or enum value: its leading comment, as one paragraph}."""
    out: dict[str, str] = {}
    for f in fds.file:
        by_path = {tuple(loc.path): loc.leading_comments for loc in f.source_code_info.location}

        def text(path: tuple, by_path: dict[tuple, str] = by_path) -> str:
            return " ".join(line.strip() for line in by_path.get(path, "").strip().splitlines())

        def message(path: tuple, m: descriptor_pb2.DescriptorProto, prefix: str) -> None:
            name = f"{prefix}.{m.name}"
            out[name] = text(path)
            for i, fld in enumerate(m.field):
                out[f"{name}.{fld.name}"] = text((*path, 2, i))
            for i, n in enumerate(m.nested_type):
                message((*path, 3, i), n, name)
            for i, e in enumerate(m.enum_type):
                out[f"{name}.{e.name}"] = text((*path, 4, i))

        for i, m in enumerate(f.message_type):
            message((4, i), m, f.package)
        for i, e in enumerate(f.enum_type):
            out[f"{f.package}.{e.name}"] = text((5, i))
    return out


class _Schemas:
    """JSON Schemas of messages in their proto3 JSON mapping (field json names, 64-bit integers as strings, enums
    by name), one per message type reachable from the events, for readers of the document; the wire is binary."""

    def __init__(self, comments: dict[str, str]):
        self.comments = comments
        self.schemas: dict[str, Any] = {}

    def ref(self, d: descriptor.Descriptor) -> dict[str, Any]:
        if d.full_name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[d.full_name])
        if d.full_name not in self.schemas:
            self.schemas[d.full_name] = {}  # placeholder: recursion stops here
            props = {}
            for f in d.fields:
                prop = self._field(f)
                described = self.comments.get(f"{d.full_name}.{f.name}")
                if described and "$ref" not in prop:
                    prop["description"] = described
                props[f.json_name] = prop
            schema: dict[str, Any] = {"type": "object", "x-protobuf-message": d.full_name}
            if self.comments.get(d.full_name):
                schema["description"] = self.comments[d.full_name]
            schema["properties"] = props
            self.schemas[d.full_name] = schema
        return {"$ref": f"#/components/schemas/{d.full_name}"}

    def _value(self, f: descriptor.FieldDescriptor) -> dict[str, Any]:
        if f.message_type is not None:
            return self.ref(f.message_type)
        if f.enum_type is not None:
            return {"type": "string", "enum": [v.name for v in f.enum_type.values]}
        if f.type in _LONG:
            return {"type": "string", "pattern": "^-?[0-9]+$"}
        if f.type == FD.TYPE_BOOL:
            return {"type": "boolean"}
        if f.type in (FD.TYPE_DOUBLE, FD.TYPE_FLOAT):
            return {"type": "number"}
        if f.type == FD.TYPE_BYTES:
            return {"type": "string", "contentEncoding": "base64"}
        if f.type == FD.TYPE_STRING:
            return {"type": "string"}
        return {"type": "integer"}

    def _field(self, f: descriptor.FieldDescriptor) -> dict[str, Any]:
        if f.message_type is not None and f.message_type.GetOptions().map_entry:
            value = f.message_type.fields_by_name["value"]
            return {"type": "object", "additionalProperties": self._value(value)}
        if f.is_repeated:
            return {"type": "array", "items": self._value(f)}
        return self._value(f)


def _s(description: str, **more: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **more}


# The CloudEvents binary-mode headers every event carries; each message adds its own constants (_headers).
CLOUDEVENTS_HEADERS = {
    "type": "object",
    "required": [
        "ce_specversion",
        "ce_id",
        "ce_type",
        "ce_source",
        "ce_subject",
        "ce_time",
        "ce_dataschema",
        "ce_partitionkey",
        "content-type",
    ],
    "properties": {
        "ce_specversion": _s("CloudEvents version.", const=cloudevents.SPEC_VERSION),
        "ce_id": _s("The event's id (a UUID): deduplicate on it, delivery is at least once."),
        "ce_type": _s("The CloudEvents type the contract declares."),
        "ce_source": _s("The publishing service."),
        "ce_subject": _s("The resource the event is about (a resource name)."),
        "ce_time": _s("When the change was made (RFC 3339, UTC).", format="date-time"),
        "ce_dataschema": _s(
            "The payload's contract: the proto file, the message as the fragment.", format="uri"
        ),
        "ce_partitionkey": _s("The record key (the aggregate's resource name)."),
        "content-type": _s("The payload's encoding.", const=cloudevents.CONTENT_TYPE),
        "traceparent": _s("W3C trace context of the work that caused the event, when traced."),
        "tracestate": _s("W3C trace state, with traceparent."),
    },
}


def _headers(event_type: str, source: str, schema: str) -> dict[str, Any]:
    return {
        "allOf": [
            {"$ref": "#/components/schemas/CloudEventsHeaders"},
            {
                "type": "object",
                "properties": {
                    "ce_type": {"const": event_type},
                    "ce_source": {"const": source},
                    "ce_dataschema": {"const": cloudevents.dataschema_uri(schema)},
                },
            },
        ]
    }


def render() -> str:
    fds = descriptor_set()
    files = {f.name: f for f in fds.file}
    schemas = _Schemas(_source_comments(fds))
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for info in sorted(pkgutil.walk_packages(cms.__path__, "cms."), key=lambda i: i.name):
        if not info.name.endswith("_pb2"):
            continue
        module = importlib.import_module(info.name)
        declared = events.declared_in(module)
        if not declared:
            continue
        file_name = module.DESCRIPTOR.name
        topic = events.topic_of(declared[0])
        source = events.source_of(declared[0])
        if topic not in KEYS:
            raise SystemExit(f"{topic} ({file_name}) has no KEYS entry in tools/asyncapi.py")
        comments = _comments(files[file_name])
        keys = KEYS[topic]
        channel = topic.replace(".", "-")
        refs = {}
        for cls in declared:
            d = cls.DESCRIPTOR
            if d.name in messages:
                raise SystemExit(f"two event messages are named {d.name}: give them distinct names")
            refs[d.name] = {"$ref": f"#/components/messages/{d.name}"}
            messages[d.name] = {
                "name": d.name,
                "title": events.event_type(cls),
                "summary": comments.get(d.name, "") or d.name,
                "contentType": cloudevents.CONTENT_TYPE,
                "headers": _headers(events.event_type(cls), source, d.full_name),
                "description": (
                    f"The value is a `{d.full_name}` message (`protos/{file_name}`) in the protobuf binary "
                    "encoding; the payload schema shows its fields as the proto3 JSON mapping names them."
                ),
                "payload": schemas.ref(d),
                "bindings": {
                    "kafka": {
                        "key": {
                            "type": "string",
                            "description": "The aggregate's resource name: " + ", ".join(keys),
                            "pattern": "^(" + "|".join(k.split("/")[0] for k in keys) + ")/[^/]+$",
                        },
                        "bindingVersion": "0.5.0",
                    }
                },
            }
        channels[channel] = {
            "address": topic,
            "title": topic,
            "description": (
                f"Events of `{source}` (`protos/{file_name}`), "
                f"{events.partitions_of(topic)} partitions. Records are keyed by the aggregate's resource name "
                f"({', '.join(f'`{k}`' for k in keys)}), so one aggregate's events keep their order."
            ),
            "messages": refs,
            "bindings": {
                "kafka": {
                    "topic": topic,
                    "partitions": events.partitions_of(topic),
                    "bindingVersion": "0.5.0",
                }
            },
        }
        operations[f"publish-{channel}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel}"},
            "summary": f"{source} publishes through its transactional outbox.",
            "messages": [{"$ref": f"#/channels/{channel}/messages/{name}"} for name in refs],
        }
    doc = {
        "asyncapi": "3.0.0",
        "info": {
            "title": "CMS back office events",
            "version": "1.0.0",
            "description": (
                "Generated by tools/asyncapi.py from the event contracts in protos/ (make proto); do not edit by "
                "hand. Every change is announced on Kafka as a protobuf message in a CloudEvents 1.0 binary-mode "
                "envelope (the `ce_*` headers), written through a transactional outbox and delivered at least "
                "once: deduplicate on `ce_id`. A consumer decodes the value with the message `ce_dataschema` "
                "names (generated code from protos/, or the descriptor set gen/python/cms/descriptors.binpb)."
            ),
        },
        "defaultContentType": cloudevents.CONTENT_TYPE,
        "servers": {
            "local": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "The broker `make run` starts.",
            },
            "kubernetes": {
                "host": "cms-kafka-kafka-bootstrap:9092",
                "protocol": "kafka",
                "description": "The Strimzi cluster's bootstrap service (deploy/README.md).",
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": {
                "CloudEventsHeaders": CLOUDEVENTS_HEADERS,
                **dict(sorted(schemas.schemas.items())),
            },
            "messages": messages,
        },
    }
    return "# Generated by tools/asyncapi.py from protos/: do not edit by hand.\n" + yaml.safe_dump(
        doc, sort_keys=False, width=120, allow_unicode=True
    )


if __name__ == "__main__":
    Path(sys.argv[1]).parent.mkdir(parents=True, exist_ok=True)
    Path(sys.argv[1]).write_text(render())
