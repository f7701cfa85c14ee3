"""Interests: a case's registration for one of HMRC's feeds on a person, and the feeds they drive (annual and
unearned income updates, RTI current income changes, deduction-from-earnings employer details and employment
changes, Child Benefit end dates), published only while the interest is active."""
