"""The CMS's business interests on CIS: which case follows which person's benefits, and the broadcasts they
drive."""
