"""The simulated external systems' shared parts: the synthetic population HMRC, DWP and the CRA all see
(population), how a simulated system behaves beyond its data (behaviour: throttling, maintenance windows, outages,
latency) and the simulator settings. Only the gateways' simulator adapters import it; no production code path does.
"""
