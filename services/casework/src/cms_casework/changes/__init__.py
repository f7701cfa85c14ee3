"""Changes of circumstances: what each type needs, the order they are applied in, and the checks before applying."""
