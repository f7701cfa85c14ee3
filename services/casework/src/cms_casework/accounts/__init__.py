"""STUB: the Collect & Pay account, built in parallel; the integrator replaces this package with the real one."""
