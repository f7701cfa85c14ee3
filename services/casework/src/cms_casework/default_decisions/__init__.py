"""Asking a paying parent for current income when HMRC holds none, and the default maintenance decision when none
comes in the time allowed (s.12 of the Child Support Act 1991), replaced by a calculation once it arrives."""
