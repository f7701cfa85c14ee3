"""Development and test tooling: a real broker and databases on a bare machine (infra) and the pytest plugin every
suite uses (testing). A dev/test dependency only; no service image contains it."""
