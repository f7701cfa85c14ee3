"""Third parties: organisations acting for themselves (an employer, a bank, a court)."""
