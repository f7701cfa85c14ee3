"""Calculation decisions: stored (models, service), converted to and from the contract (convert), explained
(statements) and run in bulk across worker processes (bulk)."""
