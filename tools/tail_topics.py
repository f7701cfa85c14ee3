"""Print the events on the local broker's topics as they arrive: each record's topic, partition, offset and key, its
CloudEvents headers and W3C trace context, and (--payload) the event as JSON. What kcat would show, for the local
broker that Debian's kcat cannot talk to (README, "Reading the topics"); it works against any Kafka.

No consumer group: every partition is assigned, so there is no group join to wait for and nothing is committed.

  .venv/bin/python tools/tail_topics.py                       # every cms.* topic, from now on
  .venv/bin/python tools/tail_topics.py --from-beginning --payload cms.casework.events.v1
  .venv/bin/python tools/tail_topics.py --count 1 ...         # stop after one record (scripts)
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time

from google.protobuf import json_format
from google.protobuf.message import Message

import cms
from cms_platform import events


def event_classes() -> dict[str, type[Message]]:
    """{CloudEvents type: message class} for every event the contracts declare."""
    found: list[type[Message]] = []
    for info in pkgutil.walk_packages(cms.__path__, "cms."):
        if info.name.endswith("_pb2"):
            found.extend(events.declared_in(importlib.import_module(info.name)))
    return events.by_type(found)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("topics", nargs="*", help="default: every topic whose name starts cms.")
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    parser.add_argument("--from-beginning", action="store_true")
    parser.add_argument("--payload", action="store_true", help="print each event as JSON")
    parser.add_argument("--count", type=int, default=0, help="stop after this many records")
    parser.add_argument(
        "--timeout", type=float, default=0, help="give up after this many seconds (0: never)"
    )
    args = parser.parse_args()

    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=args.bootstrap, enable_auto_commit=False)
    topics = args.topics or sorted(t for t in consumer.topics() if t.startswith("cms."))
    partitions = [
        TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())
    ]
    if not partitions:
        print(
            f"no partitions for {topics or 'any cms.* topic'} on {args.bootstrap}", file=sys.stderr
        )
        return 1
    consumer.assign(partitions)
    if args.from_beginning:
        consumer.seek_to_beginning()
    else:
        consumer.seek_to_end()
    classes = event_classes() if args.payload else {}
    seen, deadline = 0, time.monotonic() + args.timeout if args.timeout else float("inf")
    try:
        while time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=200).values():
                for r in records:
                    headers = {k: v.decode(errors="replace") for k, v in r.headers or ()}
                    key = r.key.decode(errors="replace") if r.key else ""
                    shown = " ".join(
                        f"{k}={v}"
                        for k, v in headers.items()
                        if k.startswith("ce_") or k in ("traceparent", "tracestate")
                    )
                    print(f"{r.topic}[{r.partition}]@{r.offset} key={key} {shown}", flush=True)
                    cls = classes.get(headers.get("ce_type", ""))
                    if cls is not None:
                        print(json_format.MessageToJson(cls.FromString(r.value or b"")), flush=True)
                    seen += 1
                    if args.count and seen >= args.count:
                        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        consumer.close(autocommit=False)
    return 0 if not args.count else 1


if __name__ == "__main__":
    sys.exit(main())
