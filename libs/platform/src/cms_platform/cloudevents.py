"""CloudEvents 1.0 in Kafka binary mode: attributes as `ce_*` headers, the protobuf payload as the value.

The record key is the `partitionkey` extension (the aggregate id), so one case's events stay in order.
W3C trace context travels as `traceparent` / `tracestate` headers beside them.
"""

from __future__ import annotations

import builtins
import datetime as dt
from dataclasses import dataclass, field
from typing import TypeVar

from google.protobuf.message import Message

M = TypeVar("M", bound=Message)

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/protobuf"


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
        ("ce_dataschema", env.dataschema),
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
