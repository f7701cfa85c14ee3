"""Enforcement of a case's arrears (docs/domain/money.md, "Enforcement")."""
