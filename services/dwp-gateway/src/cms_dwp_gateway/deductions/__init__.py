"""Deductions from benefit (DFB): set-up by the automated, interface and non-automated routes, Jobcentre Plus's
and the benefit offices' decisions, changes, cancellation, and the printable request form."""
