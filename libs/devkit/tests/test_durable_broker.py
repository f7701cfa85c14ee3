"""The optional durable local broker (`make run DURABLE_BROKER=1`): Tansu on S3 files kept by a local s3rver. What
it was given is still there after the broker, and the S3 server under it, stop and start again."""

from __future__ import annotations

import fcntl
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from cms_devkit import infra
from cms_platform.topics import ensure_topics


@pytest.fixture(scope="module")
def s3rver() -> None:
    """s3rver as `make venv` and `make run DURABLE_BROKER=1` install it (npm ci from the committed lock). Installed
    here only when missing, under a lock: `make test` runs the PostgreSQL and SQLite suites at once, and two `npm ci`
    in one directory delete each other's files."""
    with open(Path(tempfile.gettempdir()) / "cms-s3rver-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not infra.S3RVER.exists():
            subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund", "--silent"],
                cwd=infra.S3RVER.parents[2],
                check=True,
                timeout=300,
            )


def _read_all(bootstrap: str, topic: str, expected: int) -> list[bytes]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        got: list[bytes] = []
        deadline = time.monotonic() + 30
        while len(got) < expected and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                got.extend(r.value for r in records)
        return got
    finally:
        consumer.close(autocommit=False)


def test_events_survive_a_restart_of_the_durable_broker(s3rver, tmp_path):
    broker = infra.start_tansu(storage_dir=tmp_path)
    try:
        ensure_topics(broker.bootstrap, ["durable.events"], partitions=3)
        producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
        for i in range(6):
            producer.send("durable.events", key=b"cases/%d" % i, value=b"event %d" % i).get(20)
        producer.close()
    finally:
        broker.stop()
    assert (
        broker.s3 is not None and broker.s3.proc is not None and broker.s3.proc.poll() is not None
    )

    # A fresh port: the old one may have been taken since (an outgoing connection's, on a busy machine).
    again = infra.start_tansu(storage_dir=tmp_path)
    try:
        got = _read_all(again.bootstrap, "durable.events", expected=6)
    finally:
        again.stop()
    assert sorted(got) == [b"event %d" % i for i in range(6)]
