"""Per-event contract tests over every event message the contracts declare: each has a CloudEvents type, a topic
and a source from its contract, round-trips with every field set, is published under a resource-name key with a
URI dataschema, and is described in docs/events/asyncapi.yaml with its type, source, dataschema and fields."""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
from pathlib import Path

import pytest
import yaml
from google.protobuf import descriptor
from google.protobuf.message import Message

import cms
from cms_platform import cloudevents, events

ASYNCAPI = Path(__file__).parents[3] / "docs" / "events" / "asyncapi.yaml"
FD = descriptor.FieldDescriptor


def _event_classes() -> list[type[Message]]:
    found = []
    for info in pkgutil.walk_packages(cms.__path__, "cms."):
        if info.name.endswith("_pb2"):
            found += events.declared_in(importlib.import_module(info.name))
    return sorted(found, key=lambda c: c.DESCRIPTOR.full_name)


EVENTS = _event_classes()


def _fill(message: Message, depth: int = 0) -> Message:
    """Sets every field (one entry of each repeated or map field), three levels deep."""
    for f in message.DESCRIPTOR.fields:
        if f.message_type is not None and f.message_type.GetOptions().map_entry:
            key, value = (
                f.message_type.fields_by_name["key"],
                f.message_type.fields_by_name["value"],
            )
            k = _scalar(key)
            if value.message_type is not None:
                if depth < 3:
                    _fill(getattr(message, f.name)[k], depth + 1)
            else:
                getattr(message, f.name)[k] = _scalar(value)
        elif f.message_type is not None:
            if depth < 3:
                target = (
                    getattr(message, f.name).add() if f.is_repeated else getattr(message, f.name)
                )
                _fill(target, depth + 1)
                if not f.is_repeated:
                    getattr(message, f.name).SetInParent()
        elif f.is_repeated:
            getattr(message, f.name).append(_scalar(f))
        else:
            setattr(message, f.name, _scalar(f))
    return message


def _scalar(f: descriptor.FieldDescriptor) -> object:
    if f.enum_type is not None:
        return f.enum_type.values[-1].number
    if f.type == FD.TYPE_STRING:
        return "cases/1"
    if f.type == FD.TYPE_BYTES:
        return b"\x01"
    if f.type == FD.TYPE_BOOL:
        return True
    if f.type in (FD.TYPE_DOUBLE, FD.TYPE_FLOAT):
        return 1.5
    return 7


def test_the_contracts_declare_events_on_every_topic():
    assert len(EVENTS) > 50
    assert {events.topic_of(c) for c in EVENTS} == {
        "cms.calculation.events.v1",
        "cms.casework.events.v1",
        "cms.casework.money.events.v1",
        "cms.casework.national-runs.v1",
        "cms.cra.events.v1",
        "cms.dwp.events.v1",
        "cms.hmrc.events.v1",
    }
    events.by_type(EVENTS)  # no two messages declare one type


@pytest.mark.parametrize("cls", EVENTS, ids=lambda c: c.DESCRIPTOR.full_name)
def test_each_event_round_trips_and_travels_as_a_cloudevent(cls):
    sent = _fill(cls())
    assert sent.ByteSize() > 0
    assert cls.FromString(sent.SerializeToString()) == sent
    env = cloudevents.Envelope(
        id="e-1",
        type=events.event_type(cls),
        source=events.source_of(cls),
        subject="cases/1",
        time=dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
        dataschema=cls.DESCRIPTOR.full_name,
        partitionkey=cloudevents.resource_key("cases/1"),
        data=sent.SerializeToString(),
    )
    headers = cloudevents.to_kafka_headers(env)
    got = cloudevents.from_kafka(headers, b"cases/1", env.data)
    assert got.parse(cls) == sent and got.type == events.event_type(cls)
    assert got.dataschema == (
        f"{cloudevents.DATASCHEMA_BASE}{cls.DESCRIPTOR.file.name}#{cls.DESCRIPTOR.full_name}"
    )


def test_the_asyncapi_document_describes_every_event_with_its_contract():
    doc = yaml.safe_load(ASYNCAPI.read_text())
    channels = {c["address"]: c for c in doc["channels"].values()}
    described = doc["components"]["messages"]
    for cls in EVENTS:
        d = cls.DESCRIPTOR
        message = described[d.name]
        consts = {k: v["const"] for k, v in message["headers"]["allOf"][1]["properties"].items()}
        assert consts == {
            "ce_type": events.event_type(cls),
            "ce_source": events.source_of(cls),
            "ce_dataschema": cloudevents.dataschema_uri(d.full_name),
        }
        schema = doc["components"]["schemas"][message["payload"]["$ref"].rpartition("/")[2]]
        assert schema["x-protobuf-message"] == d.full_name
        assert list(schema["properties"]) == [f.json_name for f in d.fields]
        assert d.name in channels[events.topic_of(cls)]["messages"]
    assert len(described) == len(EVENTS)
