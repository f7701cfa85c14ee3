"""Child Benefit's monthly 16+ check: every month the qualifying children of every case with a child aged 16 or
over go to HMRC, child by child (docs/domain/external-systems.md §1.7)."""
