"""The liability timeline of a case: effective-dated segments, each change from its own effective date."""
