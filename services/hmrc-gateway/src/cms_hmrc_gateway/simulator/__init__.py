"""The simulated HMRC: the only code of this gateway that imports cms_simulation. An adapter implements the HMRC
port over the shared synthetic population (with the simulated system's throttling, maintenance, outages and
latency), and the scenario admin service scripts the people it serves."""
