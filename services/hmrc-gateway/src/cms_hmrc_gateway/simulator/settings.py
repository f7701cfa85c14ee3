"""The simulated gateway's settings: the gateway's own (settings.py) and the simulator's (the synthetic population,
the simulated system's behaviour, the scenario admin service: cms_simulation.settings), under the one prefix
HMRC_GATEWAY_."""

from __future__ import annotations

from cms_platform.settings import prefixed
from cms_simulation.settings import SimulatorSettings

from ..settings import HmrcGatewaySettings


class SimulatedHmrcSettings(HmrcGatewaySettings, SimulatorSettings):
    model_config = prefixed("HMRC_GATEWAY_")
