"""Arrears on a case: missed Collect & Pay payments, arrears agreements and their compliance, Direct Pay missed
payments, Regulation 8 decisions on overpayments and suspended arrears (docs/domain/money.md §8)."""
