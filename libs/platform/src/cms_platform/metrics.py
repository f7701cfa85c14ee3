"""Prometheus metrics shared by every service (exposed on settings.metrics_port when set)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

RPC_HANDLED = Counter("cms_rpc_handled_total", "RPCs completed", ["service", "method", "code"])
RPC_DURATION = Histogram(
    "cms_rpc_duration_seconds",
    "RPC latency",
    ["service", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
OUTBOX_PUBLISHED = Counter(
    "cms_outbox_published_total", "Events relayed from the outbox to Kafka", ["service"]
)
OUTBOX_BACKLOG = Histogram(
    "cms_outbox_batch_size",
    "Rows claimed per relay pass",
    ["service"],
    buckets=(0, 1, 10, 100, 500, 1000),
)
EVENTS_UNHANDLED = Counter(
    "cms_events_unhandled_total",
    "Events of a type no handler of the group takes (ignored)",
    ["service", "group", "type"],
)
EVENTS_CONSUMED = Counter(
    "cms_events_consumed_total", "Events handled by a consumer", ["service", "group", "outcome"]
)

BROKER_DATA_LOST = Counter(
    "cms_broker_data_lost_total",
    "Times the outbox relay found the broker had lost events it published (it re-publishes them)",
    ["service", "reason"],
)
OUTBOX_REPUBLISHED = Counter(
    "cms_outbox_republished_total",
    "Events queued to be published again because the broker lost them",
    ["service"],
)
CONSUMER_RESETS = Counter(
    "cms_consumer_resets_total",
    "Times a consumer left and rejoined its group or read a partition again from the start",
    ["service", "group", "reason"],
)
CONSUMER_HEALTHY = Gauge(
    "cms_consumer_healthy",
    "1 while a consumer makes progress (joined its group, polling, its events applied); 0 makes the service unready",
    ["service", "group"],
)
CONSUMER_SECONDS_SINCE_PROGRESS = Gauge(
    "cms_consumer_seconds_since_progress",
    "Seconds since the consumer last completed a poll or applied an event",
    ["service", "group"],
)
TOPIC_PARTITIONS_MISMATCH = Gauge(
    "cms_topic_partitions_mismatch",
    "1 when a topic exists with another partition count than its contract declares and holds events",
    ["service", "topic"],
)


def serve_metrics(port: int | None) -> None:
    if port:
        start_http_server(port)
