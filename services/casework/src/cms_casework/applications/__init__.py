"""Applications: the checks a new case goes through, and its first calculation."""
