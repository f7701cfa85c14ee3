"""The simulated gateway's settings: dwp-gateway's own, the simulator's (population, behaviour, scenario admin) and
how the simulated Jobcentre Plus runs its batches. One env prefix, DWP_GATEWAY_, for all of them."""

from __future__ import annotations

from cms_platform.settings import prefixed
from cms_simulation.settings import SimulatorSettings

from ..settings import DwpGatewaySettings


class SimulatedDwpGatewaySettings(DwpGatewaySettings, SimulatorSettings):
    model_config = prefixed("DWP_GATEWAY_")

    # JCP decides automated and interface instructions in batch windows: this long after submission (0: at the
    # next batch run).
    jcp_decision_delay_hours: float = 0.0
