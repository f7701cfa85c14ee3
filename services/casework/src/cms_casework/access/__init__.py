"""Who may do what in casework, and the audit trail of every read and change of a case."""
