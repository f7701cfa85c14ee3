"""Case surveillance suites need the broker: their events are read back from the topic."""

from __future__ import annotations

import pytest

from cms_cra_gateway.app import CraGatewayService

from ..conftest import Gateway


@pytest.fixture
def cra_with_broker(start_service, creds, kafka_bootstrap):
    service, channel = start_service(
        CraGatewayService,
        db_name="cra-events",
        kafka=kafka_bootstrap,
        population_size=10_000,
        surveillance_check_interval_seconds=0,
    )
    return Gateway(service, channel, creds), kafka_bootstrap
