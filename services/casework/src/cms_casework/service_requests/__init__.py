"""Service requests: the work items raised on a case and progressed through their statuses."""
