"""The broker as the relay and the consumers check it: topics created with the partition counts the contracts
declare, and what identifies a topic's log (its id, its partitions' end offsets), so that a broker which lost its
data (restarted empty, replaced, topics recreated) is noticed rather than trusted."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import structlog

from . import events
from .metrics import TOPIC_PARTITIONS_MISMATCH

log = structlog.get_logger("cms.topics")


@dataclass(frozen=True)
class TopicInfo:
    topic_id: str
    partitions: int


class BrokerView:
    """An admin connection to the broker, made on first use and remade after a failure."""

    def __init__(self, bootstrap: str, *, client_id: str, service: str = "") -> None:
        self._bootstrap = bootstrap
        self._client_id = client_id
        self._service = service or client_id
        self._admin: Any = None

    def _client(self) -> Any:
        if self._admin is None:
            from kafka import KafkaAdminClient

            self._admin = KafkaAdminClient(
                bootstrap_servers=self._bootstrap,
                client_id=self._client_id,
                bootstrap_timeout_ms=10_000,
                request_timeout_ms=10_000,
            )
        return self._admin

    def _call(self, fn: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(self._client(), fn)(*args, **kwargs)
        except Exception:
            self.close()  # the next call connects afresh (to a broker that may have been replaced)
            raise

    def close(self) -> None:
        if self._admin is not None:
            try:
                self._admin.close()
            except Exception:  # noqa: BLE001 - already broken
                pass
            self._admin = None

    def cluster_id(self) -> str:
        return str(self._call("describe_cluster").get("cluster_id") or "")

    def describe(self, topics: Iterable[str]) -> dict[str, TopicInfo]:
        """The topics that exist, with their ids and partition counts."""
        wanted = sorted(set(topics))
        if not wanted:
            return {}
        existing = set(self._call("list_topics"))
        present = [t for t in wanted if t in existing]
        if not present:
            return {}
        out = {}
        for d in self._call("describe_topics", present):
            if d.get("error_code", 0) == 0:
                out[d["name"]] = TopicInfo(str(d.get("topic_id") or ""), len(d["partitions"]))
        return out

    def end_offsets(self, partitions: Iterable[tuple[str, int]]) -> dict[tuple[str, int], int]:
        from kafka import TopicPartition
        from kafka.admin import OffsetSpec

        specs = {TopicPartition(t, p): OffsetSpec.LATEST for t, p in partitions}
        if not specs:
            return {}
        found = self._call("list_partition_offsets", specs)
        return {(tp.topic, tp.partition): int(o.offset) for tp, o in found.items()}

    def _empty(self, topic: str, partitions: int) -> bool:
        return not any(self.end_offsets((topic, p) for p in range(partitions)).values())

    def ensure(
        self, topics: Iterable[str], *, repair: bool = False, partitions: int | None = None
    ) -> None:
        """Create missing topics with their declared partition counts (or `partitions`, for a test's own topic).
        With `repair` (the relay, for the topics its own service publishes), a topic found with another count that
        holds nothing (a broker's auto-creation after a restart) is deleted and created again with the right count;
        one holding events is left alone and reported, as re-partitioning it would move keys."""
        from kafka.admin import NewTopic
        from kafka.errors import TopicAlreadyExistsError

        wanted = sorted(set(topics))
        found = self.describe(wanted)
        for topic in wanted:
            declared = partitions or events.partitions_of(topic)
            info = found.get(topic)
            if info is not None and info.partitions != declared:
                if not (repair and self._empty(topic, info.partitions)):
                    TOPIC_PARTITIONS_MISMATCH.labels(self._service, topic).set(1)
                    log.error(
                        "topic has another partition count than its contract declares",
                        topic=topic,
                        partitions=info.partitions,
                        declared=declared,
                    )
                    continue
                self._call("delete_topics", [topic])
                log.warning(
                    "recreating an empty topic with its declared partitions",
                    topic=topic,
                    partitions=info.partitions,
                    declared=declared,
                )
                info = None
            if info is None:
                try:
                    self._call("create_topics", [NewTopic(topic, declared, 1)])
                except TopicAlreadyExistsError:
                    pass
            TOPIC_PARTITIONS_MISMATCH.labels(self._service, topic).set(0)


def ensure_topics(bootstrap: str, topics: list[str], *, partitions: int | None = None) -> None:
    """Create missing topics: with `partitions`, or else each with its declared count (local runs and tests; on
    Kubernetes Strimzi KafkaTopic resources own them)."""
    view = BrokerView(bootstrap, client_id="cms-topic-init")
    try:
        view.ensure(topics, partitions=partitions)
    finally:
        view.close()
