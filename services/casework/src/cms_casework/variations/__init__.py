"""Variations (Part 5 of SI 2012/2677): an application on a special-expenses or additional-income ground, its
preliminary consideration, evidence, the other parent's representations and the decision, which reaches the case as a
VARIATION_AGREED change of circumstances."""
