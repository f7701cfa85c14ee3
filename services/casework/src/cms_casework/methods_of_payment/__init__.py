"""Methods of payment (docs/domain/money.md §9): deduction orders (DEO, DER), deductions from benefit, direct debits
and standing orders, and the case's current method of payment from the paying parent they set."""
