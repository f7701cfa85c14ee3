"""Clients: the people on cases, found by NINO, and their safeguards."""
