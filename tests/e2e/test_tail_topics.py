"""tools/tail_topics.py, the reader README offers where Debian's kcat cannot talk to the local broker: it shows an
event's key, CloudEvents headers, trace context and payload, reading without a consumer group."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import uuid
from pathlib import Path

from kafka import KafkaProducer

from cms.dwp.v1 import events_pb2 as dwp_ev
from cms_platform import cloudevents, events
from cms_platform.topics import ensure_topics

ROOT = Path(__file__).resolve().parents[2]
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def test_tail_topics_prints_the_key_headers_trace_context_and_payload(kafka_bootstrap):
    topic = f"test.tail.{uuid.uuid4().hex[:8]}"
    ensure_topics(kafka_bootstrap, [topic], partitions=3)
    message = dwp_ev.BenefitInformationChanged(case_id=str(uuid.uuid4()))
    env = cloudevents.Envelope(
        id=str(uuid.uuid4()),
        type=events.event_type(message),
        source="/cms/dwp-gateway",
        subject=f"cases/{message.case_id}",
        time=dt.datetime(2026, 4, 6, 9, 0, tzinfo=dt.UTC),
        dataschema=message.DESCRIPTOR.full_name,
        partitionkey=f"cases/{message.case_id}",
        data=message.SerializeToString(),
        extra_headers={"traceparent": TRACEPARENT},
    )
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    producer.send(
        topic,
        key=env.partitionkey.encode(),
        value=env.data,
        headers=cloudevents.to_kafka_headers(env),
    ).get(timeout=20)
    producer.close()

    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "tail_topics.py"),
            "--bootstrap",
            kafka_bootstrap,
            "--from-beginning",
            "--payload",
            "--count",
            "1",
            "--timeout",
            "60",
            topic,
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    first = done.stdout.splitlines()[0]
    assert f"key=cases/{message.case_id}" in first
    assert f"ce_type={env.type}" in first and f"ce_id={env.id}" in first
    assert f"traceparent={TRACEPARENT}" in first
    assert f'"caseId": "{message.case_id}"' in done.stdout
