"""The end of Direct Pay (docs/domain/money.md, "The end of Direct Pay"): the reform what-if and the migration run."""
