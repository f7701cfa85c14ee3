"""Prometheus metrics shared by every service (exposed on settings.metrics_port when set)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram, start_http_server

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


def serve_metrics(port: int | None) -> None:
    if port:
        start_http_server(port)
