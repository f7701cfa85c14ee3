"""Payment plans: the schedule of payments issued to both parents after each calculation."""
