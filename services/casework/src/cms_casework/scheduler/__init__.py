"""Scheduled casework (clock-driven batches)."""
