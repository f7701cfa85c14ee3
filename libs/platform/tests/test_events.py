"""Event types declared once, on the contracts (cms_platform.events)."""

from __future__ import annotations

import pytest

from cms.casework.v1 import events_pb2 as casework_events
from cms.common.v1 import types_pb2 as common
from cms.hmrc.v1 import events_pb2 as hmrc_events
from cms_platform import events


def test_an_event_message_declares_its_type_topic_and_source():
    calculated = casework_events.CaseCalculated
    assert events.event_type(calculated) == "uk.gov.cms.casework.case.calculated.v1"
    assert events.event_type(calculated()) == events.event_type(calculated)
    assert events.topic_of(calculated) == "cms.casework.events.v1"
    assert events.source_of(calculated) == "/cms/casework"


def test_every_message_of_an_events_file_is_an_event_with_its_own_type():
    for module in (casework_events, hmrc_events):
        declared = events.declared_in(module)
        assert len(declared) == len(module.DESCRIPTOR.message_types_by_name)
        types = events.by_type(declared)
        assert len(types) == len(declared)
        assert all(t.startswith("uk.gov.cms.") and t.endswith(".v1") for t in types)


def test_a_message_that_is_not_an_event_is_refused():
    with pytest.raises(events.NotAnEvent):
        events.event_type(common.PersonName)
    assert events.declared_in(common) == []


def test_every_topic_has_the_partitions_its_contract_declares_in_the_cluster_definitions():
    """The services create topics locally with the declared count; on Kubernetes Strimzi creates them from
    deploy/platform/kafka-topics.yaml, which must agree, or keys would land on other partitions after a loss."""
    from pathlib import Path

    import yaml

    from cms.calculation.v1 import events_pb2 as calculation
    from cms.casework.v1 import events_pb2 as casework
    from cms.casework.v1 import money_events_pb2 as casework_money
    from cms.casework.v1 import national_runs_pb2 as casework_national_runs
    from cms.cra.v1 import events_pb2 as cra
    from cms.dwp.v1 import events_pb2 as dwp
    from cms.hmrc.v1 import events_pb2 as hmrc

    root = Path(__file__).resolve().parents[3]
    defined = {
        doc["metadata"]["name"]: doc["spec"]["partitions"]
        for doc in yaml.safe_load_all((root / "deploy/platform/kafka-topics.yaml").read_text())
        if doc and doc.get("kind") == "KafkaTopic"
    }
    declared = {}
    for module in (calculation, casework, casework_money, casework_national_runs, cra, dwp, hmrc):
        topic = events.topic_of(events.declared_in(module)[0])
        declared[topic] = events.partitions_of(topic)
    assert declared == defined
    assert set(declared.values()) == {6}
