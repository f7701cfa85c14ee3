"""Events in: the gateways' feeds become changes of circumstances and service requests on the case."""
