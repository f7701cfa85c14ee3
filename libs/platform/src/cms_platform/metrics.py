"""Metrics shared by every service: scraped by Prometheus on settings.metrics_port when set, and pushed over OTLP to an
OpenTelemetry Collector when OTEL_EXPORTER_OTLP_ENDPOINT is set (export_metrics; deploy/components/otel).

Names follow the Prometheus conventions (base unit in the name, `_total` for counters, `_seconds` for time) under
the `cms_` namespace; the RPC histogram is the Prometheus form of OpenTelemetry's `rpc.server.duration`. Each metric
is recorded twice, in prometheus_client for the scrape and on an OpenTelemetry instrument of the same name (a
counter's without `_total`, which the Collector's Prometheus exporter adds back), so the alerts and dashboards in
deploy/components/monitoring read the same series whichever way they travel (tests/test_monitoring.py checks that
the names they use exist). Labels never carry personal data: services, methods, groups, topics, jobs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from opentelemetry import metrics as otel
from prometheus_client import Counter, Gauge, Histogram, start_http_server

_meter = otel.get_meter(
    "cms"
)  # a proxy until export_metrics sets a provider: records nothing until then

Record = Callable[[float, Mapping[str, str]], None]


class _Child:
    """One labelled series: prometheus_client's child and the OpenTelemetry instrument, with its attributes."""

    __slots__ = ("_attributes", "_prom", "_record")

    def __init__(self, prom: Any, record: Record, attributes: Mapping[str, str]):
        self._prom, self._record, self._attributes = prom, record, attributes

    def inc(self, amount: float = 1) -> None:
        self._prom.inc(amount)
        self._record(amount, self._attributes)

    def set(self, value: float) -> None:
        self._prom.set(value)
        self._record(value, self._attributes)

    def set_to_current_time(self) -> None:
        self.set(time.time())

    def observe(self, value: float) -> None:
        self._prom.observe(value)
        self._record(value, self._attributes)

    def __getattr__(self, name: str) -> Any:
        return getattr(
            self._prom, name
        )  # the rest of prometheus_client's child (its value, for tests)


class Metric:
    """A metric as the call sites use prometheus_client's (`labels(...).inc()`, `.set()`, `.observe()`), recorded on
    both sides. `collect()` and `remove()` are the scrape side's."""

    def __init__(self, prom: Any, record: Record, labelnames: Sequence[str]):
        self._prom, self._record, self._labelnames = prom, record, tuple(labelnames)
        self._unlabelled = None if labelnames else _Child(prom, record, {})
        # One child per label values, made once: every RPC records two series, and prometheus_client's own lookup
        # (a lock and a label check) and the attributes dict cost more than the increment. Label values are
        # bounded by design (services, methods, codes, groups, topics), so the cache is too.
        self._children: dict[tuple[str, ...], _Child] = {}

    def labels(self, *values: str) -> _Child:
        child = self._children.get(values)
        if child is None:
            child = _Child(
                self._prom.labels(*values),
                self._record,
                dict(zip(self._labelnames, values, strict=True)),
            )
            self._children[values] = child
        return child

    def remove(self, *values: str) -> None:
        self._children.pop(values, None)
        self._prom.remove(*values)

    def clear(self) -> None:
        self._children.clear()
        self._prom.clear()

    def collect(self) -> Any:
        return self._prom.collect()

    def _child(self) -> _Child:
        if self._unlabelled is None:
            raise ValueError("a labelled metric: call labels() first")
        return self._unlabelled

    def inc(self, amount: float = 1) -> None:
        self._child().inc(amount)

    def set(self, value: float) -> None:
        self._child().set(value)

    def observe(self, value: float) -> None:
        self._child().observe(value)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._prom, name)  # the rest of prometheus_client's metric


def _unit(name: str) -> str:
    return "s" if name.endswith("_seconds") else ""


def counter(name: str, documentation: str, labelnames: Sequence[str] = ()) -> Metric:
    base = name.removesuffix("_total")
    instrument = _meter.create_counter(base, unit=_unit(base), description=documentation)
    return Metric(Counter(name, documentation, labelnames), instrument.add, labelnames)


def gauge(name: str, documentation: str, labelnames: Sequence[str] = ()) -> Metric:
    instrument = _meter.create_gauge(name, unit=_unit(name), description=documentation)
    return Metric(Gauge(name, documentation, labelnames), instrument.set, labelnames)


def histogram(
    name: str, documentation: str, labelnames: Sequence[str] = (), *, buckets: Iterable[float]
) -> Metric:
    bounds = tuple(buckets)
    instrument = _meter.create_histogram(
        name,
        unit=_unit(name),
        description=documentation,
        explicit_bucket_boundaries_advisory=list(bounds),
    )
    return Metric(
        Histogram(name, documentation, labelnames, buckets=bounds), instrument.record, labelnames
    )


RPC_HANDLED = counter("cms_rpc_handled_total", "RPCs completed", ["service", "method", "code"])
# Was cms_rpc_duration_seconds{service, method}: renamed when it gained the status code (a latency SLO counts only
# the calls that succeeded, and errors that fail fast would otherwise flatter it).
RPC_DURATION = histogram(
    "cms_rpc_server_duration_seconds",
    "RPC latency on the server, by method and gRPC status code (OpenTelemetry rpc.server.duration)",
    ["service", "method", "code"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
OUTBOX_PUBLISHED = counter(
    "cms_outbox_published_total", "Events relayed from the outbox to Kafka", ["service"]
)
OUTBOX_BACKLOG = histogram(
    "cms_outbox_batch_size",
    "Rows claimed per relay pass",
    ["service"],
    buckets=(0, 1, 10, 100, 500, 1000),
)
OUTBOX_OLDEST_AGE = gauge(
    "cms_outbox_oldest_unpublished_age_seconds",
    "Age of the oldest outbox event not yet acknowledged by the broker (0 when none waits); set by each relay pass",
    ["service"],
)
EVENTS_UNHANDLED = counter(
    "cms_events_unhandled_total",
    "Events of a type no handler of the group takes (ignored)",
    ["service", "group", "type"],
)
EVENTS_CONSUMED = counter(
    "cms_events_consumed_total", "Events handled by a consumer", ["service", "group", "outcome"]
)
EVENTS_PARKED = gauge(
    "cms_events_parked",
    "Events a consumer group parked after repeated handler failures and an operator has not yet retried or "
    "discarded (processed_events rows with outcome 'parked')",
    ["service", "group"],
)
CONSUMER_LAG = gauge(
    "cms_consumer_lag_records",
    "Records on a partition the group has not yet processed: the partition's end offset less the group's "
    "position (its committed offset after each batch)",
    ["service", "group", "topic", "partition"],
)

BROKER_DATA_LOST = counter(
    "cms_broker_data_lost_total",
    "Times the outbox relay found the broker had lost events it published (it re-publishes them)",
    ["service", "reason"],
)
OUTBOX_REPUBLISHED = counter(
    "cms_outbox_republished_total",
    "Events queued to be published again because the broker lost them",
    ["service"],
)
CONSUMER_RESETS = counter(
    "cms_consumer_resets_total",
    "Times a consumer left and rejoined its group or read a partition again from the start",
    ["service", "group", "reason"],
)
CONSUMER_HEALTHY = gauge(
    "cms_consumer_healthy",
    "1 while a consumer makes progress (joined its group, polling, its events applied); 0 makes the service unready",
    ["service", "group"],
)
CONSUMER_SECONDS_SINCE_PROGRESS = gauge(
    "cms_consumer_seconds_since_progress",
    "Seconds since the consumer last completed a poll or applied an event",
    ["service", "group"],
)
TOPIC_PARTITIONS_MISMATCH = gauge(
    "cms_topic_partitions_mismatch",
    "1 when a topic exists with another partition count than its contract declares and holds events",
    ["service", "topic"],
)
# `job_name`, not `job`: Prometheus gives every scraped series a `job` label of its own.
JOB_RUNS = counter(
    "cms_scheduled_job_runs_total",
    "Passes of a background job (cms_platform.scheduling), by outcome: success or failure",
    ["job_name", "outcome"],
)
JOB_LAST_SUCCESS = gauge(
    "cms_scheduled_job_last_success_timestamp_seconds",
    "Unix time of the job's last successful pass in this process",
    ["job_name"],
)


def serve_metrics(port: int | None) -> None:
    if port:
        start_http_server(port)


def export_metrics(service: str, environ: Mapping[str, str] = os.environ) -> Any:
    """Push the metrics over OTLP when the standard variables ask for it: OTEL_EXPORTER_OTLP_(METRICS_)ENDPOINT set
    and OTEL_METRICS_EXPORTER (default `otlp`) naming otlp; OTEL_EXPORTER_OTLP_(METRICS_)PROTOCOL `grpc` (our
    default, the Collector's :4317) or `http/protobuf` (:4318). The exporters read the rest themselves (headers,
    timeout, certificates, OTEL_METRIC_EXPORT_INTERVAL). Returns the MeterProvider, or None when nothing is exported.
    Separate from telemetry.configure_tracing, which does the same for spans."""
    endpoint = environ.get("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT") or environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    exporters = {e.strip() for e in environ.get("OTEL_METRICS_EXPORTER", "otlp").split(",")}
    if not endpoint or "otlp" not in exporters:
        return None
    protocol = (
        environ.get("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL")
        or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "grpc"
    )
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import MetricExporter, PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource

    exporter: MetricExporter
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter

        exporter = OTLPMetricExporter()
    elif protocol == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
            OTLPMetricExporter as OTLPHttpMetricExporter,
        )

        exporter = OTLPHttpMetricExporter()
    else:
        raise ValueError(f"OTEL_EXPORTER_OTLP_PROTOCOL {protocol!r}: use grpc or http/protobuf")
    resource = Resource.create(
        {"service.name": environ.get("OTEL_SERVICE_NAME", service), "service.namespace": "cms"}
    )
    provider = MeterProvider(
        resource=resource, metric_readers=[PeriodicExportingMetricReader(exporter)]
    )
    otel.set_meter_provider(provider)
    return provider
