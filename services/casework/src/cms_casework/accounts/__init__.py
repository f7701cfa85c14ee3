"""The Collect & Pay account: an append-only ledger per paying parent and receiving parent pair, receipts and
their allocation, suspense, the charge and payment runs, and statements (docs/domain/money.md, "The account")."""
