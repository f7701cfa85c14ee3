"""Prometheus metrics shared by every service (exposed on settings.metrics_port when set).

Names follow the Prometheus conventions (base unit in the name, `_total` for counters, `_seconds` for time) under
the `cms_` namespace; the RPC histogram is the Prometheus form of OpenTelemetry's `rpc.server.duration`. The alerts
and dashboards in deploy/components/monitoring use these names (tests/test_monitoring.py checks that they exist),
and docs/slo.md gives the queries. Labels never carry personal data: services, methods, groups, topics, jobs.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

RPC_HANDLED = Counter("cms_rpc_handled_total", "RPCs completed", ["service", "method", "code"])
# Was cms_rpc_duration_seconds{service, method}: renamed when it gained the status code (a latency SLO counts only
# the calls that succeeded, and errors that fail fast would otherwise flatter it).
RPC_DURATION = Histogram(
    "cms_rpc_server_duration_seconds",
    "RPC latency on the server, by method and gRPC status code (OpenTelemetry rpc.server.duration)",
    ["service", "method", "code"],
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
OUTBOX_OLDEST_AGE = Gauge(
    "cms_outbox_oldest_unpublished_age_seconds",
    "Age of the oldest outbox event not yet acknowledged by the broker (0 when none waits); set by each relay pass",
    ["service"],
)
EVENTS_UNHANDLED = Counter(
    "cms_events_unhandled_total",
    "Events of a type no handler of the group takes (ignored)",
    ["service", "group", "type"],
)
EVENTS_CONSUMED = Counter(
    "cms_events_consumed_total", "Events handled by a consumer", ["service", "group", "outcome"]
)
EVENTS_PARKED = Gauge(
    "cms_events_parked",
    "Events a consumer group parked after repeated handler failures and an operator has not yet retried or "
    "discarded (processed_events rows with outcome 'parked')",
    ["service", "group"],
)
CONSUMER_LAG = Gauge(
    "cms_consumer_lag_records",
    "Records on a partition the group has not yet processed: the partition's end offset less the group's "
    "position (its committed offset after each batch)",
    ["service", "group", "topic", "partition"],
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
# `job_name`, not `job`: Prometheus gives every scraped series a `job` label of its own.
JOB_RUNS = Counter(
    "cms_scheduled_job_runs_total",
    "Passes of a background job (cms_platform.scheduling), by outcome: success or failure",
    ["job_name", "outcome"],
)
JOB_LAST_SUCCESS = Gauge(
    "cms_scheduled_job_last_success_timestamp_seconds",
    "Unix time of the job's last successful pass in this process",
    ["job_name"],
)


def serve_metrics(port: int | None) -> None:
    if port:
        start_http_server(port)
