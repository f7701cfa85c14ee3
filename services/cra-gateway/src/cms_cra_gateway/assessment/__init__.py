"""What a credit file shows an enforcement officer: the pure rules that rank address links and leads, score the file
and assess surveillance findings (rules.py)."""
