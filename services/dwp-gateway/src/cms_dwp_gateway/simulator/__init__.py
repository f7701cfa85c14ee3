"""CIS and Jobcentre Plus simulated over the shared synthetic population: the adapter implementing the DWP port,
the simulated systems' behaviour and state, and the scenario admin service. The only code of the gateway that
imports cms_simulation."""
