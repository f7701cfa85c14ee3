"""Consumer session settings that an Apache Kafka broker accepts (docs/architecture.md, "Topics and events")."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cms_platform.settings import ServiceSettings


def test_the_default_session_is_the_shortest_apache_kafka_accepts_with_a_heartbeat_a_third_of_it():
    s = ServiceSettings()
    assert (s.consumer_session_timeout_ms, s.consumer_heartbeat_interval_ms) == (6_000, 2_000)


@pytest.mark.parametrize(
    ("session", "heartbeat"),
    [
        (4_000, 1_000),  # under group.min.session.timeout.ms: a Kafka broker refuses the join
        (6_000, 3_000),  # a heartbeat over a third of the session
        (10_000, 0),
    ],
)
def test_session_settings_a_broker_would_refuse_or_that_lose_the_group_do_not_start(
    session, heartbeat
):
    with pytest.raises(ValidationError):
        ServiceSettings(
            consumer_session_timeout_ms=session, consumer_heartbeat_interval_ms=heartbeat
        )


def test_a_longer_session_with_its_heartbeat_is_accepted():
    s = ServiceSettings(consumer_session_timeout_ms=45_000, consumer_heartbeat_interval_ms=15_000)
    assert s.consumer_session_timeout_ms == 45_000
