"""CRA Case Surveillance: an enforcement case's paying parent watched until a review date. The tables (models.py),
what counts as news on a file (rules.py), starting, rescheduling and reading surveillances (service.py), checking
files and publishing alerts, reviews and stops (flows.py) and the periodic pass as the clock moves (periodic.py)."""
