"""The settings cra-gateway runs with while its agency is simulated: the gateway's own (settings.py) and the
simulator's (cms_simulation.settings: population, simulated-system behaviour, scenario admin), under the one env
prefix CRA_GATEWAY_."""

from cms_platform.settings import prefixed
from cms_simulation.settings import SimulatorSettings

from ..settings import CraGatewaySettings


class CraGatewaySimulatorSettings(CraGatewaySettings, SimulatorSettings):
    model_config = prefixed("CRA_GATEWAY_")
