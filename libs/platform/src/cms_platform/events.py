"""Event types declared once, on the contracts: each event message carries its CloudEvents type
(`option (cms.common.v1.event_type)`) and each events file its topic and source. Producers and consumers derive
them from the message class, so a type cannot be misspelt on one side only."""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType

from google.protobuf.message import Message

from cms.common.v1 import event_options_pb2 as options


class NotAnEvent(TypeError):
    """A message without an event_type option was published or subscribed to."""


_DECLARED: dict[type[Message], tuple[str, str, str]] = {}
# Partitions per topic, as the events files declare them; filled as event classes are first looked at (every
# service names its topics through topic_of at import, so its own and its subscriptions' are known at start).
_PARTITIONS: dict[str, int] = {}
# A topic no contract declares (a test's own): the count the contracts use.
DEFAULT_PARTITIONS = 6


def _declared(cls: type[Message]) -> tuple[str, str, str]:
    known = _DECLARED.get(cls)
    if known is not None:
        return known
    descriptor = cls.DESCRIPTOR
    event_type = descriptor.GetOptions().Extensions[options.event_type]
    file_options = descriptor.file.GetOptions()
    topic = file_options.Extensions[options.event_topic]
    source = file_options.Extensions[options.event_source]
    if not (event_type and topic and source):
        raise NotAnEvent(
            f"{descriptor.full_name} is not an event: it needs the event_type option and its file the "
            "event_topic and event_source options (cms/common/v1/event_options.proto)"
        )
    _DECLARED[cls] = (event_type, topic, source)
    _PARTITIONS[topic] = (
        file_options.Extensions[options.event_topic_partitions] or DEFAULT_PARTITIONS
    )
    return _DECLARED[cls]


def event_type(cls: type[Message] | Message) -> str:
    """The CloudEvents `type` of an event message (class or instance)."""
    return _declared(cls if isinstance(cls, type) else type(cls))[0]


def topic_of(cls: type[Message] | Message) -> str:
    """The Kafka topic an event message is published to."""
    return _declared(cls if isinstance(cls, type) else type(cls))[1]


def partitions_of(topic: str) -> int:
    """The partition count the contracts declare for `topic` (DEFAULT_PARTITIONS for a topic they do not name)."""
    return _PARTITIONS.get(topic, DEFAULT_PARTITIONS)


def source_of(cls: type[Message] | Message) -> str:
    """The CloudEvents `source` of an event message."""
    return _declared(cls if isinstance(cls, type) else type(cls))[2]


def by_type(classes: Iterable[type[Message]]) -> dict[str, type[Message]]:
    """{CloudEvents type: message class}; two classes declaring one type is a contract error."""
    out: dict[str, type[Message]] = {}
    for cls in classes:
        declared = event_type(cls)
        if declared in out and out[declared] is not cls:
            raise NotAnEvent(
                f"{declared} is declared by both {out[declared].__name__} and {cls.__name__}"
            )
        out[declared] = cls
    return out


def declared_in(module: ModuleType) -> list[type[Message]]:
    """The event messages a generated `*_pb2` module declares (those with an event_type), in file order."""
    out = []
    for name, descriptor in module.DESCRIPTOR.message_types_by_name.items():
        if descriptor.GetOptions().Extensions[options.event_type]:
            out.append(getattr(module, name))
    return out
