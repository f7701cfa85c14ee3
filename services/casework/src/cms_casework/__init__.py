"""casework: where a case lives; it orchestrates the gateways and the calculation."""
