"""CloudEvents 1.0 in Kafka binary mode: attributes as `ce_*` headers, the protobuf payload as the value.

The record key is the `partitionkey` extension, the aggregate's resource name (`cases/{case_id}`), so one
aggregate's events stay in order. `dataschema` is a URI naming the contract: the proto file and, as the fragment,
the message (`dataschema_uri`). W3C trace context travels as `traceparent` / `tracestate` headers beside them.
"""

from __future__ import annotations

import builtins
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import TypeVar

from google.protobuf import descriptor_pool
from google.protobuf.message import Message

M = TypeVar("M", bound=Message)

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/protobuf"
# Where the contracts are published: the proto file under it, the message as the fragment (docs/events/asyncapi.yaml).
DATASCHEMA_BASE = "https://schemas.cms.gov.uk/protos/"


# An aggregate's resource name (AIP-122): collection/id pairs, e.g. `cases/{case_id}` or `case-surveillances/{id}`.
_RESOURCE_NAME = re.compile(r"[a-zA-Z][a-zA-Z-]*/[^/\s]+(/[a-zA-Z][a-zA-Z-]*/[^/\s]+)*")


def resource_key(key: str) -> str:
    """`key` if it is a resource name; every topic is keyed by the aggregate's (docs/events/asyncapi.yaml), so a
    bare id is a defect of the publisher."""
    if not _RESOURCE_NAME.fullmatch(key):
        raise ValueError(f"an event key is the aggregate's resource name, not {key[:40]!r}")
    return key


def dataschema_uri(schema: str) -> str:
    """The `dataschema` URI of a message's full name, e.g. cms.casework.v1.CaseCreated ->
    https://schemas.cms.gov.uk/protos/cms/casework/v1/events.proto#cms.casework.v1.CaseCreated. The outbox stores the
    full name; a value that is a URI already is kept."""
    if "://" in schema or not schema:
        return schema
    try:
        file = descriptor_pool.Default().FindMessageTypeByName(schema).file.name
    except KeyError:
        file = ""
    return f"{DATASCHEMA_BASE}{file}#{schema}"


@dataclass(frozen=True)
class Envelope:
    id: str
    type: str
    source: str
    subject: str
    time: dt.datetime
    dataschema: str
    partitionkey: str
    data: bytes
    extra_headers: dict[str, str] = field(default_factory=dict)

    def parse(self, message_cls: builtins.type[M]) -> M:
        return message_cls.FromString(self.data)


def to_kafka_headers(env: Envelope) -> list[tuple[str, bytes]]:
    headers = [
        ("ce_specversion", SPEC_VERSION),
        ("ce_id", env.id),
        ("ce_type", env.type),
        ("ce_source", env.source),
        ("ce_subject", env.subject),
        ("ce_time", env.time.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")),
        ("ce_dataschema", dataschema_uri(env.dataschema)),
        ("ce_partitionkey", env.partitionkey),
        ("content-type", CONTENT_TYPE),
        *sorted(env.extra_headers.items()),
    ]
    return [(k, v.encode()) for k, v in headers]


class NotACloudEvent(ValueError):
    pass


def from_kafka(
    headers: list[tuple[str, bytes]] | None, key: bytes | None, value: bytes
) -> Envelope:
    h = {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in headers or ()}
    try:
        if h["ce_specversion"] != SPEC_VERSION:
            raise NotACloudEvent(f"unsupported specversion {h['ce_specversion']!r}")
        ce = {k[3:]: v for k, v in h.items() if k.startswith("ce_")}
        return Envelope(
            id=ce["id"],
            type=ce["type"],
            source=ce["source"],
            subject=ce.get("subject", ""),
            time=dt.datetime.fromisoformat(ce["time"].replace("Z", "+00:00")),
            dataschema=ce.get("dataschema", ""),
            partitionkey=ce.get("partitionkey", key.decode() if key else ""),
            data=value or b"",
            extra_headers={
                k: v for k, v in h.items() if not k.startswith("ce_") and k != "content-type"
            },
        )
    except KeyError as missing:
        raise NotACloudEvent(f"missing CloudEvents header {missing}") from None
