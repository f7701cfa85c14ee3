"""The calculation in force on a case: what the calculation service is given, asked and what it decided."""
