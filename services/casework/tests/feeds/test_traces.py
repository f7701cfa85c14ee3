"""One trace from a CIS broadcast to the recalculation it causes and the CaseCalculated event that announces it
(docs/architecture.md, "Traces"): dwp-gateway's scenario call, its BenefitInformationChanged, casework's feed consumer,
the feed pass that applies the change later (in a background thread, from the stored context), the calls it makes and
the event it publishes. The spans are the services' own, collected in memory; the event's header is read back from the
topic as an outside consumer reads it."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from cms.casework.v1 import resources_pb2 as pb
from cms.dwp.v1 import events_pb2 as dwp_ev
from cms_devkit.testing import read_topic, wait_until
from cms_platform import events, telemetry

from ..conftest import events_of

BROADCAST = dwp_ev.BenefitInformationChanged


@pytest.fixture
def spans():
    telemetry.configure_tracing("casework-tests")
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        pytest.skip("another tracer provider is installed")
    exporter = InMemorySpanExporter()
    telemetry.export_spans(exporter, batch=False)
    yield exporter
    exporter.shutdown()


def trace_of(record) -> str:
    """The trace id (hex) of a Kafka record's W3C `traceparent` header."""
    traceparent = dict(record.headers).get("traceparent", b"").decode()
    assert traceparent, f"no traceparent on {dict(record.headers)}"
    return traceparent.split("-")[1]


def test_a_cis_broadcast_its_recalculation_and_case_calculated_are_one_trace(spans, stack):
    case = stack.new_live_case()
    stack.award_jsa()
    held = stack.recalculated(case)
    assert held.latest_calculation.reason == pb.CALCULATION_REASON_CHANGE_OF_CIRCUMSTANCES

    finished = spans.get_finished_spans()
    [award] = [
        s
        for s in finished
        if s.name.endswith("/StartBenefitAward") and s.kind == trace.SpanKind.SERVER
    ]
    broadcast_trace = format(award.context.trace_id, "032x")
    # The broadcast carries the scenario call's trace.
    # (Read again until found: the session's topics hold every earlier test's events too.)
    broadcasts = wait_until(
        lambda: [
            r
            for r in read_topic(stack.bootstrap, events.topic_of(BROADCAST), expected=1)
            if dict(r.headers).get("ce_type") == events.event_type(BROADCAST).encode()
            and BROADCAST.FromString(r.value).case_id == case.name.removeprefix("cases/")
        ],
        timeout=90,
        what="the broadcast on its topic",
    )
    assert {trace_of(r) for r in broadcasts} == {broadcast_trace}
    # The recalculation's CaseCalculated (after the first calculation's) carries it on.
    calculated = wait_until(
        lambda: (
            found if len(found := events_of(stack, case.name, "case.calculated")) >= 2 else None
        ),
        timeout=90,
        what="both CaseCalculated events on the topic",
    )
    assert len(calculated) == 2
    assert trace_of(calculated[-1]) == broadcast_trace
    assert trace_of(calculated[0]) != broadcast_trace

    in_trace = [s for s in finished if s.context.trace_id == award.context.trace_id]
    names = {s.name for s in in_trace}
    # The consumer's span, the feed pass's span and the calculation service's server span are all in it.
    assert f"{events.event_type(BROADCAST)} process" in names, names
    [applied] = [s for s in in_trace if s.name == "casework-feed-changes apply"]
    assert applied.parent is not None and applied.links
    assert any(
        s.kind == trace.SpanKind.SERVER and "CalculationService" in s.name for s in in_trace
    ), names
