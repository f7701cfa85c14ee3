"""Correspondence: letters and calls to clients, dispatched at the end of the day."""
