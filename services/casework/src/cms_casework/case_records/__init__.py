"""The stored case: its table, loading it for a caller who may see it, and saving it."""
