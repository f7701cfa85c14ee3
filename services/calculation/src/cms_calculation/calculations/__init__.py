"""Stored calculation decisions: models, service functions, proto conversion and the gRPC servicer."""
