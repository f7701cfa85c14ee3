"""Disputes: mandatory reconsideration, appeal to the First-tier Tribunal and revision (docs/domain/disputes.md)."""
