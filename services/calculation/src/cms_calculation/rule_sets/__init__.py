"""Rule sets as the API publishes them: fetched by name, listed by effective date (their figures are in
engine/rules.py)."""
